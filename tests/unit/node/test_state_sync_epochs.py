"""State sync across an epoch boundary: a follower trusts only genesis, and reaches the next
epoch through a verified epoch-change proof; forged next-epoch sets are refused.

The chain: genesis with validators v0, v1 (epoch 1); one block in which Diem Root adds a
third validator by governance (ends epoch 1); one block of epoch 2 signed by all three.
Peers talk through an in-process wire (state sync's own messages, no sockets).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))

from epoch_chain import CHAIN_ID, Key, Source, sign  # noqa: E402

from libra.client.verifier import VerificationError  # noqa: E402
from libra.node.ledger import Ledger  # noqa: E402
from libra.node.state_sync import (  # noqa: E402
    EpochChangeRequest,
    EpochChangeResponse,
    StateSync,
    decode_message,
    epoch_ending_target,
)
from libra.node.validator import current_epoch_state  # noqa: E402
from libra.storage.libradb import LibraDB  # noqa: E402
from libra.types.ledger import (  # noqa: E402
    EpochState,
    ValidatorConsensusInfo,
    ValidatorVerifier,
)
from libra.types.move import AccountAddress  # noqa: E402
from libra.types.proof import EpochChangeProof  # noqa: E402

SERVER, FOLLOWER = AccountAddress(b"\x01" * 16), AccountAddress(b"\x02" * 16)


class Wire:
    """Delivers each node's sends straight to the other node's handler."""

    def __init__(self) -> None:
        self.handlers: dict[AccountAddress, Callable[[AccountAddress, bytes], None]] = {}
        self.tamper: Callable[[bytes], bytes] = lambda payload: payload

    def network(self, me: AccountAddress) -> FakeNetwork:
        return FakeNetwork(self, me)


class FakeNetwork:
    def __init__(self, wire: Wire, me: AccountAddress) -> None:
        self.wire, self.me = wire, me

    def register(self, protocol: object, handler: Callable[[AccountAddress, bytes], None]) -> None:
        self.wire.handlers[self.me] = handler

    def send(self, peer: AccountAddress, protocol: object, payload: bytes) -> bool:
        if self.me == SERVER:
            payload = self.wire.tamper(payload)
        self.wire.handlers[peer](self.me, payload)
        return True

    def connected_peers(self) -> frozenset[AccountAddress]:
        return frozenset(p for p in self.wire.handlers if p != self.me)


@pytest.fixture(scope="module")
def source() -> Source:
    return Source()


def pair(source: Source, loop: asyncio.AbstractEventLoop) -> tuple[Wire, StateSync, Ledger]:
    wire = Wire()
    StateSync(source.ledger, wire.network(SERVER), loop)  # type: ignore[arg-type]
    follower = Ledger(LibraDB.in_memory(), CHAIN_ID)
    follower.bootstrap(source.chain.genesis.transaction)
    return wire, StateSync(follower, wire.network(FOLLOWER), loop), follower  # type: ignore[arg-type]


def test_a_follower_crosses_the_epoch_with_a_verified_proof(source: Source, loop) -> None:
    _, sync, follower = pair(source, loop)
    assert current_epoch_state(follower).epoch == 1
    steps = 0
    while (committed := sync.follow(SERVER, current_epoch_state(follower))) is not None:
        assert committed
        steps += 1
    assert steps >= 2  # one step to the end of epoch 1, one inside epoch 2
    assert follower.db.next_version == source.ledger.db.next_version
    assert follower.snapshot().ledger_info == source.ledger.snapshot().ledger_info
    assert follower.db.get_epoch_ending_ledger_info(1) == source.epoch_end
    state = current_epoch_state(follower)
    assert state.epoch == 2 and source.newcomer.address in dict(state.verifier.validators)
    assert follower.db.get_state_root(follower.db.next_version - 1) == source.ledger.db.get_state_root(
        source.ledger.db.next_version - 1
    )


def test_epoch_change_requests_are_answered_with_the_stored_proof(source: Source, loop) -> None:
    wire, _, _ = pair(source, loop)
    server = StateSync(source.ledger, wire.network(SERVER), loop)  # type: ignore[arg-type]
    answer = server.serve_epoch_change(EpochChangeRequest(7, 1))
    assert answer is not None and answer.proof.ledger_info_with_sigs == (source.epoch_end,)
    assert decode_message(answer.to_bcs()) == answer
    nothing_newer = server.serve_epoch_change(EpochChangeRequest(8, 2))
    assert nothing_newer is not None and nothing_newer.proof.ledger_info_with_sigs == ()


def forged_sets(source: Source) -> list[tuple[str, EpochChangeProof, str]]:
    genuine = source.epoch_end
    info = genuine.ledger_info
    next_state = info.next_epoch_state
    assert next_state is not None
    intruder = Key.from_seed("intruder")
    members = dict(next_state.verifier.validators)
    members[source.newcomer.address] = ValidatorConsensusInfo(intruder.public, 1)
    swapped_key = EpochState(next_state.epoch, ValidatorVerifier.from_validators(members))
    swapped = replace(info, commit_info=replace(info.commit_info, next_epoch_state=swapped_key))
    self_signed = sign(swapped, [intruder])
    return [
        ("a next set with another key, genuine signatures", EpochChangeProof((replace(genuine, ledger_info=swapped),)),
         "bad signature"),
        ("a next set signed by the intruder", EpochChangeProof((self_signed,)), "unknown validator"),
        ("one of two genuine signatures", EpochChangeProof((replace(genuine, signatures=genuine.signatures[:1]),)),
         "quorum not reached"),
        ("a proof that skips the trusted epoch", EpochChangeProof((replace(genuine, ledger_info=replace(
            info, commit_info=replace(info.commit_info, epoch=2))),)), "expected 1"),
    ]


def test_forged_next_epoch_sets_are_refused(source: Source) -> None:
    trusted = current_epoch_state_of_genesis(source)
    assert epoch_ending_target(EpochChangeProof((source.epoch_end,)), trusted) == source.epoch_end
    for what, proof, message in forged_sets(source):
        with pytest.raises(VerificationError, match=message):
            epoch_ending_target(proof, trusted)
            pytest.fail(what)


def test_a_lying_server_makes_the_follower_write_nothing(source: Source, loop) -> None:
    wire, sync, follower = pair(source, loop)
    forged = forged_sets(source)[0][1]

    def lie(payload: bytes) -> bytes:
        message = decode_message(payload)
        if isinstance(message, EpochChangeResponse):
            return EpochChangeResponse(message.request_id, forged).to_bcs()
        return payload

    wire.tamper = lie
    with pytest.raises(VerificationError, match="bad signature"):
        sync.follow(SERVER, current_epoch_state(follower))  # the server's latest is in epoch 2
    assert current_epoch_state(follower).epoch == 1
    assert follower.db.next_version == 1  # genesis only


def current_epoch_state_of_genesis(source: Source) -> EpochState:
    genesis = source.ledger.db.get_epoch_ending_ledger_info(0).ledger_info.next_epoch_state
    assert genesis is not None
    return genesis

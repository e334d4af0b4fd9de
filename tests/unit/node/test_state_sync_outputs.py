"""State sync applies verified outputs instead of re-executing: the same ledger, and lies refused."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest

from libra.client import builders
from libra.client.verifier import VerificationError
from libra.crypto.auth import compute_address, compute_auth_key
from libra.crypto.ed25519 import Ed25519PrivateKey
from libra.crypto.hashing import hash_with_salt
from libra.node.genesis import ValidatorIdentity, write_genesis
from libra.node.ledger import Ledger, LedgerError
from libra.node.state_sync import LATEST, ChunkRequest, ChunkResponse, StateSync, decode_message, split_blocks
from libra.storage.libradb import LibraDB
from libra.types.ledger import LedgerInfo, LedgerInfoWithSignatures
from libra.types.move import TESTNET_DD_ADDRESS, TREASURY_COMPLIANCE_ADDRESS, AccountAddress
from libra.types.transaction import BlockMetadata
from libra.types.write_set import WriteSet

CHAIN_ID = 2


class _NoNetwork:
    def register(self, protocol: object, handler: object) -> None:
        pass


def _unsigned(info: LedgerInfo) -> LedgerInfoWithSignatures:
    return LedgerInfoWithSignatures(info, ())


@pytest.fixture
def ledgers(tmp_path: Path):
    """A source ledger with a few blocks of payments and an empty follower from the same genesis."""
    keys = {name: Ed25519PrivateKey.generate() for name in ("root", "tc", "dd", "validator")}
    identity = ValidatorIdentity("v0", keys["validator"].public_key().to_bytes(), bytes(32), "127.0.0.1:1")
    genesis = write_genesis(
        tmp_path / "genesis.bcs", chain_id=CHAIN_ID,
        diem_root_public_key=keys["root"].public_key().to_bytes(),
        treasury_compliance_public_key=keys["tc"].public_key().to_bytes(),
        designated_dealer_public_key=keys["dd"].public_key().to_bytes(),
        validators=[identity],
    )
    source, follower = (Ledger(LibraDB.open(tmp_path / name), CHAIN_ID) for name in ("source", "follower"))
    for ledger in (source, follower):
        ledger.bootstrap(genesis)
    expiration = int(time.time()) + 3600
    vasp_auth = compute_auth_key(Ed25519PrivateKey.generate().public_key())
    vasp = AccountAddress(compute_address(vasp_auth))
    blocks = [
        [
            builders.sign_transaction(
                keys["tc"], TREASURY_COMPLIANCE_ADDRESS, 0,
                builders.create_parent_vasp_account("XUS", 0, vasp, vasp_auth[:16], b"vasp"),
                chain_id=CHAIN_ID, expiration_timestamp_secs=expiration,
            ).transaction,
        ],
        [
            builders.sign_transaction(
                keys["dd"], TESTNET_DD_ADDRESS, seq, builders.peer_to_peer_with_metadata("XUS", vasp, 1000 + seq),
                chain_id=CHAIN_ID, expiration_timestamp_secs=expiration,
            ).transaction
            for seq in range(5)
        ],
    ]
    timestamp = time.time_ns() // 1000
    for round_, txns in enumerate(blocks, start=1):
        metadata = BlockMetadata(
            hash_with_salt("BlockData", round_.to_bytes(8, "little")), round_, timestamp + round_, (),
            identity.account_address,
        )
        committed = source.execute_and_commit(metadata, txns, _unsigned)
        assert all(t.status == "executed" for t in committed.transactions)
    yield source, follower
    source.db.close()
    follower.db.close()


def _chunk(source: Ledger, start: int) -> ChunkResponse:
    response = StateSync(source, _NoNetwork(), None).serve(ChunkRequest(1, start, LATEST, 500))  # type: ignore[arg-type]
    assert response is not None
    decoded = decode_message(response.to_bcs())
    assert decoded == response
    return response


def test_follower_applies_outputs_and_reaches_the_same_ledger(ledgers) -> None:
    source, follower = ledgers
    response = _chunk(source, follower.db.next_version)
    latest = response.ledger_info
    assert latest is not None
    blocks = StateSync(follower, _NoNetwork(), None).apply(response, latest)  # type: ignore[arg-type]
    assert [len(b.transactions) for b in blocks] == [1, 5]
    assert all(t.status == "executed" for b in blocks for t in b.transactions)
    assert follower.db.next_version == source.db.next_version
    tip = source.db.next_version - 1
    assert follower.db.get_accumulator_root(tip) == source.db.get_accumulator_root(tip)
    assert follower.db.get_state_root(tip) == source.db.get_state_root(tip)
    assert follower.db.get_latest_ledger_info() == latest


def _with_changed_write_set(response: ChunkResponse, index: int) -> ChunkResponse:
    """The chunk with one write op's value altered (a peer lying about a balance)."""
    write_set = WriteSet.from_bcs(response.write_sets[index])
    (path, op), *rest = write_set.entries
    value = op.value or b""
    forged = WriteSet(((path, dataclasses.replace(op, value=value[:-1] + bytes([value[-1] ^ 1]))), *rest))
    write_sets = list(response.write_sets)
    write_sets[index] = forged.to_bcs()
    return dataclasses.replace(response, write_sets=tuple(write_sets))


def test_forged_outputs_are_refused_and_nothing_is_written(ledgers) -> None:
    source, follower = ledgers
    start = follower.db.next_version
    response = _chunk(source, start)
    latest = response.ledger_info
    sync = StateSync(follower, _NoNetwork(), None)  # type: ignore[arg-type]
    listing = response.listing
    user_index = next(i for i, data in enumerate(listing.transactions) if data[0] == 0)  # a user transaction
    events = [list(e) for e in listing.events]
    events[-1] = events[-1][:-1]  # an event dropped
    forgeries = {
        "write set": _with_changed_write_set(response, user_index),
        "events": dataclasses.replace(
            response, listing=dataclasses.replace(listing, events=tuple(tuple(e) for e in events))
        ),
        "missing write sets": dataclasses.replace(response, write_sets=response.write_sets[:-1]),
    }
    for name, forged in forgeries.items():
        with pytest.raises((LedgerError, VerificationError)):
            sync.apply(forged, latest)
        assert follower.db.next_version == start, name
    # the honest chunk still applies afterwards
    sync.apply(response, latest)
    assert follower.db.next_version == source.db.next_version



def test_certify_tip_stores_a_missing_certificate_once_and_only_at_our_tip(ledgers) -> None:
    source, follower = ledgers
    start = follower.db.next_version
    response = _chunk(source, start)
    latest = response.ledger_info
    assert latest is not None
    listing = response.listing
    blocks = split_blocks(start, listing.transactions)
    first = blocks[0]
    end = first.first_version - start + 1 + len(first.transactions)
    # the first block written without its certificate, as a crash between commits leaves it
    speculative = follower.apply_outputs(
        first.first_version, listing.transactions[:end], listing.proof.transaction_infos[:end],
        response.write_sets[:end], listing.events[:end],
    )
    follower.commit(speculative, None)
    assert not follower.certify_tip(latest)  # not our tip: the source has more blocks
    for block in blocks[1:]:
        offset = block.first_version - start
        stop = offset + 1 + len(block.transactions)
        follower.commit(
            follower.apply_outputs(
                block.first_version, listing.transactions[offset:stop], listing.proof.transaction_infos[offset:stop],
                response.write_sets[offset:stop], listing.events[offset:stop],
            ),
            None,
        )
    assert follower.db.get_latest_ledger_info().ledger_info.version < latest.ledger_info.version
    assert follower.certify_tip(latest)
    assert follower.db.get_latest_ledger_info() == latest
    assert not follower.certify_tip(latest)  # stored once

"""Valid encodings to fuzz from, built once per process from real code paths.

* :func:`chain` – a one-validator node (``NodeRuntime`` over RocksDB in a temporary folder,
  no network) with blocks of real payments, account creations and metadata-carrying
  transfers committed by ``Ledger.execute_and_commit``: its transactions are the signed
  transaction seeds, its state-sync answers (``StateSync.serve``) the chunk seeds, and its
  JSON-RPC backend answers the fuzzed requests.
* :func:`consensus_messages` – every message four real consensus cores exchange in Twins
  scenarios (a twin, partitions, restarts, an epoch change): proposals, votes, timeouts,
  sync infos, block retrievals, epoch-change proofs; proposals also with real payments.
"""

from __future__ import annotations

import atexit
import dataclasses
import functools
import random
import shutil
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from libra.client import builders
from libra.client.loadgen import Sender
from libra.consensus.actions import FetchBlocks, Message
from libra.consensus.twins import Simulation, generate_scenario
from libra.crypto.ed25519 import Ed25519PrivateKey, load_private_key
from libra.crypto.hashing import hash_with_salt
from libra.node.config import load_config
from libra.node.localnet import LocalnetSpec, prepare
from libra.node.runtime import NodeRuntime
from libra.node.state_sync import LATEST, ChunkRequest, EpochChangeRequest, StateSync
from libra.types.consensus import (
    BlockRetrievalRequest,
    BlockRetrievalResponse,
    EpochChangeProof,
    EpochRetrievalRequest,
    ProposalMsg,
    encode_consensus_msg,
)
from libra.types.move import (
    TESTNET_DD_ADDRESS,
    TREASURY_COMPLIANCE_ADDRESS,
    AccountAddress,
    PrimitiveTag,
    StructTag,
)
from libra.types.transaction import (
    AddressArg,
    BlockMetadata,
    BoolArg,
    Ed25519Authenticator,
    Module,
    MultiAgentAuthenticator,
    MultiEd25519Authenticator,
    RawTransaction,
    Script,
    SignedTransaction,
    U8Arg,
    U8VectorArg,
    U64Arg,
    U128Arg,
)

CHAIN_ID = 2
PER_KIND = 40  # consensus seeds kept per message type
PER_SCENARIO = 3  # of which from one Twins scenario (messages of many scenarios differ more)


class _NoNetwork:
    """State sync serves without a network here (answers are returned, not sent)."""

    def register(self, protocol: object, handler: object) -> None:
        return None


@dataclass
class Chain:
    runtime: NodeRuntime
    transactions: list[bytes]  # signed user transactions as committed
    stored: list[bytes]  # every stored transaction (Transaction enum: genesis, metadata, user)
    accounts: list[AccountAddress]
    event_keys: list[bytes]
    senders: list[tuple[Ed25519PrivateKey, AccountAddress, int]]  # key, address, next sequence number

    @property
    def version(self) -> int:
        return self.runtime.ledger.db.next_version - 1


@functools.cache
def chain() -> Chain:
    folder = Path(tempfile.mkdtemp(prefix="libra-fuzz-"))
    atexit.register(shutil.rmtree, folder, True)
    (plan,) = prepare(LocalnetSpec(folder, validators=1, full_nodes=0))
    runtime = NodeRuntime(load_config(plan.config_path))
    atexit.register(runtime.db.close)
    identity = runtime.identity
    assert identity is not None
    tc = load_private_key(folder / "keys" / "treasury_compliance.key")
    dd = load_private_key(folder / "keys" / "designated_dealer.key")
    expiration = int(time.time()) + 86_400
    rng = random.Random(5)
    committed: list[bytes] = []
    round_ = [0]

    def commit(submissions: list[builders.SignedSubmission]) -> None:
        round_[0] += 1
        snapshot = runtime.ledger.snapshot()
        metadata = BlockMetadata(
            hash_with_salt("BlockData", round_[0].to_bytes(8, "little")), round_[0],
            max(snapshot.timestamp_usecs + 1, time.time_ns() // 1000), (identity.address,), identity.address,
        )
        block = runtime.ledger.execute_and_commit(
            metadata, [s.transaction for s in submissions], identity.sign_ledger_info
        )
        assert all(t.status == "executed" for t in block.transactions), [t.status for t in block.transactions]
        committed.extend(s.bcs for s in submissions)

    def sign(key: Ed25519PrivateKey, sender: AccountAddress, seq: int, payload: object) -> builders.SignedSubmission:
        return builders.sign_transaction(key, sender, seq, payload, chain_id=CHAIN_ID,  # type: ignore[arg-type]
                                         expiration_timestamp_secs=expiration)

    parents = [Sender.generate() for _ in range(3)]
    commit([sign(tc, TREASURY_COMPLIANCE_ADDRESS, i, builders.create_parent_vasp_account(
        "XUS", 0, p.address, p.auth_key[:16], f"vasp{i}".encode())) for i, p in enumerate(parents)])
    commit([sign(dd, TESTNET_DD_ADDRESS, i, builders.peer_to_peer_with_metadata("XUS", p.address, 10**12))
            for i, p in enumerate(parents)])
    children = [Sender.generate() for _ in range(4)]
    commit([sign(parents[0].key, parents[0].address, i, builders.create_child_vasp_account(
        "XUS", c.address, c.auth_key[:16], False, 10**9)) for i, c in enumerate(children)])
    seq = {p.address: 0 for p in parents} | {c.address: 0 for c in children}
    seq[parents[0].address] = len(children)
    everyone = parents + children
    for _ in range(4):
        block = []
        for sender in rng.sample(everyone, 5):
            receiver = rng.choice([s for s in everyone if s is not sender])
            metadata = rng.choice((b"", b"\x01\x00" + rng.randbytes(8), b"\x02\x00\x01" + rng.randbytes(16)))
            block.append(sign(sender.key, sender.address, seq[sender.address],
                              builders.peer_to_peer_with_metadata("XUS", receiver.address, rng.randrange(1, 10**6), metadata)))
            seq[sender.address] += 1
        commit(block)
    commit([sign(parents[1].key, parents[1].address, seq[parents[1].address],
                 builders.rotate_dual_attestation_info(b"https://example.com", parents[2].public))])
    seq[parents[1].address] += 1
    db = runtime.ledger.db
    stored = [db.get_transaction(v) for v in range(db.next_version)]
    addresses = [TREASURY_COMPLIANCE_ADDRESS, TESTNET_DD_ADDRESS, *(s.address for s in everyone)]
    event_keys = sorted({key for version in range(db.next_version) for key in _event_keys(runtime, version)})
    senders = [(s.key, s.address, seq[s.address]) for s in everyone]
    return Chain(runtime, committed, stored, addresses, event_keys, senders)


def _event_keys(runtime: NodeRuntime, version: int) -> list[bytes]:
    return [event.key for event in runtime.ledger.db.get_events_by_version(version)]


# --- signed transactions -------------------------------------------------------------------


def _unusual_transactions(rng: random.Random) -> list[bytes]:
    """Shapes the chain does not produce: scripts with every argument kind, modules,
    MultiEd25519 and multi-agent authenticators, type arguments."""
    sender = AccountAddress(rng.randbytes(16))
    key, sig = rng.randbytes(32), rng.randbytes(64)
    args = (U8Arg(7), U64Arg(2**64 - 1), U128Arg(2**128 - 1), AddressArg(sender), U8VectorArg(b"abc"), BoolArg(True))
    tags = (PrimitiveTag(1), StructTag(AccountAddress(bytes(15) + b"\x01"), "XUS", "XUS", ()))
    payloads = [Script(rng.randbytes(40), tags, args), Module(rng.randbytes(60)),
                builders.peer_to_peer_with_metadata("XUS", sender, 5, b"\x01\x00" + bytes(8))]
    authenticators = [
        Ed25519Authenticator(key, sig),
        MultiEd25519Authenticator(rng.randbytes(32 * 3) + b"\x02", rng.randbytes(64 * 2) + b"\xc0\x00\x00\x00"),
        MultiAgentAuthenticator(Ed25519Authenticator(key, sig), (sender,), (Ed25519Authenticator(key, sig),)),
    ]
    out = []
    for payload in payloads:
        for auth in authenticators:
            raw = RawTransaction(sender, rng.randrange(2**64), payload, 1_000_000, 0, "XUS", 2**63, CHAIN_ID)  # type: ignore[arg-type]
            out.append(SignedTransaction(raw, auth).to_bcs())  # type: ignore[arg-type]
    return out


@functools.cache
def signed_transactions() -> tuple[bytes, ...]:
    return (*chain().transactions, *_unusual_transactions(random.Random(9)))


@functools.cache
def stored_transactions() -> tuple[bytes, ...]:
    """Transaction-enum encodings: genesis, block metadata and user transactions."""
    return (*chain().stored[:1], *chain().stored[1:40], *(b"\x00" + t for t in _unusual_transactions(random.Random(10))))


# --- state sync ------------------------------------------------------------------------------


@functools.cache
def state_sync_messages() -> dict[str, tuple[bytes, ...]]:
    runtime = chain().runtime
    server = StateSync(runtime.ledger, _NoNetwork(), None)  # type: ignore[arg-type]
    tip = chain().version
    requests = [ChunkRequest(7, start, target, limit) for start, target, limit in
                ((1, LATEST, 500), (5, tip, 3), (0, 2, 1), (tip, LATEST, 10))]
    chunks = [server.serve(ChunkRequest(i, start, target, limit)) for i, (start, target, limit) in
              enumerate(((1, 4, 3), (3, tip, 4), (1, 6, 2), (tip - 2, LATEST, 3), (10, 14, 3)))]
    epoch_requests = [EpochChangeRequest(3, 0), EpochChangeRequest(2**64 - 1, 1)]
    epoch_responses = [server.serve_epoch_change(EpochChangeRequest(4, 0))]
    return {
        "ChunkRequest": tuple(r.to_bcs() for r in requests),
        "ChunkResponse": tuple(c.to_bcs() for c in chunks if c is not None),
        "EpochChangeRequest": tuple(r.to_bcs() for r in epoch_requests),
        "EpochChangeResponse": tuple(r.to_bcs() for r in epoch_responses if r is not None),
    }


# --- consensus ------------------------------------------------------------------------------


class _Recorder(Simulation):
    """A Twins simulation that keeps every message its cores send."""

    seen: defaultdict[str, dict[bytes, None]]
    per_scenario: defaultdict[str, int]

    def _send(self, sender: int, target: int, message: Message) -> None:
        self._keep(message)
        super()._send(sender, target, message)

    def _fetch(self, slot: int, action: FetchBlocks) -> None:
        request = BlockRetrievalRequest(action.block_id, action.num_blocks)
        self._keep(request)
        for target in self._slots_of(action.peer):
            if target != slot:
                self._keep(self.managers[target].sync.serve(request))
        super()._fetch(slot, action)

    def _keep(self, message: Message | BlockRetrievalRequest | BlockRetrievalResponse) -> None:
        kind = type(message).__name__
        kept = self.seen[kind]
        if len(kept) < PER_KIND and self.per_scenario[kind] < PER_SCENARIO:
            self.per_scenario[kind] += 1
            kept[encode_consensus_msg(message)] = None  # type: ignore[arg-type]


@functools.cache
def consensus_messages() -> dict[str, tuple[bytes, ...]]:
    seen: defaultdict[str, dict[bytes, None]] = defaultdict(dict)
    for index in range(60):
        seed = 4242 * 1_000_003 + index
        scenario = generate_scenario(random.Random(seed), seed)
        if index % 3 == 0:
            scenario = dataclasses.replace(scenario, reconfigure_at=4)
        simulation = _Recorder(scenario)
        simulation.seen, simulation.per_scenario = seen, defaultdict(int)
        simulation.run()
        for computer in simulation.computers:
            for ledger_info in computer.ledger_infos:
                if ledger_info.ledger_info.ends_epoch and len(seen["EpochChangeProof"]) < PER_KIND:
                    seen["EpochChangeProof"][encode_consensus_msg(EpochChangeProof((ledger_info,)))] = None
    payments = signed_transactions()
    for data in list(seen["ProposalMsg"])[:10]:  # the same proposals carrying real payments
        from libra.types.consensus import decode_consensus_msg

        message = decode_consensus_msg(data)
        assert isinstance(message, ProposalMsg)
        block = message.proposal
        carried = dataclasses.replace(block, block_data=dataclasses.replace(block.block_data, payload=payments[:6]))
        seen["ProposalMsg"][encode_consensus_msg(ProposalMsg(carried, message.sync_info))] = None
    seen["EpochRetrievalRequest"] = {encode_consensus_msg(EpochRetrievalRequest(a, b)): None
                                     for a, b in ((0, 1), (1, 5), (2**64 - 1, 0))}
    proof = chain().runtime.ledger.db.get_epoch_change_proof(0, 1)  # the genesis validator set
    seen["EpochChangeProof"][encode_consensus_msg(EpochChangeProof(proof.ledger_info_with_sigs, True))] = None
    return {kind: tuple(kept) for kind, kept in seen.items()}

"""What is fuzzed: every decoder of bytes a peer or a client sends, and the JSON-RPC handlers.

Each target is a decoder as the node calls it, with the errors the node catches from it
(anything else would stop a connection handler, the consensus thread or state sync):

* signed transactions: the reference decoder, the fast decoder (must answer as the
  reference), the ``Transaction`` enum of stored and synced transactions;
* consensus: ``decode_consensus_msg`` fed from valid messages of each kind;
* state sync: ``decode_message`` fed from valid messages of each kind;
* the network frame body and the mempool broadcast;
* JSON-RPC: request bodies through ``decode_json`` and the dispatcher over a real node
  backend: every answer must be enveloped JSON, never a server error (-32000);
* native decoders (``libra._core``): each entry of :data:`NATIVE_DECODERS`, one line per
  decoder, checked against the Python decoder it mirrors.

Accepted input must re-encode to the same bytes (strict BCS: one encoding per value).
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from tests.fuzz import corpus
from tests.fuzz.harness import Check, Target
from tests.fuzz.mutate import mutant

from libra import native
from libra.api.dispatcher import METHODS, Dispatcher
from libra.api.errors import JsonRpcError
from libra.api.metrics import ApiMetrics
from libra.api.server import decode_json
from libra.api.service import NodeApiService
from libra.bcs import BcsError, Deserializer
from libra.consensus.verification import compute_block_id
from libra.mempool import broadcast
from libra.network import wire
from libra.node import state_sync
from libra.types.consensus import decode_consensus_msg, encode_consensus_msg
from libra.types.move import AccountAddress, ModuleId, PrimitiveTag, StructTag
from libra.types.transaction import (
    Ed25519Authenticator,
    RawTransaction,
    ScriptFunction,
    SignedTransaction,
    decode_signed_transaction_fast,
    transaction_from_bcs,
    transaction_to_bcs,
)

# --- checks -------------------------------------------------------------------------------------


def re_encodes(encode: Callable[[Any], bytes]) -> Check:
    """Accepted bytes are the one encoding of what they decode to."""

    def check(data: bytes, value: Any) -> str | None:
        again = encode(value)
        if again != data:
            return f"accepted a non-canonical encoding of {type(value).__name__} ({len(data)} bytes, re-encodes to {len(again)})"
        return None

    return check


def _reference_signed(data: bytes, pos: int = 0) -> tuple[SignedTransaction, int] | None:
    deserializer = Deserializer(data[pos:])
    try:
        txn = SignedTransaction.deserialize(deserializer)
    except BcsError:
        return None
    return txn, pos + deserializer.offset


def _fast_agrees(data: bytes, fast: tuple[SignedTransaction, int] | None) -> str | None:
    """The fast decoder answers only what the reference decoder answers (or declines)."""
    if fast is None:
        return None
    reference = _reference_signed(data)
    if reference is None:
        return "the fast decoder accepted what the reference decoder refuses"
    if fast[1] != reference[1] or fast[0] != reference[0] or repr(fast[0]) != repr(reference[0]):
        return "the fast decoder answered differently from the reference decoder"
    return None


# --- native decoders: one line each --------------------------------------------------------------


@dataclass(frozen=True)
class NativeDecoder:
    """A function of ``libra._core`` fuzzed like the Python decoders: ``call(core, data)``,
    ``agrees(data, answer)`` compares its answer with the Python decoder it mirrors."""

    name: str
    call: Callable[[ModuleType, bytes], object]
    seeds: Callable[[], Sequence[bytes]]
    agrees: Check | None = None
    allowed: tuple[type[BaseException], ...] = ()  # a panic (CoreError) is never allowed


def _common_transaction_agrees(data: bytes, fields: Any) -> str | None:
    """The native answer (fields as libra._core returns them) is the Python fast decoder's."""
    fast = decode_signed_transaction_fast(data, 0)
    if (fields is None) != (fast is None):
        return "native and Python decoders disagree on declining: " + ("native" if fields is None else "Python")
    if fields is None or fast is None:
        return None
    (sender, seq, module_address, module, function, ty_args, args, max_gas, price, currency,
     expiration, chain_id, public_key, signature, raw_start, raw_end, end) = fields
    tags = tuple(PrimitiveTag(t) if isinstance(t, int) else StructTag(AccountAddress(t[0]), t[1], t[2], ())
                 for t in ty_args)
    raw = RawTransaction(AccountAddress(sender), seq,
                         ScriptFunction(ModuleId(AccountAddress(module_address), module), function, tags, tuple(args)),
                         max_gas, price, currency, expiration, chain_id)
    txn = SignedTransaction(raw, Ed25519Authenticator(public_key, signature))
    if (txn, end) != fast or repr(txn) != repr(fast[0]) or data[raw_start:raw_end] != fast[0].raw_txn.to_bcs():
        return "native and Python decoders answer different transactions"
    return None


NATIVE_DECODERS: tuple[NativeDecoder, ...] = (
    NativeDecoder("decode_common_transaction", lambda core, data: core.decode_common_transaction(data, 0), corpus.signed_transactions, _common_transaction_agrees),
    # its agreement with the Python decoder is tests/unit/native/test_script_decode.py; fuzzed for crashes
    NativeDecoder("decode_common_script_transaction", lambda core, data: core.decode_common_script_transaction(data, 0), corpus.signed_transactions),
)


def native_targets() -> list[Target]:
    core = native.CORE
    if core is None:
        return []
    return [
        Target(f"native.{d.name}", functools.partial(d.call, core), d.seeds, d.allowed, d.agrees,
               about=f"libra._core.{d.name}", classify=_decoded_or_declined)
        for d in NATIVE_DECODERS
    ]


# --- JSON-RPC -----------------------------------------------------------------------------------


class JsonRpc:
    """Request bodies answered as ``handle_jsonrpc`` answers them, over a real node backend."""

    def __init__(self) -> None:
        logging.getLogger("libra.api.requests").setLevel(logging.CRITICAL)  # findings say what failed
        self.service = NodeApiService(corpus.chain().runtime)
        self.dispatcher = Dispatcher(self.service, ApiMetrics(METHODS))
        self.loop = asyncio.new_event_loop()

    def __call__(self, body: bytes) -> str:
        ledger = self.service.ledger_state()
        try:
            payload = decode_json(body)
        except JsonRpcError:
            return "parse error"
        return self.loop.run_until_complete(self.dispatcher.handle_payload(payload, ledger))


@functools.cache
def _json_rpc() -> JsonRpc:
    return JsonRpc()


def _answered(body: bytes, text: str) -> str | None:
    """Every answer is JSON with Diem's envelope; none is a server error."""
    if text == "parse error":
        return None
    answer = json.loads(text)
    for item in answer if isinstance(answer, list) else [answer]:
        if item.get("jsonrpc") != "2.0" or ("result" in item) == ("error" in item):
            return "an answer without the JSON-RPC envelope"
        if "error" in item and item["error"]["code"] == -32000:
            return f"server error: {item['error']['message'][:200]}"
    return None


def _jsonrpc_answer(text: str) -> str:
    """``result``, ``error <code>`` (of a single call or a batch's first) or ``parse error``."""
    if text == "parse error":
        return text
    answer = json.loads(text)
    item = answer[0] if isinstance(answer, list) and answer else answer
    kind = "batch " if isinstance(answer, list) else ""
    return kind + ("result" if "result" in item else f"error {item['error']['code']}")


def _decoded_or_declined(answer: object) -> str:
    return "declined" if answer is None else "decoded"


def json_requests() -> list[bytes]:
    chain = corpus.chain()
    tip = chain.version
    account = chain.accounts[3].value.hex()
    key = chain.event_keys[0].hex()
    txn = chain.transactions[5].hex()
    calls: list[tuple[str, list[Any]]] = [
        ("get_metadata", []), ("get_metadata", [tip - 1]), ("get_currencies", []),
        ("get_account", [account]), ("get_account", [account, 3]),
        ("get_account_transaction", [account, 0, True]),
        ("get_account_transactions", [account, 0, 10, True]),
        ("get_transactions", [0, 20, True]), ("get_events", [key, 0, 10]), ("submit", [txn]),
        ("get_state_proof", [tip]), ("get_account_state_with_proof", [account, tip, tip]),
        ("get_transactions_with_proofs", [1, 5, True]),
        ("get_account_transactions_with_proofs", [account, 0, 5, True, tip]),
        ("get_events_with_proofs", [key, 0, 5]), ("get_event_by_version_with_proof", [key, tip]),
        ("get_accumulator_consistency_proof", [2, tip]), ("get_network_status", []),
    ]
    bodies = [json.dumps({"jsonrpc": "2.0", "id": i, "method": m, "params": p}).encode() for i, (m, p) in enumerate(calls)]
    bodies.append(json.dumps([json.loads(b) for b in bodies[:5]]).encode())
    return bodies


def _json_values(rng: random.Random, chain: corpus.Chain) -> Any:
    """A JSON value of the kinds the params parse: boundary numbers, hex of every length,
    valid addresses, keys and transactions (and their mutants), and structures."""
    choice = rng.randrange(14)
    if choice == 0:
        return rng.choice((0, 1, -1, 2**63, 2**64 - 1, 2**64, -(2**64), 10**30, chain.version, chain.version + 1))
    if choice == 1:
        return rng.choice((0.5, 1e300, -0.0, 1.0))
    if choice == 2:
        return rng.choice((None, True, False, "", [], {}))
    if choice == 3:
        return rng.randbytes(rng.choice((0, 1, 15, 16, 17, 24, 32, 64))).hex()
    if choice == 4:
        return "0x" + rng.choice(chain.accounts).value.hex()
    if choice == 5:
        return rng.choice(chain.accounts).value.hex().upper()
    if choice == 6:
        return rng.choice(chain.event_keys).hex()
    if choice == 7:
        return mutant(rng, chain.transactions).hex()
    if choice == 8:
        return rng.choice(chain.transactions).hex()
    if choice == 9:
        return rng.choice(("XUS", "xus", "\u00e9", "0xZZ", "1e5", "  1", "01"))
    if choice == 10:
        return [_json_values(rng, chain) for _ in range(rng.randrange(4))]
    if choice == 11:
        return {rng.choice(("version", "account", "limit", "start", "x")): _json_values(rng, chain)}
    if choice == 12:
        return rng.randrange(0, chain.version + 5)
    return rng.randrange(2**64)


def _structured_request(rng: random.Random, seeds: Sequence[bytes]) -> bytes:
    """A valid request with its params, method, id or shape changed."""
    chain = corpus.chain()
    request = json.loads(seeds[rng.randrange(len(seeds) - 1)])
    params = request["params"]
    for _ in range(rng.choice((1, 1, 2, 3))):
        edit = rng.randrange(8)
        if edit <= 2 and params:
            params[rng.randrange(len(params))] = _json_values(rng, chain)
        elif edit == 3:
            params.append(_json_values(rng, chain))
        elif edit == 4 and params:
            params.pop(rng.randrange(len(params)))
        elif edit == 5:
            request["method"] = rng.choice((*METHODS, "", "GET_METADATA", None, 5))
        elif edit == 6:
            request[rng.choice(("id", "jsonrpc", "params"))] = _json_values(rng, chain)
        else:
            names = [p.name for p in METHODS[request["method"]].params] if request.get("method") in METHODS else []
            request["params"] = dict(zip(names, params, strict=False))
            params = []
    if rng.randrange(8) == 0:
        return json.dumps([request] * rng.choice((1, 2, 21))).encode()
    return json.dumps(request).encode()


def _json_input(rng: random.Random, seeds: Sequence[bytes]) -> bytes:
    return _structured_request(rng, seeds) if rng.randrange(4) else mutant(rng, seeds)


# --- consensus handlers -----------------------------------------------------------------------


class ConsensusHandlers:
    """Decoded messages handed to a running core the way the driver hands them (a peer
    sends anything: only the signature checks stand between it and the handlers, and a
    handler that raises anything but ``VerificationError`` stops the consensus thread)."""

    RESET_EVERY = 5_000  # inputs before a fresh core at genesis (old rounds are ignored early)

    def __init__(self) -> None:
        self.calls = 0
        self._fresh()

    def _fresh(self) -> None:
        """A core at genesis with the validator set (and keys) of the recorded Twins runs, so
        their messages, signatures and all, are current for it."""
        from libra.consensus.twins import Scenario, Simulation

        everyone = (frozenset(range(4)),)
        self.simulation = Simulation(Scenario(4, (), (0, 1, 2, 3) * 3, (everyone,) * 12, seed=3))
        self.simulation.managers = [self.simulation._build(slot, self.simulation.genesis_li) for slot in range(4)]
        self.manager = self.simulation.managers[1]
        self.manager.start(self.simulation.now)
        self.peer = self.simulation.authors[0]

    def __call__(self, data: bytes) -> object:
        from libra.types.consensus import (
            BlockRetrievalRequest,
            BlockRetrievalResponse,
            ProposalMsg,
            TimeoutMsg,
            VoteMsg,
        )

        self.calls += 1
        if self.calls % self.RESET_EVERY == 0:
            self._fresh()
        message = decode_consensus_msg(data)
        now = self.simulation.now + 1_000 * self.calls
        peer = self.peer
        if isinstance(message, ProposalMsg) and message.proposal.author is not None:
            peer = message.proposal.author
        elif isinstance(message, VoteMsg):
            peer = message.vote.author
        elif isinstance(message, TimeoutMsg):
            peer = message.author
        if isinstance(message, BlockRetrievalResponse):  # an answer to a fetch of its first block
            if not message.blocks:
                return []
            first = message.blocks[0]
            self.manager.sync.fetch(peer, compute_block_id(first.block_data), first.round, None, None)
            request = BlockRetrievalRequest(compute_block_id(first.block_data), len(message.blocks))
            return self.manager.on_block_retrieval_response(peer, request, message, now)
        return self.manager.on_message(peer, message, now)  # type: ignore[arg-type]


@functools.cache
def _consensus_handlers() -> ConsensusHandlers:
    return ConsensusHandlers()


def _all_consensus_seeds() -> list[bytes]:
    messages = corpus.consensus_messages()
    return [data for kind in CONSENSUS_KINDS for data in messages[kind][:10]]


# --- the registry -------------------------------------------------------------------------------


def _consensus(kind: str) -> Target:
    return Target(f"consensus.{kind}", decode_consensus_msg, lambda: corpus.consensus_messages()[kind], (BcsError,),
                  re_encodes(encode_consensus_msg), about=f"decode_consensus_msg from {kind} seeds")


def _state_sync(kind: str) -> Target:
    return Target(f"state_sync.{kind}", state_sync.decode_message, lambda: corpus.state_sync_messages()[kind],
                  (BcsError,), re_encodes(lambda m: m.to_bcs()), about=f"state_sync.decode_message from {kind} seeds")


def _wire_encode(message: Any) -> bytes:
    if isinstance(message, wire.Hello):
        return wire.encode_hello(message.version)
    if isinstance(message, wire.Ping):
        return wire.encode_ping(message.nonce)
    if isinstance(message, wire.Pong):
        return wire.encode_pong(message.nonce)
    return wire.encode_direct_send(message.protocol, message.payload)


def _wire_seeds() -> list[bytes]:
    payloads = [b"", *corpus.signed_transactions()[:3], *corpus.consensus_messages()["VoteMsg"][:2]]
    return [wire.encode_hello(), wire.encode_ping(7), wire.encode_pong(2**64 - 1),
            *(wire.encode_direct_send(p, d) for p in wire.Protocol for d in payloads)]


def _mempool_seeds() -> list[bytes]:
    txns = corpus.signed_transactions()
    return [broadcast.encode_message(broadcast.Broadcast(3, tuple(txns[:8]))), broadcast.encode_message(broadcast.Broadcast(0, ())),
            broadcast.encode_message(broadcast.Ack(9, (0, 5, 2**32 - 1)))]


CONSENSUS_KINDS = ("ProposalMsg", "VoteMsg", "TimeoutMsg", "SyncInfo", "BlockRetrievalRequest",
                   "BlockRetrievalResponse", "EpochRetrievalRequest", "EpochChangeProof")
STATE_SYNC_KINDS = ("ChunkRequest", "ChunkResponse", "EpochChangeRequest", "EpochChangeResponse")


def all_targets() -> list[Target]:
    return [
        Target("transaction.signed", SignedTransaction.from_bcs, corpus.signed_transactions, (BcsError,),
               re_encodes(SignedTransaction.to_bcs), about="SignedTransaction.from_bcs (reference decoder)"),
        Target("transaction.fast", lambda data: decode_signed_transaction_fast(data, 0), corpus.signed_transactions,
               (), _fast_agrees, about="decode_signed_transaction_fast, checked against the reference",
               classify=_decoded_or_declined),
        Target("transaction.stored", transaction_from_bcs, corpus.stored_transactions, (BcsError,),
               re_encodes(transaction_to_bcs), about="transaction_from_bcs (stored and state-synced transactions)"),
        *(_consensus(kind) for kind in CONSENSUS_KINDS),
        *(_state_sync(kind) for kind in STATE_SYNC_KINDS),
        Target("consensus.handlers", lambda data: _consensus_handlers()(data), _all_consensus_seeds,
               (BcsError,), about="decoded consensus messages handed to a running core (RoundManager)",
               classify=lambda actions: ",".join(sorted({type(a).__name__ for a in actions})) or "no action"),
        Target("network.frame", wire.decode_message, _wire_seeds, (wire.WireError,), re_encodes(_wire_encode),
               about="network frame bodies"),
        Target("mempool.broadcast", broadcast.decode_message, _mempool_seeds, (BcsError,),
               re_encodes(broadcast.encode_message), about="mempool broadcasts and acks"),
        Target("jsonrpc", lambda body: _json_rpc()(body), json_requests, (), _answered, _json_input,
               about="JSON-RPC bodies through decode_json and the dispatcher over a node backend",
               classify=_jsonrpc_answer),
        *native_targets(),
    ]

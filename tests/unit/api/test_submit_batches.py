"""A batch of ``submit`` calls answered in one pass (``Dispatcher._handle_submits``) gives what
the calls run one by one as tasks give: the same response text for every call (results and
every error: params, validation statuses, pool refusals, a full pool), the same pool, metrics
and log lines.

Two twin nodes (one validator each, the same genesis and funding) receive the same batches:
one dispatcher takes the batch path, the other is made to run each call as its own task (its
backend hides the submit steps). Hypothesis draws the batches; blocks commit on both between
them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from libra.api.dispatcher import METHODS, Dispatcher, SubmitSteps
from libra.api.metrics import ApiMetrics
from libra.api.server import METRICS_KEY, read_ledger
from libra.api.service import NodeApiService
from libra.client import builders
from libra.crypto.auth import compute_address, compute_auth_key
from libra.crypto.ed25519 import Ed25519PrivateKey, load_private_key
from libra.crypto.hashing import hash_with_salt
from libra.framework.views import get_account_view
from libra.mempool.pool import Mempool, PoolConfig
from libra.node.config import MempoolSection, load_config
from libra.node.localnet import LocalnetSpec, prepare
from libra.node.runtime import NodeRuntime
from libra.types.ledger import LedgerInfoWithSignatures
from libra.types.move import TESTNET_DD_ADDRESS, TREASURY_COMPLIANCE_ADDRESS, AccountAddress
from libra.types.transaction import BlockMetadata, SignedTransaction

START_USECS = 1_900_000_000_000_000
EXPIRATION = START_USECS // 1_000_000 + 3600
POOL = MempoolSection(capacity=40, capacity_per_account=6, max_parked_per_account=3)
SENDERS = 4


class PerCall:
    """The service without its submit steps: the dispatcher runs each call as a task."""

    def __init__(self, service: NodeApiService) -> None:
        self._service = service

    def __getattr__(self, name: str) -> Any:
        if name in ("refuse_submission", "verify_submissions", "admit_submission"):
            raise AttributeError(name)
        return getattr(self._service, name)


class Twin:
    """One node: runtime, service, dispatcher with its own metrics, and its log lines."""

    def __init__(self, folder: Path, config_path: Path, *, batched: bool) -> None:
        config = load_config(config_path)
        self.runtime = NodeRuntime(config.model_copy(update={"mempool": POOL}))
        self.folder = folder
        self.service = NodeApiService(self.runtime)
        self.metrics = ApiMetrics(METHODS)
        self.service.attach_metrics({METRICS_KEY: self.metrics})  # type: ignore[arg-type]
        backend: Any = self.service if batched else PerCall(self.service)
        assert isinstance(backend, SubmitSteps) == batched
        self.dispatcher = Dispatcher(self.service if batched else backend, self.metrics)
        assert self.runtime.identity is not None
        self.proposer = self.runtime.identity.address
        self.round = 1
        self.timestamp = START_USECS

    def block(self, txns: list[SignedTransaction]) -> None:
        self.timestamp += 1_000_000
        metadata = BlockMetadata(hash_with_salt("BlockData", self.round.to_bytes(8, "little")), self.round,
                                 self.timestamp, (), self.proposer)
        self.round += 1
        committed = self.runtime.ledger.execute_and_commit(
            metadata, txns, lambda info: LedgerInfoWithSignatures(info, ()), verified=True)
        self.runtime._after_commit(committed)

    def commit_pool(self, limit: int) -> None:
        self.block([p.txn for p in self.runtime.mempool.take_block(limit)])

    async def post(self, payload: Any) -> str:
        ledger = read_ledger(self.service)
        assert ledger is not None
        return await self.dispatcher.handle_payload(payload, ledger)

    def counters(self) -> list[tuple[str, dict[str, str], float]]:
        """Every counter sample of the API's registry (latencies are times: left out)."""
        out = []
        for family in self.metrics.registry.collect():
            if family.type == "counter":
                out += [(s.name, s.labels, s.value) for s in family.samples if s.name.endswith("_total")]
        return sorted(out, key=repr)

    def close(self) -> None:
        self.runtime.verify_pool.shutdown()
        self.runtime.block_thread.shutdown()
        self.runtime.db.close()


class Lines(logging.Handler):
    """The dispatcher's log lines, without their latency."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        line = json.loads(record.getMessage())
        line.pop("latency_ms")
        self.records.append({**line, "level": record.levelno, "crash": record.exc_info is not None})


def _address(key: Ed25519PrivateKey) -> AccountAddress:
    return AccountAddress(compute_address(compute_auth_key(key.public_key())))


@pytest.fixture(scope="module")
def twins(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Twin, Twin, list[Ed25519PrivateKey]]]:
    folder = tmp_path_factory.mktemp("twins")
    (plan,) = prepare(LocalnetSpec(folder / "a", validators=1, full_nodes=0, api_port=1, network_base_port=2))
    shutil.copytree(folder / "a", folder / "b")  # the same keys and genesis, its own store
    twin_config = folder / "b" / plan.config_path.relative_to(folder / "a")
    twin_config.write_text(twin_config.read_text().replace(str(folder / "a"), str(folder / "b")))
    batched = Twin(folder / "a", plan.config_path, batched=True)
    per_call = Twin(folder / "b", twin_config, batched=False)
    tc = load_private_key(folder / "a" / "keys" / "treasury_compliance.key")
    dd = load_private_key(folder / "a" / "keys" / "designated_dealer.key")
    senders = [Ed25519PrivateKey.generate() for _ in range(SENDERS)]
    chain_id = batched.runtime.chain_id
    opening = []
    for i, key in enumerate(senders):
        address = _address(key)
        auth = compute_auth_key(key.public_key())
        opening.append(builders.sign_transaction(
            tc, TREASURY_COMPLIANCE_ADDRESS, i, builders.create_parent_vasp_account("XUS", 0, address, auth[:16], b"v"),
            chain_id=chain_id, expiration_timestamp_secs=EXPIRATION).transaction)
        opening.append(builders.sign_transaction(
            dd, TESTNET_DD_ADDRESS, i, builders.peer_to_peer_with_metadata("XUS", address, 10**9),
            chain_id=chain_id, expiration_timestamp_secs=EXPIRATION).transaction)
    for twin in (batched, per_call):
        twin.block(opening)
    yield batched, per_call, senders
    batched.close()
    per_call.close()


# --- the calls a batch is drawn from ----------------------------------------------------------


def _payment(key: Ed25519PrivateKey, seq: int, *, price: int = 0, chain_id: int = 2, amount: int = 1,
             expiration: int = EXPIRATION) -> str:
    return builders.sign_transaction(
        key, _address(key), seq, builders.peer_to_peer_with_metadata("XUS", TESTNET_DD_ADDRESS, amount),
        chain_id=chain_id, expiration_timestamp_secs=expiration, gas_unit_price=price,
    ).bcs.hex()


def _forged(hex_txn: str) -> str:
    data = bytearray(bytes.fromhex(hex_txn))
    data[-1] ^= 1
    return data.hex()


def _call(draw: Any, senders: list[Ed25519PrivateKey], committed: list[int], request_id: int) -> Any:
    """One request object: mostly submits of payments near each sender's sequence number."""
    key_index = draw(st.integers(0, len(senders) - 1))
    key = senders[key_index]
    seq = committed[key_index] + draw(st.sampled_from((-1, 0, 0, 1, 1, 2, 3, 5, 9)))
    kind = draw(st.sampled_from(("payment",) * 8 + ("priced", "forged", "chain", "expired", "stranger", "stale",
                                                   "garbage", "odd hex", "no params", "two params", "named",
                                                   "bad id", "null id", "version", "amount")))
    params: Any
    hex_txn = _payment(key, max(seq, 0))
    if kind == "priced":
        hex_txn = _payment(key, max(seq, 0), price=draw(st.sampled_from((1, 2, 10_001))))
    elif kind == "forged":
        hex_txn = _forged(hex_txn)
    elif kind == "chain":
        hex_txn = _payment(key, max(seq, 0), chain_id=3)
    elif kind == "expired":
        hex_txn = _payment(key, max(seq, 0), expiration=1)
    elif kind == "stranger":
        hex_txn = _payment(Ed25519PrivateKey.generate(), 0)
    elif kind == "amount":
        hex_txn = _payment(key, max(seq, 0), amount=draw(st.integers(2, 5)))  # another txn, same seq
    params = [hex_txn]
    if kind == "garbage":
        params = ["00" * draw(st.integers(0, 40))]
    elif kind == "odd hex":
        params = [hex_txn[:-1]]
    elif kind == "no params":
        params = []
    elif kind == "two params":
        params = [hex_txn, hex_txn]
    elif kind == "named":
        params = {"data": hex_txn}
    request: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": "submit", "params": params}
    if kind == "bad id":
        request["id"] = 1.5
    elif kind == "null id":
        request["id"] = None
    elif kind == "version":
        request["jsonrpc"] = "1.0"
    return request


def _committed(twin: Twin, senders: list[Ed25519PrivateKey]) -> list[int]:
    view = twin.runtime.ledger.state_view()
    out = []
    for key in senders:
        account = get_account_view(view, _address(key))
        out.append(account.sequence_number if account is not None else 0)
    return out


def _pool_state(pool: Mempool) -> list[tuple[bytes, int]]:
    return [(p.txn_hash, p.arrival) for p in pool.take_block(1_000)]


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_a_batch_of_submits_answers_as_its_calls_one_by_one(
    twins: tuple[Twin, Twin, list[Ed25519PrivateKey]], data: st.DataObject
) -> None:
    batched, per_call, senders = twins
    for twin in (batched, per_call):  # each example from empty pools (the ledgers stay twins)
        twin.runtime.mempool = Mempool(PoolConfig(POOL.capacity, POOL.capacity_per_account, POOL.max_parked_per_account))
    lines = {id(batched): Lines(), id(per_call): Lines()}
    log = logging.getLogger("libra.api.requests")
    saved = log.level
    log.setLevel(logging.DEBUG)
    try:
        for _ in range(data.draw(st.integers(1, 3))):
            committed = _committed(batched, senders)
            size = data.draw(st.integers(1, 20))
            batch = [_call(data.draw, senders, committed, i) for i in range(size)]
            single = size == 1 and data.draw(st.booleans())
            payload = batch[0] if single else batch
            answers = []
            for twin in (batched, per_call):
                log.addHandler(lines[id(twin)])
                try:
                    answers.append(asyncio.run(twin.post(json.loads(json.dumps(payload)))))
                finally:
                    log.removeHandler(lines[id(twin)])
            assert answers[0] == answers[1]
            assert _pool_state(batched.runtime.mempool) == _pool_state(per_call.runtime.mempool)
            if data.draw(st.integers(0, 2)) == 0:
                limit = data.draw(st.integers(1, 30))
                for twin in (batched, per_call):
                    twin.commit_pool(limit)
        assert lines[id(batched)].records == lines[id(per_call)].records
        assert batched.counters() == per_call.counters()
    finally:
        log.setLevel(saved)


def test_the_batch_path_covers_every_refusal(twins: tuple[Twin, Twin, list[Ed25519PrivateKey]]) -> None:
    """A fixed batch: accepted, duplicate, too old, too new (parked past the limit), a better
    and a worse replacement, bad signature, bad params, ids, a full pool; answered alike."""
    batched, per_call, senders = twins
    saved = (batched.runtime.mempool, per_call.runtime.mempool)
    try:
        for twin in (batched, per_call):  # empty pools (whatever other tests left)
            twin.runtime.mempool = Mempool(PoolConfig(capacity=40, capacity_per_account=6, max_parked_per_account=3))
        _fixed_batches(batched, per_call, senders)
    finally:
        batched.runtime.mempool, per_call.runtime.mempool = saved


def _fixed_batches(batched: Twin, per_call: Twin, senders: list[Ed25519PrivateKey]) -> None:
    committed = _committed(batched, senders)
    key, seq = senders[0], committed[0]
    first = _payment(key, seq)
    calls: list[Any] = [first, first, _payment(key, seq, amount=2), _payment(key, seq, price=1),
                        _payment(key, max(seq - 1, 0)) if seq else _payment(key, 0, chain_id=3),
                        _payment(key, seq + 9), _forged(_payment(key, seq + 1)), "zz", _payment(key, seq, price=10_001)]
    batch: list[Any] = [{"jsonrpc": "2.0", "id": i, "method": "submit", "params": [c]} for i, c in enumerate(calls)]
    batch.append({"jsonrpc": "2.0", "id": None, "method": "submit", "params": [first]})
    answers = [asyncio.run(twin.post(batch)) for twin in (batched, per_call)]
    assert answers[0] == answers[1]
    codes = [item.get("error", {}).get("code") for item in json.loads(answers[0])]
    assert codes[:4] == [None, None, -32010, None] and -32602 in codes and -32001 in codes, codes
    # a full pool: refused before any work, on both paths alike
    for twin in (batched, per_call):
        twin.runtime.mempool = Mempool(PoolConfig(capacity=1, capacity_per_account=6, max_parked_per_account=3))
    full = [{"jsonrpc": "2.0", "id": i, "method": "submit", "params": [_payment(senders[i % SENDERS], committed[i % SENDERS])]}
            for i in range(3)]
    answers = [asyncio.run(twin.post(full)) for twin in (batched, per_call)]
    assert answers[0] == answers[1]
    assert [item.get("error", {}).get("code") for item in json.loads(answers[0])] == [None, -32008, -32008]


class Steps:
    """A backend whose submit steps fail on chosen transactions, and whose ``submit`` is
    those steps in ``NodeApiService.submit``'s order."""

    def __init__(self, breaks: dict[bytes, str], verify_fails: bool) -> None:
        self.breaks = breaks
        self.verify_fails = verify_fails
        self.admitted: list[bytes] = []

    def ledger_state(self) -> Any:
        from libra.api.backend import LedgerState

        return LedgerState(2, 5, 7)

    def refuse_submission(self, signed_txn: bytes) -> Any:
        how = self.breaks.get(signed_txn)
        if how == "refusal crashes":
            raise RuntimeError("refusal crashed")
        if how == "refused":
            from libra.api.errors import mempool_is_full

            return mempool_is_full("mempool is full")
        return None

    async def verify_submissions(self, signed_txns: Any) -> None:
        await asyncio.sleep(0)
        if self.verify_fails:
            raise RuntimeError("worker died")

    def admit_submission(self, signed_txn: bytes) -> Any:
        how = self.breaks.get(signed_txn)
        if how == "admission crashes":
            raise ValueError("admission crashed")
        if how == "invalid":
            from libra.api.errors import vm_validation_error

            return vm_validation_error("SEQUENCE_NUMBER_TOO_OLD")
        self.admitted.append(signed_txn)
        return None

    async def submit(self, signed_txn: bytes) -> None:
        refusal = self.refuse_submission(signed_txn)
        if refusal is not None:
            raise refusal
        await self.verify_submissions([signed_txn])
        error = self.admit_submission(signed_txn)
        if error is not None:
            raise error


@pytest.mark.parametrize("verify_fails", [False, True])
def test_crashes_in_each_step_answer_and_log_alike(verify_fails: bool) -> None:
    key = Ed25519PrivateKey.generate()
    txns = [bytes.fromhex(_payment(key, seq)) for seq in range(6)]
    hows = ["ok", "refusal crashes", "refused", "admission crashes", "invalid", "ok"]
    breaks = dict(zip(txns, hows, strict=True))
    batch = [{"jsonrpc": "2.0", "id": i, "method": "submit", "params": [t.hex()]} for i, t in enumerate(txns)]
    out = []
    log = logging.getLogger("libra.api.requests")
    saved = log.level
    log.setLevel(logging.DEBUG)
    try:
        for batched in (True, False):
            steps = Steps(breaks, verify_fails)
            backend: Any = steps if batched else PerCall(steps)  # type: ignore[arg-type]
            metrics = ApiMetrics(METHODS)
            dispatcher = Dispatcher(backend, metrics)
            lines = Lines()
            log.addHandler(lines)
            try:
                text = asyncio.run(dispatcher.handle_payload(batch, steps.ledger_state()))
            finally:
                log.removeHandler(lines)
            out.append((text, lines.records, steps.admitted))
    finally:
        log.setLevel(saved)
    assert out[0] == out[1]
    codes = [item.get("error", {}).get("code") for item in json.loads(out[0][0])]
    assert codes.count(-32000) == (5 if verify_fails else 2), codes
    assert sum(record["crash"] for record in out[0][1]) == codes.count(-32000)

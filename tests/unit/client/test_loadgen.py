"""The load generator: pacing, percentiles, windows, the result document, signing, stuck payments, the drain."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
from json import loads
from typing import Any

import pytest

from libra.client import builders, loadgen
from libra.client.loadgen import (
    RESULT_FIELDS,
    PaymentSigner,
    Sender,
    payment_plan,
    percentile,
    rate_in_window,
    rejection_reason,
    result_document,
    secs_until_next,
    steady_window,
    submit_batch_body,
    tokens_due,
)
from libra.crypto.hashing import hash_seed


def test_tokens_due_follows_the_rate_and_what_was_issued() -> None:
    assert tokens_due(0.0, 100, 0) == 0
    assert tokens_due(0.5, 100, 0) == 50
    assert tokens_due(0.5, 100, 30) == 20
    assert tokens_due(0.5, 100, 60) == 0  # ahead of the bucket: nothing owed, never negative
    assert tokens_due(1.0, 8000, 7980) == 20
    assert tokens_due(-1.0, 100, 0) == 0
    assert tokens_due(1.0, 0, 0) == 0


def test_paced_issuing_matches_the_rate_over_time() -> None:
    issued = 0
    for step in range(1, 1001):  # 10 s in 10 ms ticks at 333.3/s
        issued += min(tokens_due(step * 0.01, 1000 / 3, issued), 20)
    assert issued == 3333


def test_secs_until_next_batch() -> None:
    assert secs_until_next(0.0, 100, 0, batch=20) == pytest.approx(0.2)
    assert secs_until_next(1.0, 100, 0, batch=20) == 0.0
    assert secs_until_next(0.1, 1000, 100, batch=20) == pytest.approx(0.02)


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(100, 0, -1)]  # 100 .. 1, unsorted on purpose
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile(values, 0.1) == 1
    assert percentile([7.0], 50) == 7.0
    assert percentile([1.0, 2.0], 50) == 1.0
    assert percentile([], 50) is None
    with pytest.raises(ValueError):
        percentile([1.0], 0)


def test_steady_window_and_rate_in_it() -> None:
    assert steady_window(100.0, 160.0, 5.0) == (105.0, 160.0)
    assert steady_window(100.0, 104.0, 5.0) == (102.0, 104.0)  # warm-up at most half the run
    times = [100.5, 101.0, 102.0, 102.5, 103.9, 104.0]
    assert rate_in_window(times, (102.0, 104.0)) == pytest.approx(1.5)  # 3 events in 2 s, end exclusive
    assert rate_in_window(times, (104.0, 104.0)) == 0.0


def test_result_document_shape() -> None:
    doc = result_document(
        tps=1234.567, latencies_ms=[10.0, 20.0, 30.0], submitted=10, committed=9, duration_s=60.123,
        validators=1, verify_per_core=16543.2, rejected={"-32008 mempool is full": 2, "-32001 x": 1},
        cpu_s={"validator-0": 50.123, "bench": 3.0}, extra={"lost": 1},
    )
    assert list(doc)[: len(RESULT_FIELDS)] == list(RESULT_FIELDS)
    assert doc["tps"] == 1234.6 and doc["p50_ms"] == 20.0 and doc["p99_ms"] == 30.0
    assert doc["duration_s"] == 60.12 and doc["verify_per_core"] == 16543
    assert list(doc["rejected"]) == ["-32001 x", "-32008 mempool is full"]
    assert doc["cpu_s"] == {"bench": 3.0, "validator-0": 50.12}
    assert doc["lost"] == 1
    json.dumps(doc)  # plain JSON
    empty = result_document(
        tps=0, latencies_ms=[], submitted=0, committed=0, duration_s=1, validators=1, verify_per_core=1,
        rejected={}, cpu_s={},
    )
    assert empty["p50_ms"] is None and empty["p99_ms"] is None


def test_rejection_reason_labels() -> None:
    assert rejection_reason({"code": -32008, "message": "Server error: mempool is full"}) == (
        "-32008 Server error: mempool is full"
    )
    assert rejection_reason("nonsense") == "malformed error"


def test_submit_batch_body_is_a_jsonrpc_batch() -> None:
    body = json.loads(submit_batch_body(5, ["aa", "bb"]))
    assert body == [
        {"jsonrpc": "2.0", "id": 5, "method": "submit", "params": ["aa"]},
        {"jsonrpc": "2.0", "id": 6, "method": "submit", "params": ["bb"]},
    ]


def test_template_signing_matches_the_builders() -> None:
    sender, payee = Sender.generate(), Sender.generate()
    signer = PaymentSigner(2, 1_900_000_000, amount=7)
    for seq in (0, 1, 255, 2**40):
        signed, digest = signer.sign(sender, seq, payee.address)
        reference = builders.sign_transaction(
            sender.key, sender.address, seq,
            builders.peer_to_peer_with_metadata("XUS", payee.address, 7),
            chain_id=2, expiration_timestamp_secs=1_900_000_000,
        )
        assert signed == reference.bcs
        assert digest == reference.hash
    presigned = signer.presign(sender, 3, payee.address)
    assert bytes.fromhex(presigned.hex) == signer.sign(sender, 3, payee.address)[0]


def test_payment_plan_round_robin_never_pays_itself() -> None:
    plan = payment_plan(5, 23, seed=3)
    assert [s for s, _ in plan] == [k % 5 for k in range(23)]
    assert all(s != p and 0 <= p < 5 for s, p in plan)
    assert plan == payment_plan(5, 23, seed=3)
    with pytest.raises(ValueError):
        payment_plan(1, 3)


def test_proc_readers() -> None:
    cpu = loadgen.proc_cpu_seconds(os.getpid())
    assert cpu is not None and cpu > 0
    rss = loadgen.proc_rss_mb(os.getpid())
    assert rss is not None and rss[1] >= rss[0] > 0
    assert loadgen.proc_cpu_seconds(2**22 + 12345) is None


def test_faucet_url() -> None:
    assert loadgen.faucet_url_for("http://127.0.0.1:8080/v1") == "http://127.0.0.1:8080/mint"
    assert loadgen.faucet_url_for("http://h:1/v1/") == "http://h:1/mint"


def _stuck_generator() -> tuple[loadgen.LoadGenerator, list[str]]:
    generator = loadgen.LoadGenerator(loadgen.LoadConfig(url="http://unused"), chain_id=2)
    generator.senders = [Sender.generate() for _ in range(3)]
    addresses = [s.address.value.hex() for s in generator.senders]
    # sender 0: seqs 7 and 5 accepted, uncommitted; sender 2: seq 3; sender 1 nothing stuck;
    # "inflight" was sent but never answered (not accepted): not a stuck payment
    accepted = {"h07": (0, 7), "h05": (0, 5), "h23": (2, 3)}
    for txn_hash, (index, seq) in accepted.items():
        generator._pending[txn_hash] = (1.0, index)
        generator._sequence_of[txn_hash] = seq
    generator._pending["inflight"] = (1.0, 1)
    generator._sequence_of["committed"] = 4  # accepted and seen committed: not pending
    return generator, addresses


def test_stuck_payments_are_the_accepted_ones_still_pending() -> None:
    generator, addresses = _stuck_generator()
    stuck = sorted(generator.stuck(), key=lambda p: p.hash)
    assert stuck == [
        loadgen.StuckPayment(addresses[0], 5, "h05"),
        loadgen.StuckPayment(addresses[0], 7, "h07"),
        loadgen.StuckPayment(addresses[2], 3, "h23"),
    ]
    assert loadgen.stuck_senders(stuck) == dict(sorted({addresses[0]: (5, 2), addresses[2]: (3, 1)}.items()))


def test_stuck_report_lists_each_senders_lowest_first_and_the_chain_view() -> None:
    generator, addresses = _stuck_generator()
    report = loadgen.stuck_report(generator.stuck(), {addresses[0]: 5, addresses[2]: None}, limit=2)
    assert report["count"] == 3
    lowest = sorted([(addresses[0], 5, "h05"), (addresses[2], 3, "h23")])
    assert [(p["sender"], p["sequence_number"], p["hash"]) for p in report["payments"]] == lowest
    assert report["senders"] == sorted(
        [
            {"sender": addresses[0], "lowest_stuck": 5, "stuck": 2, "on_chain": 5},
            {"sender": addresses[2], "lowest_stuck": 3, "stuck": 1, "on_chain": None},
        ],
        key=lambda e: e["sender"],
    )
    full = loadgen.stuck_report(generator.stuck(), {})
    assert [p["hash"] for p in full["payments"]][2:] == ["h07"]  # later ones after every sender's lowest
    assert json.loads(json.dumps(full)) == full
    assert loadgen.stuck_report([], {}) == {"count": 0, "payments": [], "senders": []}


def test_presigned_payments_carry_their_sequence_number() -> None:
    signer = PaymentSigner(2, 2**40)
    sender, payee = Sender.generate(), Sender.generate()
    assert signer.presign(sender, 11, payee.address).sequence_number == 11


class _FakeNode:
    """A JSON-RPC node for ``LoadGenerator.run``: ``submit`` refuses chosen payments once
    (mempool full), answering only when ``gate`` is set; a sender's payments commit in
    sequence order, so one never accepted holds back the later ones (as a real pool does)."""

    def __init__(self, refuse_once: set[str], gate: asyncio.Event) -> None:
        self.refuse_once = refuse_once
        self.gate = gate
        self.posted = asyncio.Event()
        self.accepted: dict[tuple[str, int], str] = {}  # (sender hex, seq) -> hash
        self.next_seq: dict[str, int] = {}
        self.committed: list[str] = []

    def _commit(self) -> None:
        progress = True
        while progress:
            progress = False
            for (sender, seq), txn_hash in list(self.accepted.items()):
                if self.next_seq.get(sender, 0) == seq:
                    self.committed.append(txn_hash)
                    self.next_seq[sender] = seq + 1
                    del self.accepted[(sender, seq)]
                    progress = True

    async def answer(self, calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for call in calls:
            method, params = call["method"], call["params"]
            if method == "get_metadata":
                result: Any = {"version": 0, "chain_id": 2}
            elif method == "get_transactions":
                self._commit()
                start, limit = params[0], params[1]
                result = [{"hash": h} for h in self.committed[start - 1 : start - 1 + limit]]
            else:
                data = bytes.fromhex(params[0])
                txn_hash = hashlib.sha3_256(hash_seed("Transaction") + b"\x00" + data).hexdigest()
                if txn_hash in self.refuse_once:
                    self.refuse_once.discard(txn_hash)
                    self.posted.set()
                    await self.gate.wait()
                    out.append({"id": call["id"], "error": {"code": -32008, "message": "mempool is full"}})
                    continue
                sender, seq = data[:16].hex(), int.from_bytes(data[16:24], "little")
                self.accepted[(sender, seq)] = txn_hash
                result = None
            out.append({"id": call["id"], "result": result})
        return out


class _FakeResponse:
    status = 200

    def __init__(self, node: _FakeNode, calls: list[dict[str, Any]]) -> None:
        self._node, self._calls = node, calls
        self._body: Any = None

    async def __aenter__(self) -> _FakeResponse:
        self._body = await self._node.answer(self._calls)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        return None

    async def read(self) -> bytes:
        return json.dumps(self._body).encode()

    async def json(self, content_type: Any = None) -> Any:
        return self._body


class _FakeSession:
    def __init__(self, node: _FakeNode) -> None:
        self.node = node

    def post(self, _url: str, data: bytes | None = None, json: Any = None, headers: Any = None) -> _FakeResponse:
        calls = json if json is not None else loads(data or b"[]")
        return _FakeResponse(self.node, calls)


def test_a_payment_refused_after_the_load_ended_is_sent_again() -> None:
    """The answer "mempool full" to a batch still in flight when the load ends must be sent
    again: before, the drain stopped resubmitting as soon as no refusal was waiting at that
    instant, and the refused payment's later ones (accepted) never committed."""

    async def run() -> loadgen.LoadReport:
        config = loadgen.LoadConfig(url="http://fake", accounts=2, rate=None, duration_s=0.01, drain_s=10.0,
                                    presign=4, connections=1, warmup_s=0.0)
        generator = loadgen.LoadGenerator(config, chain_id=2)
        generator.senders = [Sender.generate() for _ in range(2)]
        generator.presign()
        first = generator._accounts[0].queue[0]
        assert first.sequence_number == 0
        gate = asyncio.Event()
        node = _FakeNode({first.hash}, gate)
        task = asyncio.ensure_future(generator.run(_FakeSession(node)))  # type: ignore[arg-type]
        await node.posted.wait()
        while time.perf_counter() < generator.report.start + config.duration_s:  # the load has ended
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)  # the pacer has looked for refusals to send again
        gate.set()  # now the refusal arrives
        return await task

    report = asyncio.run(run())
    assert report.rejected == {"-32008 mempool is full": 1}
    assert report.unsent_retries == 0
    assert (report.submitted, report.committed, report.lost, report.stuck) == (4, 4, 0, [])

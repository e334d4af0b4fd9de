"""Load generator for ``libra bench``: funded senders, pre-signed payments, paced JSON-RPC submits.

Pieces, in the order a run uses them:

* **accounts**: ``--accounts`` fresh Ed25519 keys. The faucet opens and funds one parent
  VASP per ``CHILDREN_PER_PARENT`` senders (concurrent ``/mint`` calls); each parent then
  opens its senders as child VASPs with an initial balance (pre-signed, batched
  ``submit``), so a thousand senders are funded in about two blocks rather than a
  thousand faucet round trips.
* **pre-signing**: peer-to-peer payments between the senders, built from a byte template
  (:class:`PaymentSigner`, byte-identical to ``builders.sign_transaction``), sequence
  numbers tracked locally, hex and hash computed before the clock starts.
* **submission**: a pacer hands batches of up to ``BATCH`` submits to several concurrent
  aiohttp connections, at ``rate`` per second (token bucket, :func:`tokens_due`) or, for
  ``max``, whenever fewer than ``window`` are in flight. A sender never has more than
  ``per_account_window`` payments in flight (mempool's per-account cap is 100). Mempool
  full (-32008) and too-many-for-account (-32009) answers are retried after a pause
  (the same bytes, so no sequence gap); every rejection is counted by code and message.
* **observation**: one task reads new versions with ``get_transactions``
  (``include_events=false``) and matches their hashes: the first time a hash is seen
  is its commit time; latency is submit → seen.

Pure helpers (pacing, percentiles, the result document) carry no I/O and are unit-tested.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import math
import os
import random
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import nacl.bindings

from libra.bcs import Serializer
from libra.client import builders
from libra.crypto.auth import compute_auth_key
from libra.crypto.ed25519 import Ed25519PrivateKey
from libra.crypto.hashing import hash_seed
from libra.types.move import AccountAddress
from libra.types.transaction import serialize_payload

BATCH = 20  # the node's JSON-RPC batch limit
CHILDREN_PER_PARENT = 100  # below mempool's per-account cap, so one wave opens them all
CHILD_BALANCE = 10_000_000  # 10 XUS: far more than a run's 1-micro-unit payments spend
PAYMENT_AMOUNT = 1
CURRENCY = "XUS"
RETRY_CODES = (-32008, -32009, "transport")  # mempool full, too many for the account, no answer:
# send the same bytes again (a payment the node already has is answered as accepted)
RETRY_PAUSE_SECS = 0.1
POLL_PAGE = 1000  # the node's page size limit
POLL_IDLE_SECS = 0.02
TICK_SECS = 0.01  # a paced run sends a part batch at least this often
_RAW_SEED = hash_seed("RawTransaction")
_TXN_SEED = hash_seed("Transaction")


# --- pure helpers ---------------------------------------------------------------------------


def tokens_due(elapsed_secs: float, rate: float, issued: int) -> int:
    """How many submissions a token bucket at ``rate``/s allows now, after ``issued`` so far."""
    if elapsed_secs <= 0 or rate <= 0:
        return 0
    return max(0, math.floor(elapsed_secs * rate) - issued)


def secs_until_next(elapsed_secs: float, rate: float, issued: int, batch: int = BATCH) -> float:
    """Seconds until ``batch`` more tokens are due (never negative)."""
    return max(0.0, (issued + batch) / rate - elapsed_secs)


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank ``q``-th percentile (0 < q <= 100) of ``values``; None when empty."""
    if not values:
        return None
    if not 0 < q <= 100:
        raise ValueError("percentile must be in (0, 100]")
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def steady_window(start: float, end: float, warmup_secs: float) -> tuple[float, float]:
    """The measured interval: ``warmup_secs`` after ``start`` (at most half the run) to ``end``."""
    warmup = min(warmup_secs, max(0.0, (end - start) / 2))
    return start + warmup, end


def rate_in_window(times: Sequence[float], window: tuple[float, float]) -> float:
    """Events per second among ``times`` that fall inside ``window``."""
    lo, hi = window
    if hi <= lo:
        return 0.0
    return sum(1 for t in times if lo <= t < hi) / (hi - lo)


RESULT_FIELDS = (
    "tps", "p50_ms", "p99_ms", "submitted", "committed", "duration_s", "validators",
    "verify_per_core", "rejected", "cpu_s",
)


def result_document(
    *,
    tps: float,
    latencies_ms: Sequence[float],
    submitted: int,
    committed: int,
    duration_s: float,
    validators: int,
    verify_per_core: float,
    rejected: dict[str, int],
    cpu_s: dict[str, float],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``--json`` document: the fields of ``RESULT_FIELDS`` first, then ``extra``."""
    p50, p99 = percentile(latencies_ms, 50), percentile(latencies_ms, 99)
    doc: dict[str, Any] = {
        "tps": round(tps, 1),
        "p50_ms": None if p50 is None else round(p50, 1),
        "p99_ms": None if p99 is None else round(p99, 1),
        "submitted": submitted,
        "committed": committed,
        "duration_s": round(duration_s, 2),
        "validators": validators,
        "verify_per_core": round(verify_per_core),
        "rejected": dict(sorted(rejected.items())),
        "cpu_s": {k: round(v, 2) for k, v in sorted(cpu_s.items())},
    }
    doc.update(extra or {})
    return doc


def rejection_reason(error: Any) -> str:
    """A short, stable label for a JSON-RPC error object: ``code message``."""
    if not isinstance(error, dict):
        return "malformed error"
    return f"{error.get('code')} {str(error.get('message', ''))[:120]}"


STUCK_LISTED = 20  # stuck payments listed in the report at most


@dataclass(frozen=True, slots=True)
class StuckPayment:
    """An accepted payment not seen committed: its sender (hex), sequence number and hash (hex)."""

    sender: str
    sequence_number: int
    hash: str


def stuck_senders(stuck: Sequence[StuckPayment]) -> dict[str, tuple[int, int]]:
    """Per sender of ``stuck``: (lowest stuck sequence number, how many are stuck), by address."""
    senders: dict[str, tuple[int, int]] = {}
    for payment in stuck:
        lowest, count = senders.get(payment.sender, (payment.sequence_number, 0))
        senders[payment.sender] = (min(lowest, payment.sequence_number), count + 1)
    return dict(sorted(senders.items()))


def stuck_report(
    stuck: Sequence[StuckPayment], on_chain: dict[str, int | None], limit: int = STUCK_LISTED
) -> dict[str, Any]:
    """The ``stuck`` part of the result document.

    ``payments``: up to ``limit`` stuck payments, each sender's lowest first (the one that
    holds the others back), then by sender and sequence number. ``senders``: every sender
    with a stuck payment, its lowest stuck sequence number and the account's sequence
    number on chain at the end (``on_chain``, None when unknown): equal means the payment
    at the head of the sender's queue is the one that never committed; lower means an
    earlier payment of the sender is missing too.
    """
    senders = stuck_senders(stuck)
    ordered = sorted(
        stuck,
        key=lambda p: (p.sequence_number != senders[p.sender][0], p.sender, p.sequence_number),
    )
    return {
        "count": len(stuck),
        "payments": [
            {"sender": p.sender, "sequence_number": p.sequence_number, "hash": p.hash} for p in ordered[:limit]
        ],
        "senders": [
            {"sender": sender, "lowest_stuck": lowest, "stuck": count, "on_chain": on_chain.get(sender)}
            for sender, (lowest, count) in senders.items()
        ],
    }


def submit_batch_body(first_id: int, hex_payloads: Sequence[str]) -> bytes:
    """A JSON-RPC batch of ``submit`` calls with ids ``first_id, first_id + 1, …``."""
    parts = [
        f'{{"jsonrpc":"2.0","id":{first_id + i},"method":"submit","params":["{data}"]}}'
        for i, data in enumerate(hex_payloads)
    ]
    return ("[" + ",".join(parts) + "]").encode()


def proc_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of process ``pid`` from ``/proc/PID/stat`` (None if gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            text = handle.read()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    # after "pid (comm) ": state is field 3, utime 14 and stime 15 (1-based) → indexes 11, 12
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_mb(pid: int) -> tuple[float, float] | None:
    """(current, peak) resident set size in MiB of ``pid`` from ``/proc/PID/status``."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return None
    values = {}
    for line in lines:
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    if "VmRSS" not in values:
        return None
    return values["VmRSS"], values.get("VmHWM", values["VmRSS"])


def measure_verify_per_core(seconds: float = 1.0) -> float:
    """PyNaCl (libsodium) Ed25519 verifies per second on this thread, over a payment-sized message."""
    key = Ed25519PrivateKey.from_bytes(hashlib.sha3_256(b"bench verify").digest())
    message = _RAW_SEED + bytes(range(200))
    signed = nacl.bindings.crypto_sign(message, key._secret)
    public = key.public_key().to_bytes()
    count = 0
    started = time.perf_counter()
    deadline = started + seconds
    while True:
        for _ in range(200):
            nacl.bindings.crypto_sign_open(signed, public)
        count += 200
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - started)


# --- signing --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sender:
    key: Ed25519PrivateKey
    address: AccountAddress
    auth_key: bytes
    secret: bytes = field(repr=False)
    public: bytes

    @classmethod
    def generate(cls) -> Sender:
        key = Ed25519PrivateKey.generate()
        auth_key = compute_auth_key(key.public_key())
        return cls(key, AccountAddress(auth_key[16:]), auth_key, key._secret, key.public_key().to_bytes())


@dataclass(frozen=True, slots=True)
class Presigned:
    hex: str  # what ``submit`` takes
    hash: str  # hex of the transaction hash, as get_transactions shows it
    sequence_number: int = 0


class PaymentSigner:
    """Signs ``peer_to_peer_with_metadata`` payments from a byte template.

    ``RawTransaction`` BCS is ``sender ‖ seq ‖ payload ‖ tail``; only the sender, the
    sequence number and the payee (inside the payload) change between payments, so the
    payload is built once per payee and the tail once per signer.
    """

    def __init__(
        self,
        chain_id: int,
        expiration_timestamp_secs: int,
        *,
        amount: int = PAYMENT_AMOUNT,
        currency: str = CURRENCY,
        max_gas_amount: int = builders.DEFAULT_MAX_GAS_AMOUNT,
        gas_unit_price: int = 0,
    ) -> None:
        self.amount = amount
        self.currency = currency
        tail = Serializer()
        tail.u64(max_gas_amount)
        tail.u64(gas_unit_price)
        tail.str(currency)
        tail.u64(expiration_timestamp_secs)
        tail.u8(chain_id)
        self._tail = tail.output()
        self._payloads: dict[bytes, bytes] = {}

    def payload_bytes(self, payee: AccountAddress) -> bytes:
        cached = self._payloads.get(payee.value)
        if cached is None:
            s = Serializer()
            serialize_payload(s, builders.peer_to_peer_with_metadata(self.currency, payee, self.amount))
            cached = self._payloads[payee.value] = s.output()
        return cached

    def sign(self, sender: Sender, sequence_number: int, payee: AccountAddress) -> tuple[bytes, bytes]:
        """(signed transaction BCS, transaction hash) of one payment."""
        raw = sender.address.value + sequence_number.to_bytes(8, "little") + self.payload_bytes(payee) + self._tail
        signature = nacl.bindings.crypto_sign(_RAW_SEED + raw, sender.secret)[:64]
        signed = raw + b"\x00\x20" + sender.public + b"\x40" + signature
        return signed, hashlib.sha3_256(_TXN_SEED + b"\x00" + signed).digest()

    def presign(self, sender: Sender, sequence_number: int, payee: AccountAddress) -> Presigned:
        signed, digest = self.sign(sender, sequence_number, payee)
        return Presigned(signed.hex(), digest.hex(), sequence_number)


def payment_plan(accounts: int, total: int, seed: int = 1) -> list[tuple[int, int]]:
    """(sender index, payee index) of ``total`` payments: round robin over senders,
    each paying a pseudo-random other account."""
    if accounts < 2:
        raise ValueError("payments need at least two accounts")
    rng = random.Random(seed)
    plan = []
    for k in range(total):
        sender = k % accounts
        payee = (sender + 1 + rng.randrange(accounts - 1)) % accounts
        plan.append((sender, payee))
    return plan


# --- the JSON-RPC side ----------------------------------------------------------------------


class RpcFailure(RuntimeError):
    """The node answered a setup call with an error or not at all."""


async def rpc_batch(session: aiohttp.ClientSession, url: str, calls: Sequence[tuple[str, list[Any]]]) -> list[Any]:
    """Answers (``result`` or the ``error`` object) of a JSON-RPC batch, in call order."""
    body = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)]
    async with session.post(url, json=body) as response:
        if response.status != 200:
            raise RpcFailure(f"HTTP {response.status}: {(await response.text())[:200]}")
        answers = await response.json(content_type=None)
    by_id = {a.get("id"): a for a in answers}
    return [by_id[i].get("result") if "error" not in by_id[i] else {"error": by_id[i]["error"]} for i in range(len(calls))]


async def rpc_call(session: aiohttp.ClientSession, url: str, method: str, params: list[Any]) -> Any:
    (answer,) = await rpc_batch(session, url, [(method, params)])
    if isinstance(answer, dict) and "error" in answer:
        raise RpcFailure(f"{method}: {answer['error']}")
    return answer


def faucet_url_for(json_rpc_url: str) -> str:
    base = json_rpc_url.rstrip("/")
    if base.endswith("/v1"):
        base = base[: -len("/v1")]
    return base + "/mint"


@dataclass(slots=True)
class _Account:
    index: int
    queue: deque[Presigned]
    inflight: int = 0
    retry_at: float = 0.0
    retries: int = 0  # how many payments at the head of ``queue`` are rejected ones to send again


@dataclass
class LoadConfig:
    url: str
    accounts: int = 1000
    rate: float | None = None  # None: as fast as the node takes them ("max")
    duration_s: float = 60.0
    connections: int = 4
    window: int = 5000  # max in flight in "max" mode
    per_account_window: int = 90
    warmup_s: float = 5.0
    drain_s: float = 30.0  # after submitting stops, wait this long for the rest to commit
    presign: int | None = None  # payments to pre-sign (default: rate × duration, or max_rate_hint × duration)
    max_rate_hint: float = 4000.0
    seed: int = 1


@dataclass
class LoadReport:
    config: LoadConfig
    submitted: int = 0  # accepted submissions
    attempts: int = 0
    committed: int = 0
    lost: int = 0  # accepted, never seen committed within the drain time
    rejected: Counter[str] = field(default_factory=Counter)
    commit_times: list[float] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)  # of payments submitted in the steady window
    submit_rpc_ms: list[float] = field(default_factory=list)  # round trip of each submit batch POST
    rejected_rpc_ms: list[float] = field(default_factory=list)  # round trip of POSTs with a rejection
    start: float = 0.0
    end: float = 0.0
    window: tuple[float, float] = (0.0, 0.0)
    tps: float = 0.0
    offered_tps: float = 0.0
    setup_s: float = 0.0
    presigned: int = 0
    ran_out: bool = False
    first_version: int = 0
    last_version: int = 0
    stuck: list[StuckPayment] = field(default_factory=list)  # accepted, not seen committed
    unsent_retries: int = 0  # refused payments not sent again before the drain ended


Progress = Callable[[dict[str, Any]], None]


class LoadGenerator:
    def __init__(
        self,
        config: LoadConfig,
        chain_id: int,
        progress: Progress | None = None,
        on_mark: Callable[[str], None] | None = None,
    ) -> None:
        self.config = config
        self.chain_id = chain_id
        self.progress = progress
        self.on_mark = on_mark  # called with "start", "window" (steady window begins) and "end" (load stops)
        self.report = LoadReport(config)
        self.senders: list[Sender] = []
        self._accounts: list[_Account] = []
        self._pending: dict[str, tuple[float, int]] = {}  # hash -> (submit time, account index)
        self._sequence_of: dict[str, int] = {}  # hash -> sequence number of an accepted payment
        self._issued = 0  # payments handed to connections (including retries re-issued)
        self._inflight = 0
        self._unanswered = 0  # payments handed to connections whose submit has not been answered
        self._cursor = 0
        self._next_version = 0
        self._submitting = False
        self._submit_times: list[float] = []

    # --- setup ----------------------------------------------------------------------------

    async def fund(self, session: aiohttp.ClientSession) -> None:
        """Open ``accounts`` senders: faucet parents, then child VASPs with a balance each."""
        cfg = self.config
        self.senders = [Sender.generate() for _ in range(cfg.accounts)]
        groups = [self.senders[i : i + CHILDREN_PER_PARENT] for i in range(0, len(self.senders), CHILDREN_PER_PARENT)]
        parents = [Sender.generate() for _ in groups]
        faucet = faucet_url_for(cfg.url)
        limit = asyncio.Semaphore(8)

        async def mint(parent: Sender, children: int) -> None:
            amount = children * CHILD_BALANCE + CHILD_BALANCE
            async with limit, session.post(
                faucet, params={"amount": str(amount), "auth_key": parent.auth_key.hex(), "currency_code": CURRENCY}
            ) as response:
                if response.status != 200:
                    raise RpcFailure(f"faucet: HTTP {response.status}: {(await response.text())[:200]}")

        await asyncio.gather(*(mint(p, len(g)) for p, g in zip(parents, groups, strict=True)))
        expiration = int(time.time()) + 600
        submissions = []
        for parent, children in zip(parents, groups, strict=True):
            for seq, child in enumerate(children):
                payload = builders.create_child_vasp_account(CURRENCY, child.address, child.auth_key[:16], False, CHILD_BALANCE)
                signed = builders.sign_transaction(
                    parent.key, parent.address, seq, payload, chain_id=self.chain_id, expiration_timestamp_secs=expiration
                )
                submissions.append(signed.bcs.hex())
        for i in range(0, len(submissions), BATCH):
            answers = await rpc_batch(session, cfg.url, [("submit", [h]) for h in submissions[i : i + BATCH]])
            for answer in answers:
                if isinstance(answer, dict) and "error" in answer:
                    raise RpcFailure(f"opening a sender failed: {answer['error']}")
        deadline = time.monotonic() + 60
        while True:
            states = []
            for start in range(0, len(groups), BATCH):
                states += await rpc_batch(
                    session, cfg.url, [("get_account", [c[-1].address.value.hex()]) for c in groups[start : start + BATCH]]
                )
            if all(isinstance(s, dict) and "address" in s for s in states):
                break
            if time.monotonic() > deadline:
                raise RpcFailure("senders were not opened within 60 s")
            await asyncio.sleep(0.1)

    def presign(self) -> None:
        cfg = self.config
        rate = cfg.rate if cfg.rate is not None else cfg.max_rate_hint
        total = cfg.presign if cfg.presign is not None else int(rate * cfg.duration_s * 1.05) + BATCH
        signer = PaymentSigner(self.chain_id, int(time.time()) + int(cfg.duration_s) + 3600)
        queues: list[deque[Presigned]] = [deque() for _ in self.senders]
        next_seq = [0] * len(self.senders)
        for sender_index, payee_index in payment_plan(len(self.senders), total, cfg.seed):
            sender = self.senders[sender_index]
            queues[sender_index].append(signer.presign(sender, next_seq[sender_index], self.senders[payee_index].address))
            next_seq[sender_index] += 1
        self._accounts = [_Account(i, q) for i, q in enumerate(queues)]
        self.report.presigned = total

    # --- the run ----------------------------------------------------------------------------

    def _take(self, count: int, now: float, retries_only: bool = False) -> list[tuple[int, Presigned]]:
        """Up to ``count`` next payments, round robin over senders that may send now
        (only rejected ones to send again when ``retries_only``)."""
        taken: list[tuple[int, Presigned]] = []
        accounts = self._accounts
        n = len(accounts)
        looked = 0
        cap = self.config.per_account_window
        while len(taken) < count and looked < n:
            account = accounts[self._cursor]
            self._cursor = (self._cursor + 1) % n
            looked += 1
            if retries_only and not account.retries:
                continue
            if account.queue and account.inflight < cap and account.retry_at <= now:
                taken.append((account.index, account.queue.popleft()))
                account.inflight += 1
                if account.retries:
                    account.retries -= 1
                looked = 0
        if not taken and not retries_only and all(not a.queue for a in accounts):
            self.report.ran_out = True
        return taken

    def _retries_left(self) -> bool:
        return any(a.retries for a in self._accounts)

    def _resubmitting_done(self) -> bool:
        """After the load: nothing refused waits to be sent again, and no submit is unanswered
        (an answer still to come may be a refusal that has to be sent again)."""
        return not self._retries_left() and self._unanswered == 0

    def unsent_retries(self) -> int:
        """Refused payments never sent again (the drain ended first)."""
        return sum(a.retries for a in self._accounts)

    async def _pacer(self, batches: asyncio.Queue[list[tuple[int, Presigned]] | None]) -> None:
        cfg = self.config
        start = self.report.start
        end = start + cfg.duration_s
        issued = 0
        last_sent = start
        window_marked = False
        while True:
            now = time.perf_counter()
            if now >= end or self.report.ran_out:
                break
            if not window_marked and now >= self.report.window[0]:
                window_marked = True
                self._mark("window")
            if cfg.rate is not None:
                due = tokens_due(now - start, cfg.rate, issued)
                if due == 0 or (due < BATCH and now - last_sent < TICK_SECS):
                    await asyncio.sleep(TICK_SECS / 2)
                    continue
                want = min(due, BATCH)
            else:
                want = min(BATCH, cfg.window - self._inflight)
                if want <= 0:
                    await asyncio.sleep(0.002)
                    continue
            batch = self._take(want, now)
            if not batch:
                await asyncio.sleep(0.002)
                # an open-loop run still owes these tokens: issued counts only what was sent
                continue
            issued += len(batch)
            last_sent = now
            self._inflight += len(batch)
            self._unanswered += len(batch)
            await batches.put(batch)
        # payments refused as "mempool full" hold up their senders' later ones: send them
        # again (nothing new) so that every accepted payment can commit, including those
        # refused in answers that arrive from here on
        deadline = time.perf_counter() + cfg.drain_s
        while not self._resubmitting_done() and time.perf_counter() < deadline:
            batch = self._take(BATCH, time.perf_counter(), retries_only=True)
            if not batch:
                await asyncio.sleep(0.01)
                continue
            self._inflight += len(batch)
            self._unanswered += len(batch)
            await batches.put(batch)
        for _ in range(cfg.connections):
            await batches.put(None)

    async def _connection(
        self, session: aiohttp.ClientSession, batches: asyncio.Queue[list[tuple[int, Presigned]] | None]
    ) -> None:
        url = self.config.url
        report = self.report
        while (batch := await batches.get()) is not None:
            sent_at = time.perf_counter()
            for account_index, item in batch:
                self._pending[item.hash] = (sent_at, account_index)
            body = submit_batch_body(0, [item.hex for _, item in batch])
            try:
                async with session.post(url, data=body, headers={"Content-Type": "application/json"}) as response:
                    answers = json.loads(await response.read())
            except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
                answers = [{"id": i, "error": {"code": "transport", "message": type(exc).__name__}} for i in range(len(batch))]
            if isinstance(answers, dict):  # one error for the whole batch
                answers = [{"id": i, "error": answers.get("error")} for i in range(len(batch))]
            report.attempts += len(batch)
            self._unanswered -= len(batch)
            now = time.perf_counter()
            report.submit_rpc_ms.append((now - sent_at) * 1000)
            if any(isinstance(a, dict) and a.get("error") is not None for a in answers):
                report.rejected_rpc_ms.append((now - sent_at) * 1000)
            for answer in answers:
                account_index, item = batch[answer["id"]]
                error = answer.get("error")
                if error is None:
                    self._sequence_of[item.hash] = item.sequence_number
                    report.submitted += 1
                    self._submit_times.append(sent_at)
                    continue
                report.rejected[rejection_reason(error)] += 1
                if self._pending.pop(item.hash, None) is None:
                    continue  # already seen committed (a retry of a committed payment)
                account = self._accounts[account_index]
                account.inflight -= 1
                self._inflight -= 1
                if isinstance(error, dict) and error.get("code") in RETRY_CODES:
                    account.queue.appendleft(item)
                    account.retries += 1
                    account.retry_at = now + RETRY_PAUSE_SECS

    async def _observer(self, session: aiohttp.ClientSession, stop: asyncio.Event) -> None:
        url = self.config.url
        report = self.report
        pages = 4
        while not stop.is_set():
            calls = [("get_transactions", [self._next_version + i * POLL_PAGE, POLL_PAGE, False]) for i in range(pages)]
            try:
                answers = await rpc_batch(session, url, calls)
            except (TimeoutError, aiohttp.ClientError, RpcFailure):
                await asyncio.sleep(0.1)
                continue
            seen_at = time.perf_counter()
            got = 0
            for page in answers:
                if not isinstance(page, list):
                    break
                for txn in page:
                    got += 1
                    pending = self._pending.pop(txn["hash"], None)
                    if pending is None:
                        continue
                    submitted_at, account_index = pending
                    self._accounts[account_index].inflight -= 1
                    self._inflight -= 1
                    report.committed += 1
                    report.commit_times.append(seen_at)
                    if report.window[0] <= submitted_at < report.window[1]:
                        report.latencies_ms.append((seen_at - submitted_at) * 1000)
                if len(page) < POLL_PAGE:
                    break
            self._next_version += got
            report.last_version = self._next_version - 1
            if got < POLL_PAGE:
                await asyncio.sleep(POLL_IDLE_SECS)

    async def _ticker(self, stop: asyncio.Event) -> None:
        if self.progress is None:
            return
        last_committed, last_time = 0, time.perf_counter()
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)
            now = time.perf_counter()
            report = self.report
            self.progress(
                {
                    "elapsed_s": now - report.start,
                    "submitted": report.submitted,
                    "committed": report.committed,
                    "inflight": self._inflight,
                    "rejected": sum(report.rejected.values()),
                    "tps_now": (report.committed - last_committed) / max(1e-9, now - last_time),
                    "submitting": self._submitting,
                }
            )
            last_committed, last_time = report.committed, now

    def stuck(self) -> list[StuckPayment]:
        """Accepted payments still pending (not seen committed)."""
        out = []
        for txn_hash, (_, account_index) in self._pending.items():
            sequence_number = self._sequence_of.get(txn_hash)
            if sequence_number is None:
                continue  # in flight, not (yet) accepted
            out.append(StuckPayment(self.senders[account_index].address.value.hex(), sequence_number, txn_hash))
        return out

    async def on_chain_sequence_numbers(
        self, session: aiohttp.ClientSession, url: str, senders: Sequence[str]
    ) -> dict[str, int | None]:
        """Each sender's sequence number as ``get_account`` at ``url`` tells it (None: no answer)."""
        found: dict[str, int | None] = {}
        for start in range(0, len(senders), BATCH):
            part = senders[start : start + BATCH]
            try:
                answers = await rpc_batch(session, url, [("get_account", [s]) for s in part])
            except (TimeoutError, aiohttp.ClientError, RpcFailure, ValueError):
                answers = [None] * len(part)
            for sender, answer in zip(part, answers, strict=True):
                ok = isinstance(answer, dict) and "sequence_number" in answer
                found[sender] = int(answer["sequence_number"]) if ok else None
        return found

    def _mark(self, name: str) -> None:
        if self.on_mark is not None:
            self.on_mark(name)

    async def run(self, session: aiohttp.ClientSession) -> LoadReport:
        cfg = self.config
        report = self.report
        metadata = await rpc_call(session, cfg.url, "get_metadata", [])
        self._next_version = int(metadata["version"]) + 1
        report.first_version = self._next_version
        batches: asyncio.Queue[list[tuple[int, Presigned]] | None] = asyncio.Queue(maxsize=cfg.connections * 2)
        stop_observer = asyncio.Event()
        self._mark("start")
        report.start = time.perf_counter()
        report.window = steady_window(report.start, report.start + cfg.duration_s, cfg.warmup_s)
        self._submitting = True
        observer = asyncio.create_task(self._observer(session, stop_observer))
        ticker = asyncio.create_task(self._ticker(stop_observer))
        connections = [asyncio.create_task(self._connection(session, batches)) for _ in range(cfg.connections)]
        await self._pacer(batches)
        await asyncio.gather(*connections)
        report.end = time.perf_counter()
        self._mark("end")
        self._submitting = False
        if report.ran_out:
            report.window = (report.window[0], min(report.window[1], report.end))
        deadline = time.perf_counter() + cfg.drain_s
        while self._pending and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        stop_observer.set()
        await observer
        await ticker
        report.lost = len(self._pending)
        report.stuck = self.stuck()
        report.unsent_retries = self.unsent_retries()
        report.tps = rate_in_window(report.commit_times, report.window)
        report.offered_tps = rate_in_window(self._submit_times, report.window)
        return report

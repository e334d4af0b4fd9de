"""The supervisor's index: committed events of supervisory interest, in SQLite next to the store.

What it records, version by version (everything is read back from the store, so the
index can always be rebuilt from it; events and transactions are never pruned):

* ``transfers``: each payment (``sentpayment`` that is not a preburn or a seizure), with
  its value in micro-XDX and the travel-rule limit in force; for those at or over the limit,
  whether the payer's travel-rule attestation (metadata signature) came with it and
  whether the rule required one;
* ``freezes``: freeze and unfreeze events; ``seizures``: executed lawful orders;
* ``supply``: per currency, supply and attested reserve after each block that changed
  either (mint, burn, attestation events: exact from genesis on);
* ``attestations``: each reserve attestation; ``refused``: payments refused because an
  account was frozen, from the chain (a payment to a frozen account aborts) or from
  admission (a frozen sender's submission, seen by this node, never reaches the chain);
  attestations refused for a reserve below supply (``shortfalls``). Admission refusals are
  not in the store: those this node saw since it started are kept in memory until indexed.

Life cycle: the index is kept once asked for (``start``, at the first supervisor request)
and resumes whenever the node starts with its file present. A thread follows the store:
woken by each commit, it indexes the new versions in one SQLite transaction per chunk,
with the last indexed version in the same transaction, so a crash loses at most the chunk
in flight and the next start resumes after the last committed one. A file that SQLite
cannot read, or that belongs to another chain (its genesis hash differs), is deleted and
rebuilt from version 0. Queries open their own read-only connection (WAL: readers never
wait for the writer).
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from libra.bcs import BcsError
from libra.crypto.hashing import sha3_256, user_transaction_hash
from libra.framework import events as ev
from libra.framework.payments import is_dual_attestation_required
from libra.framework.state import BlockState, StateView, TxnState
from libra.framework.views import get_chain_view, get_currency_views
from libra.storage.errors import StorageError
from libra.storage.libradb import LibraDB, StoredEvent
from libra.types.ledger import KEPT_MOVE_ABORT
from libra.types.move import AccountAddress, currency_code_of
from libra.types.transaction import (
    AddressArg,
    Script,
    ScriptFunction,
    SignedTransaction,
    U8VectorArg,
    U64Arg,
    transaction_from_bcs,
)
from libra.types.write_set import ContractEvent

log = logging.getLogger("libra.node.event_index")

SCHEMA_VERSION = "1"
CHUNK_VERSIONS = 2000
INT64_MAX = (1 << 63) - 1
FROZEN_ABORT = 1281  # AccountFreezing EACCOUNT_FROZEN
SHORTFALL_ABORT = 776  # Reserve ERESERVE_BELOW_SUPPLY

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS transfers (
    version INTEGER NOT NULL, time INTEGER NOT NULL, sender TEXT NOT NULL, receiver TEXT NOT NULL,
    currency TEXT NOT NULL, amount TEXT NOT NULL, amount_xdx INTEGER NOT NULL, limit_xdx INTEGER NOT NULL,
    attested INTEGER NOT NULL, required INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS transfers_by_sender ON transfers (sender, time);
CREATE INDEX IF NOT EXISTS transfers_by_value ON transfers (amount_xdx);
CREATE INDEX IF NOT EXISTS transfers_by_time ON transfers (time);
CREATE TABLE IF NOT EXISTS freezes (
    version INTEGER NOT NULL, time INTEGER NOT NULL, address TEXT NOT NULL, frozen INTEGER NOT NULL, initiator TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS seizures (
    version INTEGER NOT NULL, time INTEGER NOT NULL, order_hash TEXT NOT NULL, target TEXT NOT NULL,
    destination TEXT NOT NULL, currency TEXT NOT NULL, amount TEXT NOT NULL, burned INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS supply (
    version INTEGER NOT NULL, time INTEGER NOT NULL, currency TEXT NOT NULL, supply TEXT NOT NULL, reserve TEXT);
CREATE TABLE IF NOT EXISTS attestations (
    version INTEGER NOT NULL, time INTEGER NOT NULL, currency TEXT NOT NULL, reserve TEXT NOT NULL,
    as_of INTEGER NOT NULL, report_hash TEXT NOT NULL, attester TEXT NOT NULL, supply TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS refused (
    version INTEGER, time INTEGER NOT NULL, sender TEXT NOT NULL, receiver TEXT, currency TEXT, amount TEXT,
    reason TEXT NOT NULL, source TEXT NOT NULL, txn_hash TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS shortfalls (
    version INTEGER NOT NULL, time INTEGER NOT NULL, attester TEXT NOT NULL, currency TEXT NOT NULL,
    reserve TEXT NOT NULL, as_of INTEGER NOT NULL);
"""
TABLES = ("transfers", "freezes", "seizures", "supply", "attestations", "refused", "shortfalls")


def _tag_bytes(cls: type[ev.EventData]) -> bytes:
    return cls.TYPE_TAG.to_bcs()


# Events this index reads; any other event is skipped without decoding (its bytes do not
# contain any of these struct tags, which every event of these types does).
WANTED = (
    ev.SentPaymentEvent, ev.MintEvent, ev.BurnEvent, ev.NewBlockEvent, ev.FreezeAccountEvent,
    ev.UnfreezeAccountEvent, ev.FundsSeizedEvent, ev.ReserveAttestationEvent,
)
_WANTED_TAGS = tuple(_tag_bytes(cls) for cls in WANTED)


@dataclass(frozen=True, slots=True)
class Payment:
    """What a payment transaction asked for (from its payload)."""

    sender: AccountAddress
    payee: AccountAddress
    currency: str
    amount: int
    metadata_signature: bytes


def payment_of(txn: SignedTransaction) -> Payment | None:
    """The payment of a ``peer_to_peer_with_metadata`` script function or Move script."""
    payload = txn.raw_txn.payload
    if isinstance(payload, ScriptFunction) and payload.function == "peer_to_peer_with_metadata" and len(payload.args) == 4:
        code = currency_code_of(payload.ty_args[0]) if len(payload.ty_args) == 1 else None
        args = payload.args
        if code is None or len(args[0]) != 16 or len(args[1]) != 8:
            return None
        signature = args[3][1:] if args[3] and args[3][0] == len(args[3]) - 1 else b""
        return Payment(txn.raw_txn.sender, AccountAddress(args[0]), code, int.from_bytes(args[1], "little"), signature)
    if isinstance(payload, Script) and len(payload.args) == 4 and len(payload.ty_args) == 1:
        payee, amount, _, signature_arg = payload.args
        code = currency_code_of(payload.ty_args[0])
        if code is None or not (isinstance(payee, AddressArg) and isinstance(amount, U64Arg) and isinstance(signature_arg, U8VectorArg)):
            return None
        return Payment(txn.raw_txn.sender, payee.value, code, amount.value, signature_arg.value)
    return None


def attestation_args_of(txn: SignedTransaction) -> tuple[str, int, int] | None:
    """(currency, reserve, as-of) of a ``ReserveScripts::attest_reserve`` payload."""
    payload = txn.raw_txn.payload
    if not (isinstance(payload, ScriptFunction) and payload.function == "attest_reserve" and len(payload.args) == 4):
        return None
    code = currency_code_of(payload.ty_args[0]) if len(payload.ty_args) == 1 else None
    if code is None or len(payload.args[1]) != 8 or len(payload.args[2]) != 8:
        return None
    return code, int.from_bytes(payload.args[1], "little"), int.from_bytes(payload.args[2], "little")


class _Rates:
    """The travel-rule limit and each currency's XDX rate in force, read from the chain."""

    def __init__(self, view: StateView) -> None:
        self.view = view
        self.limit = get_chain_view(view).dual_attestation_limit
        self.rates = {c.code: c.to_xdx_exchange_rate_raw for c in get_currency_views(view)}

    def to_xdx(self, code: str, amount: int) -> int:
        return min((amount * self.rates.get(code, 0)) >> 32, INT64_MAX)


class _Ingest:
    """Turns the store's versions into index rows (one SQLite transaction per chunk)."""

    def __init__(self, db: LibraDB, state_at: Callable[[int | None], StateView], cursor: sqlite3.Cursor, now: int) -> None:
        self.db, self.state_at, self.cursor, self.time = db, state_at, cursor, now
        self.supply: dict[str, int] = {}
        self.reserve: dict[str, int] = {}
        self.changed: set[str] = set()
        for currency, supply, reserve in cursor.execute(
            "SELECT currency, supply, reserve FROM supply WHERE rowid IN (SELECT MAX(rowid) FROM supply GROUP BY currency)"
        ):
            self.supply[currency] = int(supply)
            if reserve is not None:
                self.reserve[currency] = int(reserve)

    def rates_at(self, version: int) -> _Rates:
        try:
            return _Rates(self.state_at(version))
        except StorageError:  # state this old is pruned: the latest limit and rates stand in
            return _Rates(self.state_at(None))

    def chunk(self, first: int, last: int) -> None:
        """Versions ``first..last``; the limit and rates are those at ``last`` (a chunk is one
        block when following the chain, up to CHUNK_VERSIONS when catching up)."""
        rates = self.rates_at(last)
        for version in range(first, last + 1):
            self.version(version, rates)
        self._flush_supply(last)

    def version(self, version: int, rates: _Rates) -> None:
        stored = self.db.get_events_by_version(version)
        if not stored:
            self._failed(version, rates)
            return
        decoded = [self._decode(e) for e in stored if any(tag in e.event_bytes for tag in _WANTED_TAGS)]
        events = [(key, data) for key, data in decoded if data is not None]
        seized = any(isinstance(data, ev.FundsSeizedEvent) for _, data in events)
        for key, data in events:
            match data:
                case ev.NewBlockEvent():  # a block starts: the last one's supply row, then its time
                    self._flush_supply(version - 1)
                    self.time = data.time_microseconds
                case ev.SentPaymentEvent():
                    sender = key.address
                    if not seized and data.payee != sender:
                        self._transfer(version, sender, data, rates)
                case ev.MintEvent():
                    self._add_supply(data.currency_code.decode(), data.amount)
                case ev.BurnEvent():
                    self._add_supply(data.currency_code.decode(), -data.amount)
                case ev.ReserveAttestationEvent():
                    code = data.currency_code.decode()
                    self.reserve[code] = data.reserve
                    self.supply[code] = data.total_value  # the event carries the exact supply
                    self.changed.add(code)
                    self.cursor.execute(
                        "INSERT INTO attestations VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (version, self.time, code, str(data.reserve), data.as_of_usecs, data.report_hash.hex(),
                         data.attester.hex(), str(data.total_value)),
                    )
                case ev.FreezeAccountEvent() | ev.UnfreezeAccountEvent():
                    frozen = isinstance(data, ev.FreezeAccountEvent)
                    address = data.frozen_address if isinstance(data, ev.FreezeAccountEvent) else data.unfrozen_address
                    self.cursor.execute(
                        "INSERT INTO freezes VALUES (?, ?, ?, ?, ?)",
                        (version, self.time, address.hex(), int(frozen), data.initiator_address.hex()),
                    )
                case ev.FundsSeizedEvent():
                    self.cursor.execute(
                        "INSERT INTO seizures VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (version, self.time, data.order_hash.hex(), data.target.hex(), data.destination.hex(),
                         data.currency_code.decode(), str(data.amount), int(data.burned)),
                    )

    @staticmethod
    def _decode(stored: StoredEvent) -> tuple[Any, ev.EventData | None]:
        try:
            event = ContractEvent.from_bcs(stored.event_bytes)
        except (BcsError, ValueError):
            return None, None
        return event.key, ev.decode_event_data(event.type_tag, event.event_data)

    def _add_supply(self, code: str, delta: int) -> None:
        self.supply[code] = self.supply.get(code, 0) + delta
        self.changed.add(code)

    def _flush_supply(self, version: int) -> None:
        for code in sorted(self.changed):
            reserve = self.reserve.get(code)
            self.cursor.execute(
                "INSERT INTO supply VALUES (?, ?, ?, ?, ?)",
                (version, self.time, code, str(self.supply[code]), str(reserve) if reserve is not None else None),
            )
        self.changed.clear()

    def _transaction(self, version: int) -> SignedTransaction | None:
        try:
            txn = transaction_from_bcs(self.db.get_transaction(version))
        except (BcsError, ValueError, StorageError):
            return None
        return txn if isinstance(txn, SignedTransaction) else None

    def _transfer(self, version: int, sender: AccountAddress, data: ev.SentPaymentEvent, rates: _Rates) -> None:
        code = data.currency_code.decode()
        value = rates.to_xdx(code, data.amount)
        attested = required = False
        if value >= rates.limit:  # a large transfer: did the travel-rule attestation come with it?
            txn = self._transaction(version)
            payment = payment_of(txn) if txn is not None else None
            attested = payment is not None and bool(payment.metadata_signature)
            try:
                state = TxnState(BlockState(rates.view))
                required = is_dual_attestation_required(state, code, sender, data.payee, data.amount)
            except Exception:  # an account of a pruned past: leave "required" unknown (False)
                required = False
        self.cursor.execute(
            "INSERT INTO transfers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (version, self.time, sender.hex(), data.payee.hex(), code, str(data.amount), value, rates.limit,
             int(attested), int(required)),
        )

    def _failed(self, version: int, rates: _Rates) -> None:
        """A version without events: an aborted transaction may be a refused payment or attestation."""
        info = self.db.get_transaction_info(version)
        status = info.status
        if status.kind != KEPT_MOVE_ABORT or status.location is None or status.location.module is None:
            return
        module, code = status.location.module.name, status.abort_code
        if (module, code) not in (("AccountFreezing", FROZEN_ABORT), ("Reserve", SHORTFALL_ABORT)):
            return
        txn = self._transaction(version)
        if txn is None:
            return
        if module == "Reserve":
            args = attestation_args_of(txn)
            if args is not None:
                self.cursor.execute(
                    "INSERT INTO shortfalls VALUES (?, ?, ?, ?, ?, ?)",
                    (version, self.time, txn.raw_txn.sender.hex(), args[0], str(args[1]), args[2]),
                )
            return
        payment = payment_of(txn)
        if payment is not None:
            record_refusal(self.cursor, version, self.time, txn.raw_txn.sender, payment, "payee frozen (EACCOUNT_FROZEN)",
                           "chain", user_transaction_hash(txn.to_bcs()))


def record_refusal(
    cursor: sqlite3.Cursor, version: int | None, time: int, sender: AccountAddress, payment: Payment | None,
    reason: str, source: str, txn_hash: bytes,
) -> None:
    """One refused submission (``INSERT OR IGNORE``: a wallet retrying is counted once)."""
    cursor.execute(
        "INSERT OR IGNORE INTO refused VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (version, time, sender.hex(), payment.payee.hex() if payment else None, payment.currency if payment else None,
         str(payment.amount) if payment else None, reason, source, txn_hash.hex()),
    )


class EventIndex:
    """The index of one node's store (see the module docstring)."""

    def __init__(self, db: LibraDB, path: Path, state_at: Callable[[int | None], StateView]) -> None:
        self._db, self.path, self._state_at = db, path, state_at
        self._writer: sqlite3.Connection | None = None
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()
        self._closed = False
        self._lock = threading.Lock()  # start/close; the writer connection is the thread's alone
        self._refusals: deque[tuple[bytes, str, int]] = deque(maxlen=10_000)
        self.indexed_through = -1
        self.failure: str | None = None

    # --- life cycle ------------------------------------------------------------------------

    @property
    def kept(self) -> bool:
        """An index file exists: a supervisor asked for it on an earlier run."""
        return self.path.exists()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Open (rebuilding if needed) and follow the store in a thread; idempotent."""
        with self._lock:
            if self._closed or self._thread is not None:
                return
            self._writer = self._open_writer()
            self._thread = threading.Thread(target=self._run, name="event-index", daemon=True)
            self._thread.start()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._wake.set()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=30)
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def on_commit(self, _block: object) -> None:
        """Commit listener (event loop): wake the indexing thread."""
        if self._thread is not None:
            self._wake.set()

    def on_refused(self, data: bytes, vm_status: str | None, ledger_time_usecs: int) -> None:
        """Admission listener: a submission refused because its sender is frozen. Kept in memory
        until the index records it (so also those seen before the index was started)."""
        if vm_status == "SENDING_ACCOUNT_FROZEN":
            self._refusals.append((data, vm_status, ledger_time_usecs))
            self._wake.set()

    # --- writing ---------------------------------------------------------------------------

    def _genesis_id(self) -> str:
        return sha3_256(self._db.get_transaction(0)).hex()

    def _open_writer(self) -> sqlite3.Connection:
        try:
            connection = self._connect_and_check()
        except sqlite3.DatabaseError as exc:
            log.warning("supervisor index %s is unreadable (%s): rebuilding it from the store", self.path, exc)
            self._delete_files()
            connection = self._connect_and_check()
        return connection

    def _connect_and_check(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.executescript(SCHEMA)
            meta = dict(connection.execute("SELECT key, value FROM meta").fetchall())
            tip = self._db.latest_version
            stale = (
                meta.get("schema") not in (None, SCHEMA_VERSION)
                or (meta.get("genesis") is not None and meta.get("genesis") != self._genesis_id())
                or int(meta.get("indexed_through", "-1")) > (tip if tip is not None else -1)
            )
            if stale:
                log.warning("supervisor index %s is not this store's: rebuilding it", self.path)
                connection.execute("BEGIN")
                for table in (*TABLES, "meta"):
                    connection.execute(f"DELETE FROM {table}")  # noqa: S608 - table names are constants
                connection.execute("COMMIT")
                meta = {}
            if not meta:
                connection.execute("BEGIN")
                connection.executemany(
                    "INSERT INTO meta VALUES (?, ?)",
                    [("schema", SCHEMA_VERSION), ("genesis", self._genesis_id()), ("indexed_through", "-1"), ("time", "0")],
                )
                connection.execute("COMMIT")
                meta = {"indexed_through": "-1"}
            self.indexed_through = int(meta["indexed_through"])
            return connection
        except BaseException:
            connection.close()
            raise

    def _delete_files(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(str(self.path) + suffix).unlink()

    def _run(self) -> None:
        try:
            while not self._closed:
                if not self.step():
                    self._wake.wait(timeout=1.0)
                    self._wake.clear()
        except Exception as exc:  # the index must never take the node down; say why it stopped
            self.failure = f"{type(exc).__name__}: {exc}"
            log.exception("supervisor index stopped")

    def step(self) -> bool:
        """Index the next chunk of committed versions and pending refusals; True if there was work."""
        connection = self._writer
        assert connection is not None
        tip = self._db.latest_version
        refusals = [self._refusals.popleft() for _ in range(len(self._refusals))]
        if (tip is None or tip <= self.indexed_through) and not refusals:
            return False
        cursor = connection.cursor()
        cursor.execute("BEGIN")
        try:
            now = int(cursor.execute("SELECT value FROM meta WHERE key = 'time'").fetchone()[0])
            ingest = _Ingest(self._db, self._state_at, cursor, now)
            last = self.indexed_through
            if tip is not None and tip > self.indexed_through:
                last = min(tip, self.indexed_through + CHUNK_VERSIONS)
                ingest.chunk(self.indexed_through + 1, last)
            for data, status, ledger_time in refusals:
                self._record_admission_refusal(cursor, data, status, ledger_time)
            cursor.execute("UPDATE meta SET value = ? WHERE key = 'indexed_through'", (str(last),))
            cursor.execute("UPDATE meta SET value = ? WHERE key = 'time'", (str(ingest.time),))
            cursor.execute("COMMIT")
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        self.indexed_through = last
        return True

    @staticmethod
    def _record_admission_refusal(cursor: sqlite3.Cursor, data: bytes, status: str, ledger_time: int) -> None:
        try:
            txn = SignedTransaction.from_bcs(data)
        except (BcsError, ValueError):
            return
        record_refusal(cursor, None, ledger_time, txn.raw_txn.sender, payment_of(txn), f"sender frozen ({status})",
                       "admission", user_transaction_hash(data))

    def catch_up(self) -> None:
        """Index everything committed so far, in this thread (tools and tests)."""
        if self._writer is None:
            self._writer = self._open_writer()
        while self.step():
            pass

    # --- reading ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def reader(self) -> Iterator[sqlite3.Connection]:
        """A read-only connection (open it in a worker thread, not on the event loop)."""
        connection = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
        try:
            connection.row_factory = sqlite3.Row
            yield connection
        finally:
            connection.close()

    def tables(self) -> dict[str, list[dict[str, Any]]]:
        """Every row of every table (tests compare a resumed index with a rebuilt one)."""
        with self.reader() as connection:
            return {
                table: [dict(row) for row in connection.execute(f"SELECT * FROM {table} ORDER BY rowid")]  # noqa: S608
                for table in TABLES
            }


# --- queries (each takes a read connection from EventIndex.reader) ----------------------------------


def _rows(connection: sqlite3.Connection, sql: str, *args: object) -> list[dict[str, Any]]:
    return [dict(row) for row in connection.execute(sql, args)]


def query_large_transfers(connection: sqlite3.Connection, limit: int = 100) -> list[dict[str, Any]]:
    """Transfers at or over the travel-rule limit in force when made, newest first."""
    return _rows(connection, "SELECT * FROM transfers WHERE amount_xdx >= limit_xdx ORDER BY version DESC, rowid DESC LIMIT ?", limit)


def query_travel_rule(connection: sqlite3.Connection) -> dict[str, int]:
    """Counts over large transfers: all, with an attestation, required, required and attested."""
    row = connection.execute(
        "SELECT COUNT(*), TOTAL(attested), TOTAL(required), TOTAL(required * attested), COUNT(DISTINCT sender) "
        "FROM transfers WHERE amount_xdx >= limit_xdx"
    ).fetchone()
    total = connection.execute("SELECT COUNT(*) FROM transfers").fetchone()[0]
    return {"transfers": int(total), "large": int(row[0]), "attested": int(row[1]), "required": int(row[2]),
            "required_attested": int(row[3]), "large_senders": int(row[4])}


def query_frozen(connection: sqlite3.Connection) -> list[dict[str, Any]]:
    """Accounts frozen now (their latest freeze event froze them), most recent first."""
    return _rows(
        connection,
        "SELECT address, version, time, initiator FROM freezes WHERE rowid IN "
        "(SELECT MAX(rowid) FROM freezes GROUP BY address) AND frozen = 1 ORDER BY version DESC",
    )


def query_latest(connection: sqlite3.Connection, table: str, limit: int = 100) -> list[dict[str, Any]]:
    assert table in TABLES
    return _rows(connection, f"SELECT * FROM {table} ORDER BY rowid DESC LIMIT ?", limit)  # noqa: S608


def query_supply_history(connection: sqlite3.Connection, points: int = 400) -> dict[str, list[dict[str, Any]]]:
    """Per currency, supply and reserve over time: at most ``points`` rows, evenly spread,
    always with the first and the latest."""
    history: dict[str, list[dict[str, Any]]] = {}
    for (currency,) in connection.execute("SELECT DISTINCT currency FROM supply ORDER BY currency"):
        rows = _rows(connection, "SELECT version, time, supply, reserve FROM supply WHERE currency = ? ORDER BY rowid", currency)
        if len(rows) > points:
            step = (len(rows) - 1) / (points - 1)
            rows = [rows[round(i * step)] for i in range(points)]
        history[currency] = rows
    return history


def query_near_limit(connection: sqlite3.Connection, margin_percent: int, since: int, limit: int = 20_000) -> list[dict[str, Any]]:
    """Transfers from chain time ``since`` just under the limit in force (within ``margin_percent``
    of it), by sender and time."""
    return _rows(
        connection,
        "SELECT * FROM (SELECT version, time, sender, receiver, currency, amount, amount_xdx, limit_xdx FROM transfers "
        "WHERE time >= ? AND amount_xdx < limit_xdx AND amount_xdx >= limit_xdx - limit_xdx * ? / 100 "
        "ORDER BY version DESC LIMIT ?) ORDER BY sender, time, version",
        since, margin_percent, limit,
    )


def query_busy_senders(
    connection: sqlite3.Connection, window_usecs: int, count: int, value: int, since: int, limit: int = 50
) -> list[dict[str, Any]]:
    """Senders with at least ``count`` transfers, or ``value`` micro-XDX, in one window of chain
    time (windows from chain time ``since``)."""
    return _rows(
        connection,
        "SELECT sender, time / ? AS window, COUNT(*) AS transfers, TOTAL(amount_xdx) AS value, MIN(version) AS first_version, "
        "MAX(version) AS last_version, MIN(time) AS first_time, MAX(time) AS last_time FROM transfers WHERE time >= ? "
        "GROUP BY sender, window HAVING transfers >= ? OR value >= ? ORDER BY transfers DESC, value DESC LIMIT ?",
        window_usecs, since, count, value, limit,
    )


def query_meta(connection: sqlite3.Connection) -> dict[str, str]:
    return {row[0]: row[1] for row in connection.execute("SELECT key, value FROM meta")}

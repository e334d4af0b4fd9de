"""The JSON-RPC backend of a node: Diem's methods answered from the node's ledger.

Reads take one ledger snapshot per call and answer from that version, so a response
never mixes versions and never shows state older than its envelope. Store errors
that mean "not there" become Diem's empty answers (``null``/``[]``); anything else
surfaces as a server error through the dispatcher.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import web

from libra.api import views
from libra.api.backend import JsonText, LedgerState
from libra.api.dispatcher import encode_json
from libra.api.errors import (
    JsonRpcError,
    mempool_invalid_seq_number,
    mempool_invalid_update,
    mempool_is_full,
    mempool_too_many_transactions,
    vm_validation_error,
)
from libra.api.metrics import ApiMetrics
from libra.api.preverify import SubmissionVerifier
from libra.api.server import METRICS_KEY
from libra.framework.views import get_account_view, get_chain_view, get_currency_views
from libra.mempool.pool import AddStatus
from libra.native import CORE
from libra.node.ledger import CommittedBlock
from libra.node.runtime import NodeRuntime
from libra.storage.libradb import LibraDB
from libra.types.move import AccountAddress
from libra.types.transaction import SignedTransaction, transaction_from_bcs

JsonValue = Any
RECENT_TRANSACTIONS = 20_000


NativeView = Callable[[int, bytes, bytes], str | None]


def transaction_page_text(
    db: LibraDB, start_version: int, end: int, render: NativeView, view: Callable[[int], JsonValue]
) -> JsonText:
    """``get_transactions``' page ``[start_version, end)`` without events as JSON text:
    ``render(version, data, info)`` (the native views) writes the common transactions, byte for
    byte what ``encode_json`` writes for their Python views; ``view(version)`` gives the Python
    view of the others."""
    parts = []
    for version, (data, info) in enumerate(db.get_transactions_with_infos(start_version, end - start_version), start_version):
        text = render(version, data, info)
        parts.append(text if text is not None else encode_json(view(version)))
    return JsonText("[" + ",".join(parts) + "]")


class NodeApiService:
    def __init__(self, runtime: NodeRuntime) -> None:
        self._runtime = runtime
        self._ledger = runtime.ledger
        self._db = runtime.ledger.db
        self._metrics: ApiMetrics | None = None
        self._last_commit: tuple[int, float] | None = None
        # version -> the user transaction committed there, from recent blocks: transaction
        # views of fresh versions (what pollers read) skip decoding the stored bytes again
        self._recent: dict[int, SignedTransaction] = {}
        pool = getattr(runtime, "verify_pool", None)
        self._verifier = SubmissionVerifier(pool) if pool is not None else None

    # --- wiring ---------------------------------------------------------------------------

    def attach_metrics(self, app: web.Application) -> None:
        self._metrics = app[METRICS_KEY]
        self._runtime.add_commit_listener(self._on_commit)
        self._metrics.node.committed_version.set(self._ledger.snapshot().version)

    def _on_commit(self, block: CommittedBlock) -> None:
        recent = self._recent
        for result in block.transactions:
            if result.version is not None:
                recent[result.version] = result.txn
        if len(recent) > RECENT_TRANSACTIONS:  # the oldest go (without listing all the others)
            for version in list(itertools.islice(recent, len(recent) - RECENT_TRANSACTIONS)):
                del recent[version]
        assert self._metrics is not None
        node = self._metrics.node
        node.committed_version.set(block.last_version)
        node.mempool_size.set(len(self._runtime.mempool))
        if self._last_commit is not None:
            last_version, last_time = self._last_commit
            elapsed = (block.timestamp_usecs / 1e6) - last_time
            if elapsed > 0:
                node.tps.set((block.last_version - last_version) / elapsed)
        self._last_commit = (block.last_version, block.timestamp_usecs / 1e6)

    # --- envelope -------------------------------------------------------------------------

    def ledger_state(self) -> LedgerState:
        snapshot = self._ledger.snapshot()
        return LedgerState(self._runtime.chain_id, snapshot.version, snapshot.timestamp_usecs)

    # --- chain ----------------------------------------------------------------------------

    def get_metadata(self, version: int | None) -> JsonValue:
        snapshot = self._ledger.snapshot()
        at = snapshot.version if version is None else version
        root = self._db.get_accumulator_root(at)
        chain = get_chain_view(self._ledger.state_view(at))
        timestamp = snapshot.timestamp_usecs if at == snapshot.version else chain.timestamp_usecs
        return views.metadata_json(chain, at, timestamp, root, latest=version is None or at == snapshot.version)

    def get_currencies(self) -> JsonValue:
        return [views.currency_json(c) for c in get_currency_views(self._ledger.state_view())]

    def get_network_status(self) -> JsonValue:
        return 0  # connected peers: a single-validator node has none

    # --- accounts -------------------------------------------------------------------------

    def get_account(self, address: bytes, version: int | None) -> JsonValue:
        at = self._ledger.snapshot().version if version is None else version
        view = get_account_view(self._ledger.state_view(at), AccountAddress(address))
        return None if view is None else views.account_view_json(view, at)

    def _transaction_at(self, version: int, include_events: bool) -> JsonValue:
        data = self._db.get_transaction(version)
        info = self._db.get_transaction_info(version)
        events = self._db.get_events_by_version(version) if include_events else []
        txn = self._recent.get(version)
        return views.transaction_json(
            version, txn if txn is not None else transaction_from_bcs(data), data, info, events, include_events
        )

    def get_account_transaction(self, address: bytes, seq: int, include_events: bool) -> JsonValue:
        version = self._db.get_transaction_version(address, seq)
        return None if version is None else self._transaction_at(version, include_events)

    def get_account_transactions(self, address: bytes, start_seq: int, limit: int, include_events: bool) -> JsonValue:
        out = []
        for seq in range(start_seq, start_seq + limit):
            version = self._db.get_transaction_version(address, seq)
            if version is None:
                break
            out.append(self._transaction_at(version, include_events))
        return out

    def get_transactions(self, start_version: int, limit: int, include_events: bool) -> JsonValue:
        last = self._ledger.snapshot().version
        if start_version > last:
            return []
        end = min(last + 1, start_version + limit)
        if include_events or CORE is None:
            return [self._transaction_at(v, include_events) for v in range(start_version, end)]
        return transaction_page_text(
            self._db, start_version, end, CORE.transaction_view_json, lambda v: self._transaction_at(v, False)
        )

    def get_events(self, key: bytes, start_seq: int, limit: int) -> JsonValue:
        stored = self._db.get_events(key, start_seq, limit)
        return [views.event_json(e) for e in stored]

    # --- submission -----------------------------------------------------------------------

    async def submit(self, signed_txn: bytes) -> None:
        refusal = self.refuse_submission(signed_txn)
        if refusal is not None:  # before any work on the transaction
            raise refusal
        if self._verifier is not None:  # the signature on a worker (GIL released) instead of the event loop
            await self._verifier.verify(signed_txn)
        error = self.admit_submission(signed_txn)
        if error is not None:
            raise error

    # ``submit`` in three steps, for the dispatcher's batches of submissions (each submission
    # of a batch goes through them in the same order as ``submit`` would take it)

    def refuse_submission(self, signed_txn: bytes) -> JsonRpcError | None:
        """The error of a submission refused before any work (the pool is full), or None."""
        if self._runtime.refuses_for_capacity(signed_txn):
            if self._metrics is not None:
                self._metrics.node.record_rejection(AddStatus.MEMPOOL_FULL.value)
            return _pool_error(AddStatus.MEMPOOL_FULL)
        return None

    async def verify_submissions(self, signed_txns: Sequence[bytes]) -> None:
        """Check the signatures of ``signed_txns`` off the event loop, together (their answers
        wait for ``admit_submission``)."""
        if self._verifier is not None:
            await self._verifier.verify_all(signed_txns)

    def admit_submission(self, signed_txn: bytes) -> JsonRpcError | None:
        """Admit a submission whose signature was checked: None if accepted, else its error."""
        admission = self._runtime.submit(signed_txn)
        if admission.accepted:
            return None
        reason = admission.vm_status or (admission.status.value if admission.status else "unknown")
        if self._metrics is not None:
            self._metrics.node.record_rejection(reason)
        if admission.vm_status is not None:
            return vm_validation_error(admission.vm_status)
        return _pool_error(admission.status)

    # --- proofs ---------------------------------------------------------------------------

    def get_state_proof(self, version: int) -> JsonValue:
        return views.state_proof_json(self._db.get_state_proof(version))

    def get_account_state_with_proof(
        self, address: bytes, version: int | None, ledger_version: int | None
    ) -> JsonValue:
        proof = self._db.get_account_state_with_proof(address, version, ledger_version)
        return views.account_state_with_proof_json(proof)

    def get_transactions_with_proofs(self, start_version: int, limit: int, include_events: bool) -> JsonValue:
        last = self._ledger.snapshot().version
        if start_version > last:
            return None
        proof = self._db.get_transaction_list_with_proof(
            start_version, min(limit, last - start_version + 1), last, include_events
        )
        return views.transactions_with_proofs_json(proof)

    def get_account_transactions_with_proofs(
        self, address: bytes, start_seq: int, limit: int, include_events: bool, ledger_version: int | None
    ) -> JsonValue:
        at = self._ledger.snapshot().version if ledger_version is None else ledger_version
        items = []
        for seq in range(start_seq, start_seq + limit):
            version = self._db.get_transaction_version(address, seq)
            if version is None or version > at:
                break
            data = self._db.get_transaction(version)
            events = (
                [e.event_bytes for e in self._db.get_events_by_version(version)] if include_events else None
            )
            proof = self._db.get_transaction_info_with_proof(version, at)
            items.append(views.transaction_with_proof_bcs(version, data, events, proof))
        return views.account_transactions_with_proofs_json(items)

    def get_events_with_proofs(self, key: bytes, start_seq: int, limit: int) -> JsonValue:
        stored = self._db.get_events(key, start_seq, limit)
        proofs = [self._db.get_event_with_proof(key, e.sequence_number) for e in stored]
        return views.events_with_proofs_json(proofs)

    def get_event_by_version_with_proof(self, key: bytes, version: int | None) -> JsonValue:
        at = self._ledger.snapshot().version if version is None else version
        events = self._db.get_events(key, 0, 1 << 62)
        below = [e for e in events if e.version <= at]
        above = [e for e in events if e.version > at]
        lower = self._db.get_event_with_proof(key, below[-1].sequence_number, at) if below else None
        upper = self._db.get_event_with_proof(key, above[0].sequence_number) if above else None
        return views.event_by_version_with_proof_json(lower, upper)

    def get_accumulator_consistency_proof(
        self, client_known_version: int | None, ledger_version: int | None
    ) -> JsonValue:
        proof = self._db.get_accumulator_consistency_proof(client_known_version, ledger_version)
        return views.accumulator_consistency_proof_json(proof)


def _pool_error(status: AddStatus | None) -> JsonRpcError:
    if status is AddStatus.MEMPOOL_FULL:
        return mempool_is_full("mempool is full")
    if status is AddStatus.TOO_MANY_FOR_ACCOUNT:
        return mempool_too_many_transactions("too many transactions from this account")
    if status is AddStatus.INVALID_UPDATE:
        return mempool_invalid_update("Failed to update gas price to 0")
    if status is AddStatus.SEQUENCE_TOO_OLD:
        return vm_validation_error("SEQUENCE_NUMBER_TOO_OLD")
    if status is AddStatus.SEQUENCE_TOO_NEW:
        return mempool_invalid_seq_number("sequence number is too far ahead of the account's")
    return vm_validation_error("UNKNOWN_STATUS")

"""Proof-producing reads of :class:`~libra.storage.libradb.LibraDB` (a mixin).

Every proof is relative to a ``ledger_version``: the accumulator of
``ledger_version + 1`` leaves, whose root a ledger info at that version signs.
Rules: the proven version must be ``<= ledger_version < next version``; state
proofs need the state version not to be pruned.
"""

# The mixin's methods are typed with ``self: LibraDB``, the only class that uses it.
# mypy: disable-error-code="misc"
from __future__ import annotations

from typing import TYPE_CHECKING

from libra.crypto.merkle import EVENT_ACCUMULATOR, accumulator_proof_of_leaves, hash_account_key, hash_event
from libra.storage import schema
from libra.storage.errors import StorageError
from libra.types.ledger import LedgerInfoWithSignatures
from libra.types.proof import (
    AccountStateProof,
    AccountStateWithProof,
    AccumulatorConsistencyProof,
    AccumulatorProof,
    AccumulatorRangeProof,
    EpochChangeProof,
    EventProof,
    EventWithProof,
    SparseMerkleLeafNode,
    SparseMerkleProof,
    StateProof,
    TransactionInfoWithProof,
    TransactionListProof,
    TransactionListWithProof,
)

if TYPE_CHECKING:
    from libra.storage.libradb import LibraDB

MAX_EPOCH_CHANGE_PROOF = 100


class ProofReads:
    """Mixed into ``LibraDB``; uses its private readers."""

    def _ledger_version(self: LibraDB, ledger_version: int | None) -> int:
        if ledger_version is None:
            if self._next_version == 0:
                raise StorageError("the store is empty")
            return self._next_version - 1
        self._require_version(ledger_version, "ledger version")
        return ledger_version

    def get_transaction_info_with_proof(
        self: LibraDB, version: int, ledger_version: int | None = None
    ) -> TransactionInfoWithProof:
        ledger_version = self._ledger_version(ledger_version)
        if version > ledger_version:
            raise StorageError(f"version {version} is after ledger version {ledger_version}")
        siblings = self._accumulator.proof(version, ledger_version + 1)
        return TransactionInfoWithProof(AccumulatorProof(tuple(siblings)), self.get_transaction_info(version))

    def get_account_state_with_proof(
        self: LibraDB, address: bytes, version: int | None = None, ledger_version: int | None = None
    ) -> AccountStateWithProof:
        """The account at ``version`` (default: ``ledger_version``) proven against ``ledger_version``."""
        ledger_version = self._ledger_version(ledger_version)
        version = ledger_version if version is None else version
        if version > ledger_version:
            raise StorageError(f"version {version} is after ledger version {ledger_version}")
        self._require_state_version(version)
        blob, leaf, siblings = self._get_with_proof(version, hash_account_key(address))
        smt_leaf = SparseMerkleLeafNode(leaf[0], leaf[1]) if leaf is not None else None
        proof = AccountStateProof(
            self.get_transaction_info_with_proof(version, ledger_version),
            SparseMerkleProof(smt_leaf, tuple(siblings)),
        )
        return AccountStateWithProof(version, blob, proof)

    def get_event_with_proof(
        self: LibraDB, event_key: bytes, sequence_number: int, ledger_version: int | None = None
    ) -> EventWithProof:
        ledger_version = self._ledger_version(ledger_version)
        located = self._store.get(schema.event_by_key_key(event_key, sequence_number))
        if located is None:
            raise StorageError(f"no event {event_key.hex()}/{sequence_number}")
        version, index = schema.unpack_version_index(located)
        if version > ledger_version:
            raise StorageError(f"event {sequence_number} is after ledger version {ledger_version}")
        events = self.get_events_by_version(version)
        siblings = accumulator_proof_of_leaves(EVENT_ACCUMULATOR, [hash_event(e.event_bytes) for e in events], index)
        proof = EventProof(
            self.get_transaction_info_with_proof(version, ledger_version), AccumulatorProof(tuple(siblings))
        )
        return EventWithProof(version, index, events[index].event_bytes, proof)

    def get_transaction_list_with_proof(
        self: LibraDB, start_version: int, limit: int, ledger_version: int | None = None, include_events: bool = False
    ) -> TransactionListWithProof:
        """Up to ``limit`` transactions from ``start_version``, cut at ``ledger_version``."""
        ledger_version = self._ledger_version(ledger_version)
        end = min(ledger_version + 1, start_version + max(limit, 0))
        if start_version >= end:
            empty = TransactionListProof(AccumulatorRangeProof((), ()), ())
            return TransactionListWithProof((), () if include_events else None, None, empty)
        count = end - start_version
        transactions = tuple(self.get_transactions(start_version, count))
        infos = tuple(self.get_transaction_info(v) for v in range(start_version, end))
        left, right = self._accumulator.range_proof(start_version, count, ledger_version + 1)
        events = None
        if include_events:
            events = tuple(tuple(e.event_bytes for e in self.get_events_by_version(v)) for v in range(start_version, end))
        proof = TransactionListProof(AccumulatorRangeProof(tuple(left), tuple(right)), infos)
        return TransactionListWithProof(transactions, events, start_version, proof)

    def get_accumulator_consistency_proof(
        self: LibraDB, client_known_version: int | None, ledger_version: int | None = None
    ) -> AccumulatorConsistencyProof:
        """Subtrees extending the accumulator after ``client_known_version`` (None: empty) to ``ledger_version``."""
        ledger_version = self._ledger_version(ledger_version)
        old_leaves = 0 if client_known_version is None else client_known_version + 1
        if old_leaves > ledger_version + 1:
            raise StorageError(f"known version {client_known_version} is after ledger version {ledger_version}")
        return AccumulatorConsistencyProof(tuple(self._accumulator.consistency_proof(old_leaves, ledger_version + 1)))

    def get_accumulator_frozen_roots(self: LibraDB, version: int) -> list[bytes]:
        """Frozen subtree roots after ``version``: what a client keeps to check consistency proofs."""
        self._require_version(version)
        return self._accumulator.frozen_roots(version + 1)

    def get_epoch_change_proof(self: LibraDB, start_epoch: int, end_epoch: int) -> EpochChangeProof:
        """Ledger infos ending epochs ``start_epoch .. end_epoch - 1`` (at most 100, ``more`` if cut)."""
        if start_epoch > end_epoch:
            raise StorageError(f"start epoch {start_epoch} is after end epoch {end_epoch}")
        stop = min(end_epoch, start_epoch + MAX_EPOCH_CHANGE_PROOF)
        infos = tuple(self.get_epoch_ending_ledger_info(epoch) for epoch in range(start_epoch, stop))
        return EpochChangeProof(infos, stop < end_epoch)

    def get_epoch_of_version(self: LibraDB, version: int) -> int:
        """The epoch whose blocks hold ``version``: the first epoch ending at or after it."""
        self._require_version(version)
        epoch = 0
        for key, value in self._store.iterate(schema.EPOCH_LEDGER_INFO, schema.EPOCH_LEDGER_INFO + b"\xff"):
            info = LedgerInfoWithSignatures.from_bcs(value).ledger_info
            epoch = schema.read_u64(key, 1)
            if info.ends_epoch and info.version >= version:
                return epoch
            if info.ends_epoch:
                epoch += 1
        return epoch

    def get_state_proof(self: LibraDB, known_version: int) -> StateProof:
        """Latest ledger info, epoch changes since ``known_version``'s epoch, and accumulator consistency."""
        latest = self._latest_li
        if latest is None:
            raise StorageError("no ledger info committed yet")
        ledger_version = latest.ledger_info.version
        known_version = min(known_version, ledger_version)
        known_epoch = self.get_epoch_of_version(known_version)
        end_epoch = latest.ledger_info.epoch
        changes = (
            self.get_epoch_change_proof(known_epoch, end_epoch)
            if known_epoch < end_epoch
            else EpochChangeProof((), False)
        )
        return StateProof(latest, changes, self.get_accumulator_consistency_proof(known_version, ledger_version))

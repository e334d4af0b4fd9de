"""Proof wire types in Diem v1's BCS layouts (``types/src/proof/definition.rs`` and friends).

Every sibling list runs from the bottom level up to the root. ``PhantomData``
fields of the Rust types encode to nothing. Transactions and events inside
proofs are held as their canonical BCS bytes; decoding checks their structure
with :mod:`libra.types.transaction` / :mod:`libra.types.write_set` and keeps the bytes.

Layouts::

    AccumulatorProof             { siblings: Vec<HashValue> }
    AccumulatorRangeProof        { left_siblings: Vec<HashValue>, right_siblings: Vec<HashValue> }
    AccumulatorConsistencyProof  { subtrees: Vec<HashValue> }
    SparseMerkleLeafNode         { key: HashValue, value_hash: HashValue }
    SparseMerkleProof            { leaf: Option<SparseMerkleLeafNode>, siblings: Vec<HashValue> }
    TransactionInfoWithProof     { ledger_info_to_transaction_info_proof: AccumulatorProof,
                                   transaction_info: TransactionInfo }
    AccountStateProof            { transaction_info_with_proof, transaction_info_to_account_proof: SparseMerkleProof }
    AccountStateWithProof        { version: u64, blob: Option<AccountStateBlob(bytes)>, proof: AccountStateProof }
    EventProof                   { transaction_info_with_proof, transaction_info_to_event_proof: AccumulatorProof }
    EventWithProof               { transaction_version: u64, event_index: u64, event: ContractEvent, proof: EventProof }
    TransactionListProof         { ledger_info_to_transaction_infos_proof: AccumulatorRangeProof,
                                   transaction_infos: Vec<TransactionInfo> }
    TransactionListWithProof     { transactions: Vec<Transaction>, events: Option<Vec<Vec<ContractEvent>>>,
                                   first_transaction_version: Option<u64>, proof: TransactionListProof }
    EpochChangeProof             { ledger_info_with_sigs: Vec<LedgerInfoWithSignatures>, more: bool }
    StateProof                   { ledger_info_with_signatures, epoch_changes: EpochChangeProof,
                                   consistency_proof: AccumulatorConsistencyProof }
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from libra.bcs import BcsType, Deserializer, Serializer
from libra.types.ledger import (
    LedgerInfoWithSignatures,
    TransactionInfo,
    deserialize_hash,
    serialize_hash,
)


def _write_hashes(serializer: Serializer, hashes: tuple[bytes, ...]) -> None:
    serializer.sequence(hashes, serialize_hash)


def _read_hashes(deserializer: Deserializer) -> tuple[bytes, ...]:
    return tuple(deserializer.sequence(deserialize_hash, "hashes"))


def _write_raw(serializer: Serializer, data: bytes) -> None:
    serializer.raw(data)


def _read_canonical(deserializer: Deserializer, decode: Callable[[Deserializer], object]) -> bytes:
    """Decode one value strictly and return its bytes.

    The decoder refuses every non-canonical form of these types (ULEB128, bools, options,
    enum tags, UTF-8, identifiers), so the bytes it consumed are the canonical encoding.
    """
    start = deserializer.offset
    decode(deserializer)
    return deserializer.consumed_since(start)


# Transactions decoded while reading a transaction list, by their bytes, for the reader
# (state sync) to take instead of decoding them again: decoding is a pure function of the
# bytes and the values are immutable. Bounded; cleared when full.
_DECODED_TRANSACTIONS: dict[bytes, object] = {}
_DECODED_TRANSACTIONS_CAP = 1024


def take_decoded_transaction(data: bytes) -> object | None:
    """The transaction decoded from exactly ``data`` by a transaction list read before
    (once), or None."""
    return _DECODED_TRANSACTIONS.pop(data, None)


def _read_transaction(deserializer: Deserializer) -> bytes:
    from libra.types.transaction import decode_signed_transaction_fast, deserialize_transaction

    data, start, _ = deserializer.view()
    txn: object = None
    if data[start : start + 1] == b"\x00":  # a user transaction: try the fast path
        fast = decode_signed_transaction_fast(data, start + 1)
        if fast is not None:
            txn = fast[0]
            deserializer.skip_to(fast[1])
    if txn is None:
        txn = deserialize_transaction(deserializer)
    encoded = deserializer.consumed_since(start)
    if len(_DECODED_TRANSACTIONS) >= _DECODED_TRANSACTIONS_CAP:
        _DECODED_TRANSACTIONS.clear()
    _DECODED_TRANSACTIONS[encoded] = txn
    return encoded


def _read_event(deserializer: Deserializer) -> bytes:
    from libra.types.write_set import read_event_bytes

    return read_event_bytes(deserializer)


@dataclass(frozen=True, slots=True)
class AccumulatorProof(BcsType):
    siblings: tuple[bytes, ...]

    def serialize(self, serializer: Serializer) -> None:
        _write_hashes(serializer, self.siblings)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> AccumulatorProof:
        return cls(_read_hashes(deserializer))


@dataclass(frozen=True, slots=True)
class AccumulatorRangeProof(BcsType):
    left_siblings: tuple[bytes, ...]
    right_siblings: tuple[bytes, ...]

    def serialize(self, serializer: Serializer) -> None:
        _write_hashes(serializer, self.left_siblings)
        _write_hashes(serializer, self.right_siblings)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> AccumulatorRangeProof:
        return cls(_read_hashes(deserializer), _read_hashes(deserializer))


@dataclass(frozen=True, slots=True)
class AccumulatorConsistencyProof(BcsType):
    subtrees: tuple[bytes, ...]

    def serialize(self, serializer: Serializer) -> None:
        _write_hashes(serializer, self.subtrees)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> AccumulatorConsistencyProof:
        return cls(_read_hashes(deserializer))


@dataclass(frozen=True, slots=True)
class SparseMerkleLeafNode(BcsType):
    key: bytes
    value_hash: bytes

    def serialize(self, serializer: Serializer) -> None:
        serialize_hash(serializer, self.key)
        serialize_hash(serializer, self.value_hash)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> SparseMerkleLeafNode:
        return cls(deserialize_hash(deserializer), deserialize_hash(deserializer))


def _write_bcs(serializer: Serializer, value: BcsType) -> None:
    value.serialize(serializer)


@dataclass(frozen=True, slots=True)
class SparseMerkleProof(BcsType):
    """``leaf`` None: the key's subtree is empty; another key's leaf: non-inclusion."""

    leaf: SparseMerkleLeafNode | None
    siblings: tuple[bytes, ...]

    def serialize(self, serializer: Serializer) -> None:
        serializer.option(self.leaf, _write_bcs)
        _write_hashes(serializer, self.siblings)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> SparseMerkleProof:
        return cls(deserializer.option(SparseMerkleLeafNode.deserialize, "leaf"), _read_hashes(deserializer))


@dataclass(frozen=True, slots=True)
class TransactionInfoWithProof(BcsType):
    ledger_info_to_transaction_info_proof: AccumulatorProof
    transaction_info: TransactionInfo

    def serialize(self, serializer: Serializer) -> None:
        self.ledger_info_to_transaction_info_proof.serialize(serializer)
        self.transaction_info.serialize(serializer)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> TransactionInfoWithProof:
        return cls(AccumulatorProof.deserialize(deserializer), TransactionInfo.deserialize(deserializer))


@dataclass(frozen=True, slots=True)
class AccountStateProof(BcsType):
    transaction_info_with_proof: TransactionInfoWithProof
    transaction_info_to_account_proof: SparseMerkleProof

    def serialize(self, serializer: Serializer) -> None:
        self.transaction_info_with_proof.serialize(serializer)
        self.transaction_info_to_account_proof.serialize(serializer)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> AccountStateProof:
        return cls(TransactionInfoWithProof.deserialize(deserializer), SparseMerkleProof.deserialize(deserializer))


@dataclass(frozen=True, slots=True)
class AccountStateWithProof(BcsType):
    """The account blob (None: no account) at ``version``, with its proof."""

    version: int
    blob: bytes | None
    proof: AccountStateProof

    def serialize(self, serializer: Serializer) -> None:
        serializer.u64(self.version)
        serializer.option(self.blob, Serializer.bytes)
        self.proof.serialize(serializer)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> AccountStateWithProof:
        return cls(
            deserializer.u64(),
            deserializer.option(lambda d: d.bytes("AccountStateBlob"), "blob"),
            AccountStateProof.deserialize(deserializer),
        )


@dataclass(frozen=True, slots=True)
class EventProof(BcsType):
    transaction_info_with_proof: TransactionInfoWithProof
    transaction_info_to_event_proof: AccumulatorProof

    def serialize(self, serializer: Serializer) -> None:
        self.transaction_info_with_proof.serialize(serializer)
        self.transaction_info_to_event_proof.serialize(serializer)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> EventProof:
        return cls(TransactionInfoWithProof.deserialize(deserializer), AccumulatorProof.deserialize(deserializer))


@dataclass(frozen=True, slots=True)
class EventWithProof(BcsType):
    """``event`` is the BCS of a ``ContractEvent``."""

    transaction_version: int
    event_index: int
    event: bytes
    proof: EventProof

    def serialize(self, serializer: Serializer) -> None:
        serializer.u64(self.transaction_version)
        serializer.u64(self.event_index)
        serializer.raw(self.event)
        self.proof.serialize(serializer)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> EventWithProof:
        return cls(deserializer.u64(), deserializer.u64(), _read_event(deserializer), EventProof.deserialize(deserializer))


def _read_transaction_info(deserializer: Deserializer) -> TransactionInfo:
    """``TransactionInfo.deserialize`` (which reads an executed transaction's info directly)."""
    return TransactionInfo.deserialize(deserializer)


@dataclass(frozen=True, slots=True)
class TransactionListProof(BcsType):
    ledger_info_to_transaction_infos_proof: AccumulatorRangeProof
    transaction_infos: tuple[TransactionInfo, ...]

    def serialize(self, serializer: Serializer) -> None:
        self.ledger_info_to_transaction_infos_proof.serialize(serializer)
        serializer.sequence(self.transaction_infos, _write_bcs)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> TransactionListProof:
        return cls(
            AccumulatorRangeProof.deserialize(deserializer),
            tuple(deserializer.sequence(_read_transaction_info, "transaction infos")),
        )


def _write_event_lists(serializer: Serializer, lists: tuple[tuple[bytes, ...], ...]) -> None:
    serializer.sequence(lists, lambda s, events: s.sequence(events, _write_raw))


def _read_event_lists(deserializer: Deserializer) -> tuple[tuple[bytes, ...], ...]:
    return tuple(deserializer.sequence(lambda d: tuple(d.sequence(_read_event, "events")), "event lists"))


@dataclass(frozen=True, slots=True)
class TransactionListWithProof(BcsType):
    """Consecutive transactions (BCS of ``Transaction``) from ``first_transaction_version``."""

    transactions: tuple[bytes, ...]
    events: tuple[tuple[bytes, ...], ...] | None
    first_transaction_version: int | None
    proof: TransactionListProof

    def serialize(self, serializer: Serializer) -> None:
        serializer.sequence(self.transactions, _write_raw)
        serializer.option(self.events, _write_event_lists)
        serializer.option(self.first_transaction_version, Serializer.u64)
        self.proof.serialize(serializer)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> TransactionListWithProof:
        return cls(
            tuple(deserializer.sequence(_read_transaction, "transactions")),
            deserializer.option(_read_event_lists, "events"),
            deserializer.option(lambda d: d.u64(), "first_transaction_version"),
            TransactionListProof.deserialize(deserializer),
        )


@dataclass(frozen=True, slots=True)
class EpochChangeProof(BcsType):
    """Ledger infos that end consecutive epochs; ``more`` says the list was cut short."""

    ledger_info_with_sigs: tuple[LedgerInfoWithSignatures, ...]
    more: bool = False

    def serialize(self, serializer: Serializer) -> None:
        serializer.sequence(self.ledger_info_with_sigs, _write_bcs)
        serializer.bool(self.more)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> EpochChangeProof:
        return cls(
            tuple(deserializer.sequence(LedgerInfoWithSignatures.deserialize, "ledger infos")),
            deserializer.bool(),
        )


@dataclass(frozen=True, slots=True)
class StateProof(BcsType):
    """What ``get_state_proof`` returns, as one value."""

    ledger_info_with_signatures: LedgerInfoWithSignatures
    epoch_changes: EpochChangeProof
    consistency_proof: AccumulatorConsistencyProof

    def serialize(self, serializer: Serializer) -> None:
        self.ledger_info_with_signatures.serialize(serializer)
        self.epoch_changes.serialize(serializer)
        self.consistency_proof.serialize(serializer)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> StateProof:
        return cls(
            LedgerInfoWithSignatures.deserialize(deserializer),
            EpochChangeProof.deserialize(deserializer),
            AccumulatorConsistencyProof.deserialize(deserializer),
        )

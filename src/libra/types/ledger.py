"""Ledger wire types: transaction info, block info, validator sets, ledger infos.

Layouts follow Diem v1 (``types/src/transaction/mod.rs``, ``block_info.rs``,
``epoch_state.rs``, ``validator_verifier.rs``, ``ledger_info.rs``):

* ``HashValue`` is BCS ``bytes`` of exactly 32 (``20`` + 32 bytes);
* ``AccountAddress`` is 16 raw bytes; Ed25519 keys (32) and signatures (64) are ``bytes``;
* ``TransactionInfo`` is the enum ``V0 { transaction_hash, state_root_hash,
  event_root_hash, gas_used: u64, status: KeptVMStatus }``;
* ``LedgerInfoWithSignatures`` is the enum ``V0 { ledger_info, signatures:
  BTreeMap<AccountAddress, Ed25519Signature> }``;
* maps are kept here as tuples of ``(key, value)`` sorted by key, so that the
  dataclasses stay frozen and hashable and encode canonically.

Hashes of these values live in :mod:`libra.crypto.merkle` (``types`` imports no crypto).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from libra.bcs import U64_MAX, BcsError, BcsType, Deserializer, Serializer
from libra.types.move import AccountAddress, ModuleId

HASH_LENGTH = 32
PUBLIC_KEY_LENGTH = 32
SIGNATURE_LENGTH = 64


def serialize_hash(serializer: Serializer, value: bytes) -> None:
    """A ``HashValue``: length-prefixed, exactly 32 bytes."""
    if len(value) != HASH_LENGTH:
        raise BcsError(f"HashValue must be {HASH_LENGTH} bytes, got {len(value)}")
    serializer.bytes(value)


def deserialize_hash(deserializer: Deserializer) -> bytes:
    offset = deserializer.offset
    value = deserializer.bytes("HashValue")
    if len(value) != HASH_LENGTH:
        raise BcsError(f"HashValue of {len(value)} bytes", offset, "HashValue (32 bytes)")
    return value


def _fixed_bytes(deserializer: Deserializer, length: int, what: str) -> bytes:
    offset = deserializer.offset
    value = deserializer.bytes(what)
    if len(value) != length:
        raise BcsError(f"{what} of {len(value)} bytes", offset, f"{what} ({length} bytes)")
    return value


def _check_length(value: bytes, length: int, what: str) -> None:
    if not isinstance(value, bytes) or len(value) != length:
        raise BcsError(f"{what} must be {length} bytes")


# --------------------------------------------------------------------------- status


@dataclass(frozen=True, slots=True)
class AbortLocation(BcsType):
    """``enum AbortLocation { Module(ModuleId), Script }``; ``module is None`` means Script."""

    module: ModuleId | None = None

    def serialize(self, serializer: Serializer) -> None:
        if self.module is None:
            serializer.variant(1)
        else:
            serializer.variant(0)
            self.module.serialize(serializer)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> AbortLocation:
        if deserializer.variant(2, "AbortLocation") == 0:
            return cls(ModuleId.deserialize(deserializer))
        return cls(None)


KEPT_EXECUTED = 0
KEPT_OUT_OF_GAS = 1
KEPT_MOVE_ABORT = 2
KEPT_EXECUTION_FAILURE = 3
KEPT_MISCELLANEOUS_ERROR = 4


@dataclass(frozen=True, slots=True)
class KeptVMStatus(BcsType):
    """Diem's ``KeptVMStatus``: 0 Executed, 1 OutOfGas, 2 MoveAbort(location, code u64),
    3 ExecutionFailure{location, function u16, code_offset u16}, 4 MiscellaneousError.

    Fields that the variant does not carry must stay at their defaults.
    """

    kind: int = KEPT_EXECUTED
    location: AbortLocation | None = None
    abort_code: int = 0
    function: int = 0
    code_offset: int = 0

    def __post_init__(self) -> None:
        has_location = self.kind in (KEPT_MOVE_ABORT, KEPT_EXECUTION_FAILURE)
        if not 0 <= self.kind <= KEPT_MISCELLANEOUS_ERROR or has_location != (self.location is not None):
            raise BcsError(f"invalid KeptVMStatus {self!r}")

    def serialize(self, serializer: Serializer) -> None:
        serializer.variant(self.kind)
        if self.kind == KEPT_MOVE_ABORT:
            assert self.location is not None
            self.location.serialize(serializer)
            serializer.u64(self.abort_code)
        elif self.kind == KEPT_EXECUTION_FAILURE:
            assert self.location is not None
            self.location.serialize(serializer)
            serializer.u16(self.function)
            serializer.u16(self.code_offset)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> KeptVMStatus:
        kind = deserializer.variant(5, "KeptVMStatus")
        if kind == KEPT_MOVE_ABORT:
            return cls(kind, AbortLocation.deserialize(deserializer), abort_code=deserializer.u64())
        if kind == KEPT_EXECUTION_FAILURE:
            location = AbortLocation.deserialize(deserializer)
            return cls(kind, location, function=deserializer.u16(), code_offset=deserializer.u16())
        return cls(kind)


EXECUTED = KeptVMStatus()


# --------------------------------------------------------------------------- transaction info


@dataclass(frozen=True, slots=True)
class TransactionInfo(BcsType):
    """``enum TransactionInfo { V0(TransactionInfoV0) }``: the accumulator leaf of a version."""

    transaction_hash: bytes
    state_root_hash: bytes
    event_root_hash: bytes
    gas_used: int
    status: KeptVMStatus = EXECUTED

    def serialize(self, serializer: Serializer) -> None:
        transaction_hash, state_root, event_root, gas = (
            self.transaction_hash, self.state_root_hash, self.event_root_hash, self.gas_used
        )
        if (  # an executed transaction's info, in one piece: the bytes the general path writes
            self.status.kind == 0
            and type(transaction_hash) is bytes and len(transaction_hash) == HASH_LENGTH
            and type(state_root) is bytes and len(state_root) == HASH_LENGTH
            and type(event_root) is bytes and len(event_root) == HASH_LENGTH
            and type(gas) is int and 0 <= gas <= U64_MAX
        ):
            serializer.raw(
                b"".join((b"\x00\x20", transaction_hash, b"\x20", state_root, b"\x20", event_root,
                          gas.to_bytes(8, "little"), b"\x00"))
            )
            return
        self.serialize_general(serializer)

    def serialize_general(self, serializer: Serializer) -> None:
        """The reference encoding, field by field (what :meth:`serialize` must equal)."""
        serializer.variant(0)
        serialize_hash(serializer, self.transaction_hash)
        serialize_hash(serializer, self.state_root_hash)
        serialize_hash(serializer, self.event_root_hash)
        serializer.u64(self.gas_used)
        self.status.serialize(serializer)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> TransactionInfo:
        """Reads an executed transaction's info (one-byte variant and lengths, status Executed)
        directly; anything else the general way. The same value or the same error."""
        data, pos, _ = deserializer.view()
        if (
            data[pos : pos + 2] == b"\x00\x20"
            and data[pos + 34 : pos + 35] == b"\x20"
            and data[pos + 67 : pos + 68] == b"\x20"
            and data[pos + 108 : pos + 109] == b"\x00"  # KeptVMStatus::Executed
        ):
            deserializer.skip_to(pos + 109)
            return cls(
                data[pos + 2 : pos + 34],
                data[pos + 35 : pos + 67],
                data[pos + 68 : pos + 100],
                int.from_bytes(data[pos + 100 : pos + 108], "little"),
                EXECUTED,
            )
        return cls.deserialize_general(deserializer)

    @classmethod
    def deserialize_general(cls, deserializer: Deserializer) -> TransactionInfo:
        """The reference decoding, field by field (what :meth:`deserialize` must equal)."""
        deserializer.variant(1, "TransactionInfo")
        return cls(
            deserialize_hash(deserializer),
            deserialize_hash(deserializer),
            deserialize_hash(deserializer),
            deserializer.u64(),
            KeptVMStatus.deserialize(deserializer),
        )


# --------------------------------------------------------------------------- validators


@dataclass(frozen=True, slots=True)
class ValidatorConsensusInfo(BcsType):
    """``{ public_key: Ed25519PublicKey (bytes 32), voting_power: u64 }``."""

    public_key: bytes
    voting_power: int

    def __post_init__(self) -> None:
        _check_length(self.public_key, PUBLIC_KEY_LENGTH, "Ed25519 public key")

    def serialize(self, serializer: Serializer) -> None:
        serializer.bytes(self.public_key)
        serializer.u64(self.voting_power)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> ValidatorConsensusInfo:
        return cls(_fixed_bytes(deserializer, PUBLIC_KEY_LENGTH, "Ed25519PublicKey"), deserializer.u64())


def _sorted_unique(items: Iterable[tuple[AccountAddress, object]], what: str) -> None:
    keys = [address.value for address, _ in items]
    if keys != sorted(set(keys)):
        raise BcsError(f"{what} must be sorted by address without duplicates")


@dataclass(frozen=True, slots=True)
class ValidatorVerifier(BcsType):
    """``{ address_to_validator_info: BTreeMap<AccountAddress, ValidatorConsensusInfo>,
    quorum_voting_power: u64, total_voting_power: u64 }``.

    Build it with :meth:`from_validators`, which applies Diem's rule
    ``quorum = total * 2 // 3 + 1`` (0 for an empty set).
    """

    validators: tuple[tuple[AccountAddress, ValidatorConsensusInfo], ...]
    quorum_voting_power: int
    total_voting_power: int

    def __post_init__(self) -> None:
        _sorted_unique(self.validators, "validators")

    @classmethod
    def from_validators(cls, validators: Mapping[AccountAddress, ValidatorConsensusInfo]) -> ValidatorVerifier:
        items = tuple(sorted(validators.items(), key=lambda item: item[0].value))
        total = sum(info.voting_power for _, info in items)
        quorum = total * 2 // 3 + 1 if items else 0
        return cls(items, quorum, total)

    def info_of(self, address: AccountAddress) -> ValidatorConsensusInfo | None:
        for candidate, info in self.validators:
            if candidate == address:
                return info
        return None

    def serialize(self, serializer: Serializer) -> None:
        serializer.map(self.validators, _serialize_address, _serialize_bcs)
        serializer.u64(self.quorum_voting_power)
        serializer.u64(self.total_voting_power)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> ValidatorVerifier:
        entries = deserializer.map(AccountAddress.deserialize, ValidatorConsensusInfo.deserialize, "validators")
        return cls(tuple(entries), deserializer.u64(), deserializer.u64())


def _serialize_address(serializer: Serializer, address: AccountAddress) -> None:
    address.serialize(serializer)


def _serialize_bcs(serializer: Serializer, value: BcsType) -> None:
    value.serialize(serializer)


@dataclass(frozen=True, slots=True)
class EpochState(BcsType):
    """``{ epoch: u64, verifier: ValidatorVerifier }``: who signs ledger infos of ``epoch``."""

    epoch: int
    verifier: ValidatorVerifier

    def serialize(self, serializer: Serializer) -> None:
        serializer.u64(self.epoch)
        self.verifier.serialize(serializer)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> EpochState:
        return cls(deserializer.u64(), ValidatorVerifier.deserialize(deserializer))


# --------------------------------------------------------------------------- ledger info


@dataclass(frozen=True, slots=True)
class BlockInfo(BcsType):
    """``{ epoch, round, id, executed_state_id, version, timestamp_usecs, next_epoch_state }``.

    ``executed_state_id`` is the transaction accumulator root after ``version``;
    ``next_epoch_state`` is set only on the last block of an epoch.
    """

    epoch: int
    round: int
    id: bytes
    executed_state_id: bytes
    version: int
    timestamp_usecs: int
    next_epoch_state: EpochState | None = None

    def serialize(self, serializer: Serializer) -> None:
        serializer.u64(self.epoch)
        serializer.u64(self.round)
        serialize_hash(serializer, self.id)
        serialize_hash(serializer, self.executed_state_id)
        serializer.u64(self.version)
        serializer.u64(self.timestamp_usecs)
        serializer.option(self.next_epoch_state, _serialize_bcs)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> BlockInfo:
        return cls(
            deserializer.u64(),
            deserializer.u64(),
            deserialize_hash(deserializer),
            deserialize_hash(deserializer),
            deserializer.u64(),
            deserializer.u64(),
            deserializer.option(EpochState.deserialize, "next_epoch_state"),
        )


@dataclass(frozen=True, slots=True)
class LedgerInfo(BcsType):
    """``{ commit_info: BlockInfo, consensus_data_hash: HashValue }``; what validators sign."""

    commit_info: BlockInfo
    consensus_data_hash: bytes

    @property
    def epoch(self) -> int:
        return self.commit_info.epoch

    @property
    def version(self) -> int:
        return self.commit_info.version

    @property
    def transaction_accumulator_hash(self) -> bytes:
        return self.commit_info.executed_state_id

    @property
    def timestamp_usecs(self) -> int:
        return self.commit_info.timestamp_usecs

    @property
    def next_epoch_state(self) -> EpochState | None:
        return self.commit_info.next_epoch_state

    @property
    def ends_epoch(self) -> bool:
        return self.commit_info.next_epoch_state is not None

    def serialize(self, serializer: Serializer) -> None:
        self.commit_info.serialize(serializer)
        serialize_hash(serializer, self.consensus_data_hash)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> LedgerInfo:
        return cls(BlockInfo.deserialize(deserializer), deserialize_hash(deserializer))


def _serialize_signature(serializer: Serializer, signature: bytes) -> None:
    _check_length(signature, SIGNATURE_LENGTH, "Ed25519 signature")
    serializer.bytes(signature)


def _deserialize_signature(deserializer: Deserializer) -> bytes:
    return _fixed_bytes(deserializer, SIGNATURE_LENGTH, "Ed25519Signature")


@dataclass(frozen=True, slots=True)
class LedgerInfoWithSignatures(BcsType):
    """``enum LedgerInfoWithSignatures { V0 { ledger_info, signatures } }``.

    ``signatures`` maps validator address to a 64-byte Ed25519 signature of
    ``hash_seed("LedgerInfo") || BCS(ledger_info)``, sorted by address.
    """

    ledger_info: LedgerInfo
    signatures: tuple[tuple[AccountAddress, bytes], ...] = ()

    def __post_init__(self) -> None:
        _sorted_unique(self.signatures, "signatures")

    @classmethod
    def create(cls, ledger_info: LedgerInfo, signatures: Mapping[AccountAddress, bytes]) -> LedgerInfoWithSignatures:
        return cls(ledger_info, tuple(sorted(signatures.items(), key=lambda item: item[0].value)))

    def serialize(self, serializer: Serializer) -> None:
        serializer.variant(0)
        self.ledger_info.serialize(serializer)
        serializer.map(self.signatures, _serialize_address, _serialize_signature)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> LedgerInfoWithSignatures:
        deserializer.variant(1, "LedgerInfoWithSignatures")
        ledger_info = LedgerInfo.deserialize(deserializer)
        signatures = deserializer.map(AccountAddress.deserialize, _deserialize_signature, "signatures")
        return cls(ledger_info, tuple(signatures))

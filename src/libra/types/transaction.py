"""Transactions as Diem encodes them (diem-protocol.md §5).

Layouts::

    TransactionArgument = enum { 0 U8, 1 U64, 2 U128, 3 Address, 4 U8Vector(bytes), 5 Bool }
    Script              = code: bytes ‖ ty_args: Vec<TypeTag> ‖ args: Vec<TransactionArgument>
    ScriptFunction      = module: ModuleId ‖ function: Identifier ‖ ty_args ‖ args: Vec<bytes>
    Module              = code: bytes
    WriteSetPayload     = enum { 0 Direct(ChangeSet), 1 Script { execute_as, script } }
    TransactionPayload  = enum { 0 WriteSet, 1 Script, 2 Module, 3 ScriptFunction }
    RawTransaction      = sender ‖ sequence_number u64 ‖ payload ‖ max_gas_amount u64 ‖
                          gas_unit_price u64 ‖ gas_currency_code String ‖
                          expiration_timestamp_secs u64 ‖ chain_id u8
    AccountAuthenticator     = enum { 0 Ed25519 { public_key, signature },
                                      1 MultiEd25519 { public_key, signature } }
    TransactionAuthenticator = enum { 0 Ed25519, 1 MultiEd25519,
                                      2 MultiAgent { sender, secondary_signer_addresses,
                                                     secondary_signers } }
    SignedTransaction   = raw_txn ‖ authenticator
    BlockMetadata       = id: HashValue(bytes) ‖ round u64 ‖ timestamp_usecs u64 ‖
                          previous_block_votes: Vec<address> ‖ proposer
    Transaction         = enum { 0 UserTransaction(SignedTransaction),
                                 1 GenesisTransaction(WriteSetPayload), 2 BlockMetadata }

Public keys and signatures are length-prefixed byte strings; their cryptographic
validity is checked by ``libra.crypto``, not by decoding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from libra.bcs import MAX_CONTAINER_DEPTH, BcsError, BcsType, Deserializer, Serializer
from libra.types.move import (
    AccountAddress,
    ModuleId,
    PrimitiveTag,
    StructTag,
    TypeTag,
    deserialize_identifier,
    deserialize_type_tag,
    is_valid_identifier,
    serialize_identifier,
    serialize_type_tag,
)
from libra.types.write_set import ChangeSet

ED25519_PUBLIC_KEY_LENGTH = 32
ED25519_SIGNATURE_LENGTH = 64
HASH_VALUE_LENGTH = 32
_T = TypeVar("_T")


# --- transaction arguments -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class U8Arg:
    value: int


@dataclass(frozen=True, slots=True)
class U64Arg:
    value: int


@dataclass(frozen=True, slots=True)
class U128Arg:
    value: int


@dataclass(frozen=True, slots=True)
class AddressArg:
    value: AccountAddress


@dataclass(frozen=True, slots=True)
class U8VectorArg:
    value: bytes


@dataclass(frozen=True, slots=True)
class BoolArg:
    value: bool


TransactionArgument = U8Arg | U64Arg | U128Arg | AddressArg | U8VectorArg | BoolArg


def serialize_argument(serializer: Serializer, arg: TransactionArgument) -> None:
    if isinstance(arg, U8Arg):
        serializer.variant(0)
        serializer.u8(arg.value)
    elif isinstance(arg, U64Arg):
        serializer.variant(1)
        serializer.u64(arg.value)
    elif isinstance(arg, U128Arg):
        serializer.variant(2)
        serializer.u128(arg.value)
    elif isinstance(arg, AddressArg):
        serializer.variant(3)
        arg.value.serialize(serializer)
    elif isinstance(arg, U8VectorArg):
        serializer.variant(4)
        serializer.bytes(arg.value)
    else:
        serializer.variant(5)
        serializer.bool(arg.value)


def deserialize_argument(deserializer: Deserializer) -> TransactionArgument:
    index = deserializer.variant(6, "TransactionArgument")
    if index == 0:
        return U8Arg(deserializer.u8())
    if index == 1:
        return U64Arg(deserializer.u64())
    if index == 2:
        return U128Arg(deserializer.u128())
    if index == 3:
        return AddressArg(AccountAddress.deserialize(deserializer))
    if index == 4:
        return U8VectorArg(deserializer.bytes("U8Vector argument"))
    return BoolArg(deserializer.bool())


# --- payloads ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Script(BcsType):
    code: bytes
    ty_args: tuple[TypeTag, ...] = ()
    args: tuple[TransactionArgument, ...] = ()

    def serialize(self, serializer: Serializer) -> None:
        serializer.bytes(self.code)
        serializer.sequence(self.ty_args, serialize_type_tag)
        serializer.sequence(self.args, serialize_argument)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> Script:
        return cls(
            deserializer.bytes("script code"),
            tuple(deserializer.sequence(deserialize_type_tag, "type arguments")),
            tuple(deserializer.sequence(deserialize_argument, "script arguments")),
        )


@dataclass(frozen=True, slots=True)
class ScriptFunction(BcsType):
    module: ModuleId
    function: str
    ty_args: tuple[TypeTag, ...] = ()
    args: tuple[bytes, ...] = ()

    def serialize(self, serializer: Serializer) -> None:
        self.module.serialize(serializer)
        serialize_identifier(serializer, self.function)
        serializer.sequence(self.ty_args, serialize_type_tag)
        serializer.sequence(self.args, Serializer.bytes)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> ScriptFunction:
        return cls(
            ModuleId.deserialize(deserializer),
            deserialize_identifier(deserializer),
            tuple(deserializer.sequence(deserialize_type_tag, "type arguments")),
            tuple(deserializer.sequence(lambda d: d.bytes("argument"), "arguments")),
        )


@dataclass(frozen=True, slots=True)
class Module(BcsType):
    code: bytes

    def serialize(self, serializer: Serializer) -> None:
        serializer.bytes(self.code)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> Module:
        return cls(deserializer.bytes("module code"))


@dataclass(frozen=True, slots=True)
class DirectWriteSet:
    """WriteSetPayload::Direct: a change set applied as is (genesis, emergencies)."""

    change_set: ChangeSet


@dataclass(frozen=True, slots=True)
class ScriptWriteSet:
    """WriteSetPayload::Script: a script run as ``execute_as`` by Diem Root."""

    execute_as: AccountAddress
    script: Script


WriteSetPayload = DirectWriteSet | ScriptWriteSet


def serialize_write_set_payload(serializer: Serializer, payload: WriteSetPayload) -> None:
    if isinstance(payload, DirectWriteSet):
        serializer.variant(0)
        payload.change_set.serialize(serializer)
    else:
        serializer.variant(1)
        payload.execute_as.serialize(serializer)
        payload.script.serialize(serializer)


def deserialize_write_set_payload(deserializer: Deserializer) -> WriteSetPayload:
    if deserializer.variant(2, "WriteSetPayload") == 0:
        return DirectWriteSet(ChangeSet.deserialize(deserializer))
    return ScriptWriteSet(AccountAddress.deserialize(deserializer), Script.deserialize(deserializer))


@dataclass(frozen=True, slots=True)
class WriteSetTxnPayload:
    """TransactionPayload::WriteSet, which only Diem Root may send."""

    write_set: WriteSetPayload


TransactionPayload = WriteSetTxnPayload | Script | Module | ScriptFunction


def serialize_payload(serializer: Serializer, payload: TransactionPayload) -> None:
    if isinstance(payload, WriteSetTxnPayload):
        serializer.variant(0)
        serialize_write_set_payload(serializer, payload.write_set)
    elif isinstance(payload, Script):
        serializer.variant(1)
        payload.serialize(serializer)
    elif isinstance(payload, Module):
        serializer.variant(2)
        payload.serialize(serializer)
    else:
        serializer.variant(3)
        payload.serialize(serializer)


def deserialize_payload(deserializer: Deserializer) -> TransactionPayload:
    index = deserializer.variant(4, "TransactionPayload")
    if index == 0:
        return WriteSetTxnPayload(deserialize_write_set_payload(deserializer))
    if index == 1:
        return Script.deserialize(deserializer)
    if index == 2:
        return Module.deserialize(deserializer)
    return ScriptFunction.deserialize(deserializer)


# --- raw and signed transactions ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RawTransaction(BcsType):
    sender: AccountAddress
    sequence_number: int
    payload: TransactionPayload
    max_gas_amount: int
    gas_unit_price: int
    gas_currency_code: str
    expiration_timestamp_secs: int
    chain_id: int

    def serialize(self, serializer: Serializer) -> None:
        self.sender.serialize(serializer)
        serializer.u64(self.sequence_number)
        serialize_payload(serializer, self.payload)
        serializer.u64(self.max_gas_amount)
        serializer.u64(self.gas_unit_price)
        serializer.str(self.gas_currency_code)
        serializer.u64(self.expiration_timestamp_secs)
        serializer.u8(self.chain_id)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> RawTransaction:
        return cls(
            sender=AccountAddress.deserialize(deserializer),
            sequence_number=deserializer.u64(),
            payload=deserialize_payload(deserializer),
            max_gas_amount=deserializer.u64(),
            gas_unit_price=deserializer.u64(),
            gas_currency_code=deserializer.str("gas currency code"),
            expiration_timestamp_secs=deserializer.u64(),
            chain_id=deserializer.u8(),
        )


def _fixed_bytes(deserializer: Deserializer, length: int, what: str) -> bytes:
    offset = deserializer.offset
    value = deserializer.bytes(what)
    if len(value) != length:
        raise BcsError(f"{what} of {len(value)} bytes", offset, f"{what} ({length} bytes)")
    return value


@dataclass(frozen=True, slots=True)
class Ed25519Authenticator:
    public_key: bytes
    signature: bytes

    SCHEME = 0


@dataclass(frozen=True, slots=True)
class MultiEd25519Authenticator:
    """``public_key`` = pk_1‖…‖pk_n‖threshold; ``signature`` = sigs‖4-byte bitmap."""

    public_key: bytes
    signature: bytes

    SCHEME = 1


AccountAuthenticator = Ed25519Authenticator | MultiEd25519Authenticator


def serialize_account_authenticator(serializer: Serializer, auth: AccountAuthenticator) -> None:
    serializer.variant(auth.SCHEME)
    serializer.bytes(auth.public_key)
    serializer.bytes(auth.signature)


def _account_authenticator_body(deserializer: Deserializer, index: int) -> AccountAuthenticator:
    if index == 0:
        return Ed25519Authenticator(
            _fixed_bytes(deserializer, ED25519_PUBLIC_KEY_LENGTH, "Ed25519PublicKey"),
            _fixed_bytes(deserializer, ED25519_SIGNATURE_LENGTH, "Ed25519Signature"),
        )
    return MultiEd25519Authenticator(
        deserializer.bytes("MultiEd25519PublicKey"), deserializer.bytes("MultiEd25519Signature")
    )


def deserialize_account_authenticator(deserializer: Deserializer) -> AccountAuthenticator:
    return _account_authenticator_body(deserializer, deserializer.variant(2, "AccountAuthenticator"))


@dataclass(frozen=True, slots=True)
class MultiAgentAuthenticator:
    sender: AccountAuthenticator
    secondary_signer_addresses: tuple[AccountAddress, ...]
    secondary_signers: tuple[AccountAuthenticator, ...]


TransactionAuthenticator = Ed25519Authenticator | MultiEd25519Authenticator | MultiAgentAuthenticator


def serialize_authenticator(serializer: Serializer, auth: TransactionAuthenticator) -> None:
    if isinstance(auth, MultiAgentAuthenticator):
        serializer.variant(2)
        serialize_account_authenticator(serializer, auth.sender)
        serializer.sequence(auth.secondary_signer_addresses, lambda s, a: a.serialize(s))
        serializer.sequence(auth.secondary_signers, serialize_account_authenticator)
    else:
        serialize_account_authenticator(serializer, auth)


def deserialize_authenticator(deserializer: Deserializer) -> TransactionAuthenticator:
    index = deserializer.variant(3, "TransactionAuthenticator")
    if index < 2:
        return _account_authenticator_body(deserializer, index)
    return MultiAgentAuthenticator(
        deserialize_account_authenticator(deserializer),
        tuple(deserializer.sequence(AccountAddress.deserialize, "secondary signer addresses")),
        tuple(deserializer.sequence(deserialize_account_authenticator, "secondary signers")),
    )


@dataclass(frozen=True, slots=True)
class SignedTransaction(BcsType):
    raw_txn: RawTransaction
    authenticator: TransactionAuthenticator

    def serialize(self, serializer: Serializer) -> None:
        self.raw_txn.serialize(serializer)
        serialize_authenticator(serializer, self.authenticator)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> SignedTransaction:
        data, offset, depth = deserializer.view()
        if depth + _FAST_DEPTH <= MAX_CONTAINER_DEPTH:
            fast = decode_signed_transaction_fast(data, offset)
            if fast is not None:
                deserializer.skip_to(fast[1])
                return fast[0]
        return deserialize_signed_transaction_reference(deserializer)

    @classmethod
    def from_bcs(cls, data: bytes) -> SignedTransaction:
        """Strict decode of the whole of ``data``; the common shape takes a fast path that
        gives the same object (see :func:`decode_signed_transaction_fast`)."""
        if type(data) is bytes:
            fast = decode_signed_transaction_fast(data, 0)
            if fast is not None and fast[1] == len(data):
                return fast[0]
        deserializer = Deserializer(data)
        value = deserialize_signed_transaction_reference(deserializer)
        deserializer.finish()
        return value

    @property
    def sender(self) -> AccountAddress:
        return self.raw_txn.sender

    @property
    def sequence_number(self) -> int:
        return self.raw_txn.sequence_number


def deserialize_signed_transaction_reference(deserializer: Deserializer) -> SignedTransaction:
    """The layout read field by field: every shape, and the errors of malformed input."""
    return SignedTransaction(RawTransaction.deserialize(deserializer), deserialize_authenticator(deserializer))


# --- ledger transactions ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BlockMetadata(BcsType):
    id: bytes
    round: int
    timestamp_usecs: int
    previous_block_votes: tuple[AccountAddress, ...]
    proposer: AccountAddress

    def serialize(self, serializer: Serializer) -> None:
        serializer.bytes(self.id)
        serializer.u64(self.round)
        serializer.u64(self.timestamp_usecs)
        serializer.sequence(self.previous_block_votes, lambda s, a: a.serialize(s))
        self.proposer.serialize(serializer)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> BlockMetadata:
        return cls(
            _fixed_bytes(deserializer, HASH_VALUE_LENGTH, "HashValue"),
            deserializer.u64(),
            deserializer.u64(),
            tuple(deserializer.sequence(AccountAddress.deserialize, "previous block votes")),
            AccountAddress.deserialize(deserializer),
        )


@dataclass(frozen=True, slots=True)
class GenesisTransaction:
    write_set: WriteSetPayload


Transaction = SignedTransaction | GenesisTransaction | BlockMetadata


def serialize_transaction(serializer: Serializer, txn: Transaction) -> None:
    if isinstance(txn, SignedTransaction):
        serializer.variant(0)
        txn.serialize(serializer)
    elif isinstance(txn, GenesisTransaction):
        serializer.variant(1)
        serialize_write_set_payload(serializer, txn.write_set)
    else:
        serializer.variant(2)
        txn.serialize(serializer)


def deserialize_transaction(deserializer: Deserializer) -> Transaction:
    index = deserializer.variant(3, "Transaction")
    if index == 0:
        return SignedTransaction.deserialize(deserializer)
    if index == 1:
        return GenesisTransaction(deserialize_write_set_payload(deserializer))
    return BlockMetadata.deserialize(deserializer)


def transaction_to_bcs(txn: Transaction) -> bytes:
    serializer = Serializer()
    serialize_transaction(serializer, txn)
    return serializer.output()


def transaction_from_bcs(data: bytes) -> Transaction:
    if type(data) is bytes and data[:1] == b"\x00":  # a user transaction: try the fast path
        fast = decode_signed_transaction_fast(data, 1)
        if fast is not None and fast[1] == len(data):
            return fast[0]
    deserializer = Deserializer(data)
    txn = deserialize_transaction(deserializer)
    deserializer.finish()
    return txn


# --- fast decoding of the common signed transaction ---------------------------------------
#
# Nearly every transaction is a script function call signed by one Ed25519 key. Those are
# decoded here by plain indexing instead of through a Deserializer, with the names they
# repeat (module ids, type tags, identifiers, currency codes, senders) taken from small
# caches keyed by their exact encoding. Anything else (other payloads or authenticators,
# nested type arguments, lengths of three or more ULEB128 bytes) and anything malformed
# gives None: the reference decoder above then answers, with its exact result or error.
# tests/unit/types/test_transaction_fast_decode.py holds both to the same answers.

_FAST_CACHE_CAP = 4096
_ADDRESSES: dict[bytes, AccountAddress] = {}
_MODULE_IDS: dict[bytes, ModuleId] = {}
_STRUCT_TAGS: dict[bytes, StructTag] = {}
_IDENTIFIERS: dict[bytes, str] = {}
_STRINGS: dict[bytes, str] = {}
_FAST_DEPTH = 3  # containers the fast shape nests: type arguments, a struct tag, its parameters
_PRIMITIVE_TAGS = tuple(PrimitiveTag(index) for index in range(6))
_ED25519_AUTHENTICATOR_HEADER = b"\x00\x20"  # variant 0, then a 32-byte key's length


def _cached(cache: dict[bytes, _T], key: bytes, value: _T) -> _T:
    if len(cache) >= _FAST_CACHE_CAP:
        cache.clear()
    cache[key] = value
    return value


def _identifier(raw: bytes) -> str | None:
    """The identifier encoded (without length) by ``raw``, or None if it is not one."""
    name = _IDENTIFIERS.get(raw)
    if name is not None:
        return name
    try:
        name = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not is_valid_identifier(name):
        return None
    return _cached(_IDENTIFIERS, raw, name)


def _address(raw: bytes) -> AccountAddress:
    address = _ADDRESSES.get(raw)
    if address is None:
        address = _cached(_ADDRESSES, raw, AccountAddress(raw))
    return address


def decode_signed_transaction_fast(data: bytes, pos: int) -> tuple[SignedTransaction, int] | None:
    """The script-function, Ed25519-signed ``SignedTransaction`` at ``data[pos:]`` and the
    offset after it, exactly as the reference decoder gives it; None for any other shape
    and for anything the reference decoder would refuse (it is then asked instead)."""
    end = len(data)
    # RawTransaction: sender, sequence number, payload variant 3 (ScriptFunction)
    if pos + 25 > end or data[pos + 24] != 3:
        return None
    sender = _address(data[pos : pos + 16])
    sequence_number = int.from_bytes(data[pos + 16 : pos + 24], "little")
    pos += 25
    # ModuleId: address and identifier
    if pos + 17 > end:
        return None
    size = data[pos + 16]
    after = pos + 17 + size
    if size >= 0x80 or after > end:
        return None
    key = data[pos:after]
    module = _MODULE_IDS.get(key)
    if module is None:
        module_name = _identifier(data[pos + 17 : after])
        if module_name is None:
            return None
        module = _cached(_MODULE_IDS, key, ModuleId(_address(data[pos : pos + 16]), module_name))
    pos = after
    # function name
    if pos >= end:
        return None
    size = data[pos]
    after = pos + 1 + size
    if size >= 0x80 or after > end:
        return None
    function = _identifier(data[pos + 1 : after])
    if function is None:
        return None
    pos = after
    # type arguments: primitives and structs without type parameters
    if pos >= end:
        return None
    count = data[pos]
    if count >= 0x80:
        return None
    pos += 1
    ty_args: list[TypeTag] = []
    for _ in range(count):
        if pos >= end:
            return None
        variant = data[pos]
        if variant < 6:
            ty_args.append(_PRIMITIVE_TAGS[variant])
            pos += 1
            continue
        if variant != 7 or pos + 18 > end:
            return None
        module_size = data[pos + 17]
        name_at = pos + 18 + module_size
        if module_size >= 0x80 or name_at >= end:
            return None
        name_size = data[name_at]
        after = name_at + 2 + name_size
        if name_size >= 0x80 or after > end or data[after - 1] != 0:
            return None
        key = data[pos:after]
        tag = _STRUCT_TAGS.get(key)
        if tag is None:
            struct_module = _identifier(data[pos + 18 : name_at])
            struct_name = _identifier(data[name_at + 1 : after - 1])
            if struct_module is None or struct_name is None:
                return None
            tag = _cached(_STRUCT_TAGS, key, StructTag(_address(data[pos + 1 : pos + 17]), struct_module, struct_name, ()))
        ty_args.append(tag)
        pos = after
    # arguments: byte strings whose lengths take one or two ULEB128 bytes
    if pos >= end:
        return None
    count = data[pos]
    if count >= 0x80:
        return None
    pos += 1
    args: list[bytes] = []
    for _ in range(count):
        if pos >= end:
            return None
        size = data[pos]
        if size < 0x80:
            pos += 1
        else:
            if pos + 1 >= end or not 0 < data[pos + 1] < 0x80:  # a zero high group is not canonical
                return None
            size = (size & 0x7F) | (data[pos + 1] << 7)
            pos += 2
        after = pos + size
        if after > end:
            return None
        args.append(data[pos:after])
        pos = after
    # max gas, gas price, currency code, expiration, chain id
    if pos + 17 > end:
        return None
    max_gas_amount = int.from_bytes(data[pos : pos + 8], "little")
    gas_unit_price = int.from_bytes(data[pos + 8 : pos + 16], "little")
    size = data[pos + 16]
    pos += 17
    after = pos + size
    if size >= 0x80 or after + 9 > end:
        return None
    raw_code = data[pos:after]
    currency = _STRINGS.get(raw_code)
    if currency is None:
        try:
            currency = _cached(_STRINGS, raw_code, raw_code.decode("utf-8"))
        except UnicodeDecodeError:
            return None
    expiration = int.from_bytes(data[after : after + 8], "little")
    chain_id = data[after + 8]
    pos = after + 9
    # Ed25519 authenticator: variant 0, a 32-byte key and a 64-byte signature
    if pos + 99 > end or data[pos : pos + 2] != _ED25519_AUTHENTICATOR_HEADER or data[pos + 34] != 64:
        return None
    authenticator = Ed25519Authenticator(data[pos + 2 : pos + 34], data[pos + 35 : pos + 99])
    raw_txn = RawTransaction(
        sender,
        sequence_number,
        ScriptFunction(module, function, tuple(ty_args), tuple(args)),
        max_gas_amount,
        gas_unit_price,
        currency,
        expiration,
        chain_id,
    )
    return SignedTransaction(raw_txn, authenticator), pos + 99

"""JSON views of transactions exactly as Diem's JSON-RPC renders them.

Kept apart from internal types (Diem's ``views.rs``): internals may change, this
shape may not. Field names, order and formats follow diem-protocol.md §4 and Diem's
``TransactionDataView`` / ``ScriptView``.
"""

from __future__ import annotations

from typing import Any

from libra.crypto.hashing import ZERO_HASH, sha3_256, transaction_hash
from libra.types.move import PrimitiveTag, StructTag, TypeTag, VectorTag
from libra.types.scripts import standard_script_for_code
from libra.types.transaction import (
    AccountAuthenticator,
    AddressArg,
    BlockMetadata,
    BoolArg,
    Ed25519Authenticator,
    GenesisTransaction,
    MultiAgentAuthenticator,
    Script,
    ScriptFunction,
    SignedTransaction,
    Transaction,
    TransactionArgument,
    U8Arg,
    U8VectorArg,
    U64Arg,
    U128Arg,
    transaction_to_bcs,
)

SCHEME_NAMES = {0: "Scheme::Ed25519", 1: "Scheme::MultiEd25519"}


def type_argument_view(tag: TypeTag) -> str:
    """Struct tags show as their module name (``XUS``); others as Move types."""
    if isinstance(tag, StructTag):
        return tag.module
    return _type_tag_display(tag)


def _type_tag_display(tag: TypeTag) -> str:
    if isinstance(tag, PrimitiveTag):
        return str(tag)
    if isinstance(tag, VectorTag):
        return f"vector<{_type_tag_display(tag.element)}>"
    return str(tag)


def argument_view(arg: TransactionArgument) -> str:
    """Diem's debug rendering of a script argument, e.g. ``{U64: 12}``."""
    if isinstance(arg, U8Arg):
        return f"{{U8: {arg.value}}}"
    if isinstance(arg, U64Arg):
        return f"{{U64: {arg.value}}}"
    if isinstance(arg, U128Arg):
        return f"{{U128: {arg.value}}}"
    if isinstance(arg, AddressArg):
        return f"{{ADDRESS: {arg.value.hex().upper()}}}"
    if isinstance(arg, U8VectorArg):
        return f"{{U8Vector: 0x{arg.value.hex()}}}"
    assert isinstance(arg, BoolArg)
    return f"{{BOOL: {'true' if arg.value else 'false'}}}"


def _script_name(script: Script) -> str:
    """The standard script's name when the code and the argument kinds both match."""
    known = standard_script_for_code(script.code)
    if known is None or len(script.ty_args) != known.type_parameter_count:
        return "unknown"
    kinds = tuple(_argument_kind(arg) for arg in script.args)
    return known.name if kinds == known.argument_kinds else "unknown"


def _argument_kind(arg: TransactionArgument) -> str:
    return {
        U8Arg: "u8",
        U64Arg: "u64",
        U128Arg: "u128",
        AddressArg: "address",
        U8VectorArg: "vector<u8>",
        BoolArg: "bool",
    }[type(arg)]


def script_view(script: Script) -> dict[str, Any]:
    name = _script_name(script)
    type_arguments = [type_argument_view(t) for t in script.ty_args]
    view: dict[str, Any] = {
        "type": name,
        "code": script.code.hex(),
        "arguments": [argument_view(a) for a in script.args],
        "type_arguments": type_arguments,
    }
    if name == "peer_to_peer_with_metadata":
        receiver, amount, metadata, signature = script.args
        assert isinstance(receiver, AddressArg) and isinstance(amount, U64Arg)
        assert isinstance(metadata, U8VectorArg) and isinstance(signature, U8VectorArg)
        view["receiver"] = receiver.value.hex()
        view["amount"] = amount.value
        view["currency"] = type_arguments[0] if type_arguments else "unknown_currency"
        view["metadata"] = metadata.value.hex()
        view["metadata_signature"] = signature.value.hex()
    return view


def script_function_view(function: ScriptFunction) -> dict[str, Any]:
    return {
        "type": "script_function",
        "arguments_bcs": [arg.hex() for arg in function.args],
        "type_arguments": [type_argument_view(t) for t in function.ty_args],
        "module_address": function.module.address.hex(),
        "module_name": function.module.name,
        "function_name": function.function,
    }


def _sender_authenticator(signed: SignedTransaction) -> AccountAuthenticator:
    auth = signed.authenticator
    return auth.sender if isinstance(auth, MultiAgentAuthenticator) else auth


def _uleb128_size(value: int) -> int:
    size = 1
    while value >= 0x80:
        value >>= 7
        size += 1
    return size


def _payload_bytes(signed: SignedTransaction, payload: Script | ScriptFunction, signed_bytes: bytes | None) -> bytes:
    """BCS of the payload's script or script function (without the payload's variant byte):
    a slice of the signed transaction's bytes when they are given (strict decoding makes
    them canonical: sender, sequence number and the variant byte before it, five fields
    and the authenticator after it), else encoded again."""
    auth = signed.authenticator
    if signed_bytes is None or isinstance(auth, MultiAgentAuthenticator):
        return payload.to_bcs()
    raw = signed.raw_txn
    currency_size = len(raw.gas_currency_code.encode("utf-8"))
    tail = 8 + 8 + _uleb128_size(currency_size) + currency_size + 8 + 1
    tail += 1 + _uleb128_size(len(auth.public_key)) + len(auth.public_key)
    tail += _uleb128_size(len(auth.signature)) + len(auth.signature)
    return signed_bytes[25 : len(signed_bytes) - tail]


def user_transaction_view(signed: SignedTransaction, signed_bytes: bytes | None = None) -> dict[str, Any]:
    """``signed_bytes``, if given, must be the BCS of ``signed`` (it saves encoding the payload)."""
    raw = signed.raw_txn
    payload = raw.payload
    sender_auth = _sender_authenticator(signed)
    secondary: tuple[AccountAuthenticator, ...] = ()
    secondary_addresses: list[str] = []
    if isinstance(signed.authenticator, MultiAgentAuthenticator):
        secondary = signed.authenticator.secondary_signers
        secondary_addresses = [a.hex() for a in signed.authenticator.secondary_signer_addresses]
    if isinstance(payload, Script):
        script_hash = sha3_256(payload.code)
        script_bytes = _payload_bytes(signed, payload, signed_bytes).hex()
        script: dict[str, Any] = script_view(payload)
    elif isinstance(payload, ScriptFunction):
        script_hash = ZERO_HASH
        script_bytes = _payload_bytes(signed, payload, signed_bytes).hex()
        script = script_function_view(payload)
    else:
        script_hash = ZERO_HASH
        script_bytes = ""
        script = {"type": "unknown"}
    return {
        "type": "user",
        "sender": raw.sender.hex(),
        "signature_scheme": SCHEME_NAMES[_scheme(sender_auth)],
        "signature": sender_auth.signature.hex(),
        "public_key": sender_auth.public_key.hex(),
        "secondary_signers": secondary_addresses,
        "secondary_signature_schemes": [SCHEME_NAMES[_scheme(a)] for a in secondary],
        "secondary_signatures": [a.signature.hex() for a in secondary],
        "secondary_public_keys": [a.public_key.hex() for a in secondary],
        "sequence_number": raw.sequence_number,
        "chain_id": raw.chain_id,
        "max_gas_amount": raw.max_gas_amount,
        "gas_unit_price": raw.gas_unit_price,
        "gas_currency": raw.gas_currency_code,
        "expiration_timestamp_secs": raw.expiration_timestamp_secs,
        "script_hash": script_hash.hex(),
        "script_bytes": script_bytes,
        "script": script,
    }


def _scheme(auth: AccountAuthenticator) -> int:
    return 0 if isinstance(auth, Ed25519Authenticator) else 1


def transaction_data_view(txn: Transaction, data: bytes | None = None) -> dict[str, Any]:
    """``data``, if given, must be the BCS of ``txn`` (the ``Transaction`` enum)."""
    if isinstance(txn, SignedTransaction):
        return user_transaction_view(txn, None if data is None else data[1:])
    if isinstance(txn, BlockMetadata):
        return {"type": "blockmetadata", "timestamp_usecs": txn.timestamp_usecs}
    assert isinstance(txn, GenesisTransaction)
    return {"type": "writeset"}


def decoded_transaction_view(txn: Transaction) -> dict[str, Any]:
    """What ``libra tx decode`` prints: the ``transaction`` object, ``hash`` and ``bytes``."""
    data = transaction_to_bcs(txn)
    return {
        "transaction": transaction_data_view(txn),
        "hash": transaction_hash(data).hex(),
        "bytes": data.hex(),
    }

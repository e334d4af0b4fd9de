"""Submitted bytes into a ``SignedTransaction`` with the native decoder's fields.

The common submission (a script function signed by one Ed25519 key) is decoded by the core
(``libra._core.decode_common_transaction``, which answers exactly when and what the Python fast
decoder answers: ``tests/unit/native/test_transaction_decode.py``), and the objects are
built here field by field through their slots, with the names a node sees again and again
(senders, module ids, type tags) remembered by their exact values, instead of by the Python
decoder's byte-by-byte walk. The result equals ``SignedTransaction.from_bcs(data)`` in every
field (``tests/unit/native/test_submission_decode.py``); anything else gives None and the
caller decodes with the reference decoder, which gives its result or its error.
"""

from __future__ import annotations

from libra.native import CORE
from libra.types.direct_init import slot_constructor
from libra.types.move import AccountAddress, ModuleId, PrimitiveTag, StructTag, TypeTag
from libra.types.transaction import Ed25519Authenticator, RawTransaction, ScriptFunction, SignedTransaction

_CAP = 4096  # each remembered kind of name, then cleared (a miss only builds it again)


_signed = slot_constructor(SignedTransaction)
_raw = slot_constructor(RawTransaction)
_function = slot_constructor(ScriptFunction)
_ed25519 = slot_constructor(Ed25519Authenticator)
_PRIMITIVES = tuple(PrimitiveTag(index) for index in range(6))
_MODULES: dict[tuple[bytes, str], ModuleId] = {}
_TAGS: dict[tuple[bytes, str, str], StructTag] = {}


_address = AccountAddress.interned


def _tag(fields: int | tuple[bytes, str, str]) -> TypeTag:
    if type(fields) is int:
        return _PRIMITIVES[fields]
    tag = _TAGS.get(fields)  # type: ignore[arg-type]
    if tag is None:
        address, module, name = fields  # type: ignore[misc]
        if len(_TAGS) >= _CAP:
            _TAGS.clear()
        tag = _TAGS[fields] = StructTag(_address(address), module, name, ())  # type: ignore[index]
    return tag


def decode_common(data: bytes) -> SignedTransaction | None:
    """The common signed transaction that all of ``data`` is, or None (no core, another shape,
    malformed: the reference decoder then answers)."""
    if CORE is None:
        return None
    fields = CORE.decode_common_transaction(data, 0)
    if fields is None or fields[16] != len(data):
        return None
    (sender, sequence_number, module_address, module_name, function, ty_args, args, max_gas_amount,
     gas_unit_price, gas_currency_code, expiration_timestamp_secs, chain_id, public_key, signature,
     *_) = fields
    key = (module_address, module_name)
    module = _MODULES.get(key)
    if module is None:
        if len(_MODULES) >= _CAP:
            _MODULES.clear()
        module = _MODULES[key] = ModuleId(_address(module_address), module_name)
    payload = _function(module, function, tuple(map(_tag, ty_args)), tuple(args))
    raw = _raw(_address(sender), sequence_number, payload, max_gas_amount, gas_unit_price, gas_currency_code,
               expiration_timestamp_secs, chain_id)
    return _signed(raw, _ed25519(public_key, signature))

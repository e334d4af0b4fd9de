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

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

from libra.native import CORE
from libra.types.move import AccountAddress, ModuleId, PrimitiveTag, StructTag, TypeTag
from libra.types.transaction import Ed25519Authenticator, RawTransaction, ScriptFunction, SignedTransaction

_T = TypeVar("_T")
_CAP = 4096  # each remembered kind of name, then cleared (a miss only builds it again)


def _through_slots(cls: type[_T]) -> Callable[..., _T]:
    """``cls(*fields)`` for a frozen, slotted dataclass, each field stored through its slot
    (what its ``__init__`` stores, without the frozen ``__setattr__``); the class must have no
    ``__post_init__``, so nothing is skipped."""
    params = getattr(cls, "__dataclass_params__", None)
    assert params is not None and params.frozen and "__slots__" in cls.__dict__ and not hasattr(cls, "__post_init__")
    names = [field.name for field in dataclasses.fields(cls)]  # type: ignore[arg-type]
    namespace: dict[str, Any] = {"_cls": cls, "_new": object.__new__}
    body = []
    for name in names:
        namespace[f"_set_{name}"] = getattr(cls, name).__set__
        body.append(f"    _set_{name}(self, {name})")
    source = f"def make({', '.join(names)}):\n    self = _new(_cls)\n" + "\n".join(body) + "\n    return self"
    exec(source, namespace)  # noqa: S102 - built from the class's own field names only
    return namespace["make"]  # type: ignore[no-any-return]


_signed = _through_slots(SignedTransaction)
_raw = _through_slots(RawTransaction)
_function = _through_slots(ScriptFunction)
_ed25519 = _through_slots(Ed25519Authenticator)
_PRIMITIVES = tuple(PrimitiveTag(index) for index in range(6))
_ADDRESSES: dict[bytes, AccountAddress] = {}
_MODULES: dict[tuple[bytes, str], ModuleId] = {}
_TAGS: dict[tuple[bytes, str, str], StructTag] = {}


def _address(raw: bytes) -> AccountAddress:
    address = _ADDRESSES.get(raw)
    if address is None:
        if len(_ADDRESSES) >= _CAP:
            _ADDRESSES.clear()
        address = _ADDRESSES[raw] = AccountAddress(raw)
    return address


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

"""Typed parsing of JSON-RPC params, with Diem's rules for each wire type.

Params come as a JSON array (positional) or a JSON object (named, unknown names
ignored), as Diem's serde structs accept; a missing or null ``params`` is an empty
array. Trailing optional params may be left out; an optional param may be null.

Wire rules (Diem's serde types):

* u64: a JSON integer in ``0 ..= 2**64 - 1``; never a float, string or boolean.
* bool: ``true`` or ``false`` only (not ``"true"``, not ``1``).
* address: exactly 32 hex characters, either case, no ``0x`` prefix.
* event key: exactly 48 hex characters, either case.
* bytes (``submit`` data): an even number of hex characters that decode to a strict
  BCS ``SignedTransaction``.

A failure raises :class:`ParamError` naming the param; the dispatcher turns it into
``-32602 Invalid params for method '<m>': <param>: <reason>``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from libra.bcs import BcsError
from libra.mempool.admission import decode_submission

U64_MAX = 2**64 - 1
ADDRESS_LENGTH = 16
EVENT_KEY_LENGTH = 24


class ParamError(ValueError):
    """A param that does not fit its method; ``name`` is None for the params container."""

    def __init__(self, name: str | None, reason: str) -> None:
        super().__init__(reason if name is None else f"{name}: {reason}")
        self.name = name
        self.reason = reason


Parser = Callable[[Any], Any]


def parse_u64(value: Any) -> int:
    """A JSON integer in u64 range (booleans and floats are refused)."""
    if type(value) is not int:
        raise ValueError("expected an unsigned 64-bit integer")
    if not 0 <= value <= U64_MAX:
        raise ValueError("integer out of u64 range")
    return value


def parse_bool(value: Any) -> bool:
    """A JSON boolean, nothing that merely looks like one."""
    if type(value) is not bool:
        raise ValueError("expected a boolean (true or false)")
    return value


def parse_hex(value: Any) -> bytes:
    """A string of hex digit pairs (no ``0x``, no spaces), either case."""
    if not isinstance(value, str):
        raise ValueError("expected a hex-encoded string")
    try:
        data = bytes.fromhex(value)
    except ValueError:
        data = None
    # fromhex skips whitespace between digit pairs: only digits alone give len/2 bytes
    if data is None or 2 * len(data) != len(value):
        raise ValueError("expected an even number of hex characters without 0x prefix")
    return data


def _parse_fixed_hex(value: Any, length: int, what: str) -> bytes:
    """Exactly ``length`` bytes as ``2 * length`` hex characters."""
    expected = f"expected {2 * length} hex characters ({what}, no 0x prefix)"
    if not isinstance(value, str) or len(value) != 2 * length:
        raise ValueError(expected)
    try:
        return parse_hex(value)
    except ValueError:
        raise ValueError(expected) from None


def parse_address(value: Any) -> bytes:
    """An account address: 32 hex characters, giving 16 bytes."""
    return _parse_fixed_hex(value, ADDRESS_LENGTH, "16-byte account address")


def parse_event_key(value: Any) -> bytes:
    """An event key: 48 hex characters, giving 24 bytes."""
    return _parse_fixed_hex(value, EVENT_KEY_LENGTH, "24-byte event key")


def parse_signed_transaction(value: Any) -> bytes:
    """Hex of a BCS ``SignedTransaction`` that decodes strictly; returns the raw bytes."""
    try:
        data = parse_hex(value)
        decode_submission(data)  # remembered: admission of these bytes does not decode again
    except (ValueError, BcsError):
        raise ValueError("expected hex-encoded SignedTransaction") from None
    return data


@dataclass(frozen=True, slots=True)
class Param:
    """One param of a method: its Diem name, its parser, and whether it may be omitted/null."""

    name: str
    parse: Parser
    optional: bool = False


def _parse_one(param: Param, value: Any) -> Any:
    """Apply ``param``'s parser; null is None for an optional param."""
    if value is None and param.optional:
        return None
    try:
        return param.parse(value)
    except ValueError as exc:
        raise ParamError(param.name, str(exc)) from None


def _positional(specs: Sequence[Param], values: list[Any]) -> list[Any]:
    """Params given as an array: at most one value per param, required ones present."""
    if len(values) > len(specs):
        raise ParamError(None, f"expected at most {len(specs)} params, got {len(values)}")
    parsed: list[Any] = []
    for index, param in enumerate(specs):
        if index >= len(values):
            if not param.optional:
                raise ParamError(param.name, "missing required param")
            parsed.append(None)
            continue
        parsed.append(_parse_one(param, values[index]))
    return parsed


def _named(specs: Sequence[Param], values: dict[str, Any]) -> list[Any]:
    """Params given as an object: looked up by name; unknown names are ignored, as in Diem."""
    parsed: list[Any] = []
    for param in specs:
        if param.name not in values and not param.optional:
            raise ParamError(param.name, "missing required param")
        parsed.append(_parse_one(param, values.get(param.name)))
    return parsed


def bind_params(specs: Sequence[Param], raw: Any) -> list[Any]:
    """Typed values for ``specs`` in order, from an array, an object, or null/absent params."""
    if raw is None:
        raw = []
    if isinstance(raw, list):
        return _positional(specs, raw)
    if isinstance(raw, dict):
        return _named(specs, raw)
    raise ParamError(None, "params must be an array or an object")


def required(name: str, parse: Parser) -> Param:
    """A param that must be given."""
    return Param(name, parse)


def optional(name: str, parse: Parser) -> Param:
    """A param that may be omitted or null."""
    return Param(name, parse, optional=True)

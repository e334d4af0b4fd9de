"""``encode_json`` (orjson, with fallbacks) writes exactly what ``json.dumps`` wrote before it."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from libra.api.dispatcher import encode_json
from libra.api.views import event_rate, fixed_point32_rate


def reference(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


FLOATS = st.one_of(
    st.floats(width=32, allow_nan=False, allow_infinity=False),
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(1e-10, 1e-3),  # where orjson and repr differ
    st.integers(-12, 20).map(lambda e: 10.0**e),
)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(0, 2**64 - 1), st.text(), FLOATS)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner), st.tuples(inner, inner), st.dictionaries(st.text(), inner)),
    max_leaves=40,
)


@given(VALUES)
def test_the_text_is_what_json_dumps_writes(value: Any) -> None:
    assert encode_json(value) == reference(value)


@given(st.integers(0, 2**64 - 1))
def test_exchange_rates_are_written_as_before(raw: int) -> None:
    for rate in (fixed_point32_rate(raw), event_rate(raw)):
        assert encode_json({"rate": rate}) == reference({"rate": rate})


@pytest.mark.parametrize(
    "value",
    [
        2**64 - 1,  # u64 max: orjson writes it
        2**64,  # past u64, and below i64: json.dumps writes them
        -(2**63) - 1,
        2**128 + 1,
        {"version": 2**53 + 1, "amount": 18446744073709551615},
        {1: "a", None: "b"},  # keys json.dumps turns into strings
        "\ud800 lone surrogate",
        "é \u2028 \x1f \x7f </script> \"q\" \\",
        6e-05,  # orjson alone writes 0.00006
        [1e-07, 2.5e-09],  # and 1e-7, 2.5e-9
        1e-10,
        1e16,
        0.1,
        -0.0,
        [1.0, (1, "x")],
    ],
)
def test_edge_cases(value: Any) -> None:
    assert encode_json(value) == reference(value)


@pytest.mark.parametrize("value", [{1, 2}, object(), b"bytes"])
def test_what_is_not_json_is_refused_as_before(value: Any) -> None:
    with pytest.raises(TypeError):
        reference(value)
    with pytest.raises(TypeError):
        encode_json(value)


def test_nan_and_infinity_come_out_as_null() -> None:
    """The one difference from json.dumps (which raised): the API holds no such floats."""
    assert encode_json([math.nan, math.inf, -math.inf]) == "[null,null,null]"

"""Move identifiers: the whole name must follow the rule, and decoding refuses anything else."""

from __future__ import annotations

import pytest

from libra.bcs import BcsError, Deserializer, Serializer
from libra.types.move import deserialize_identifier, is_valid_identifier


@pytest.mark.parametrize("name", ["DiemAccount", "peer_to_peer_with_metadata", "XUS", "_a", "a", "Z9_", "_0"])
def test_valid_identifiers(name):
    assert is_valid_identifier(name)


@pytest.mark.parametrize("name", ["", "_", "1abc", "ab-c", "abc\n", "a\nb", "\nabc", "é", "a b", "abc "])
def test_invalid_identifiers(name):
    assert not is_valid_identifier(name)


def test_a_trailing_newline_is_refused_on_the_wire():
    serializer = Serializer()
    serializer.bytes(b"abc\n")
    with pytest.raises(BcsError):
        deserialize_identifier(Deserializer(serializer.output()))

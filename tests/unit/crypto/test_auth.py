"""Authentication keys, addresses, event keys and the travel-rule message against the SDK."""

import hashlib
import random

import pytest
from diem import auth_key as sdk_auth_key
from diem import diem_types, txnmetadata
from diem import utils as sdk_utils

from libra.crypto.auth import (
    AuthKeyError,
    compute_address,
    compute_address_of_key,
    compute_auth_key,
    compute_auth_key_prefix,
    compute_event_key,
    compute_travel_rule_message,
    is_travel_rule_signature_valid,
    join_auth_key,
    sign_travel_rule,
    split_event_key,
)
from libra.crypto.ed25519 import Ed25519PrivateKey
from libra.crypto.multi_ed25519 import MultiEd25519PublicKey
from libra.types.metadata import TravelRuleMetadataV0

SEED = 20261129


def test_documented_address_of_the_zero_key() -> None:
    key = Ed25519PrivateKey(bytes(32)).public_key()
    assert compute_address_of_key(key).hex() == "bb84d9cdf7362e4e2522265b185127cb"


def test_ed25519_auth_keys_match_the_sdk() -> None:
    rng = random.Random(SEED)
    for _ in range(2000):
        seed = rng.randbytes(32)
        ours = compute_auth_key(Ed25519PrivateKey(seed).public_key())
        theirs = sdk_auth_key.AuthKey.from_public_key(
            sdk_utils.Ed25519PrivateKey.from_private_bytes(seed).public_key()
        )
        assert ours == theirs.data
        assert compute_address(ours) == theirs.account_address().to_bytes()
        assert compute_auth_key_prefix(ours) == theirs.prefix()
        assert join_auth_key(compute_auth_key_prefix(ours), compute_address(ours)) == ours


def test_multi_ed25519_auth_key_is_sha3_of_keys_threshold_and_scheme_1() -> None:
    rng = random.Random(SEED)
    for _ in range(200):
        count = rng.randint(1, 32)
        keys = [Ed25519PrivateKey(rng.randbytes(32)).public_key() for _ in range(count)]
        threshold = rng.randint(1, count)
        multi = MultiEd25519PublicKey.from_keys(keys, threshold)
        raw = b"".join(key.data for key in keys) + bytes([threshold])
        expected = hashlib.sha3_256(raw + b"\x01").digest()
        assert compute_auth_key(multi) == expected
        assert compute_address_of_key(multi) == expected[16:]
        assert sdk_utils.hash(raw, b"\x01") == expected


def test_single_and_multi_keys_of_the_same_key_differ() -> None:
    key = Ed25519PrivateKey(bytes(32)).public_key()
    assert compute_auth_key(key) != compute_auth_key(MultiEd25519PublicKey((key,), 1))


def test_event_keys() -> None:
    address = bytes.fromhex("0000000000000000000000000b1e55ed")
    key = compute_event_key(0, address)
    assert key.hex() == "0000000000000000" + "0000000000000000000000000b1e55ed"
    assert compute_event_key(2, address).hex().startswith("0200000000000000")
    assert compute_event_key(2**64 - 1, address)[:8] == b"\xff" * 8
    assert split_event_key(compute_event_key(258, address)) == (258, address)
    rng = random.Random(SEED)
    for _ in range(1000):
        number, addr = rng.randrange(2**64), rng.randbytes(16)
        event_key = compute_event_key(number, addr)
        assert event_key == diem_types.EventKey(event_key).value  # 24 raw bytes as the SDK holds them
        assert split_event_key(event_key) == (number, addr)


def test_travel_rule_message_documented_example() -> None:
    metadata = TravelRuleMetadataV0("ref").to_bcs()
    payer = bytes.fromhex("bb84d9cdf7362e4e2522265b185127cb")
    message = compute_travel_rule_message(metadata, payer, 1_000_000_000)
    assert message.hex() == (
        "02000103726566"
        + "bb84d9cdf7362e4e2522265b185127cb"
        + "00ca9a3b00000000"
        + "404024244449454d5f41545445535424244040"
    )


def test_travel_rule_message_matches_the_sdk() -> None:
    rng = random.Random(SEED)
    for _ in range(2000):
        reference = "".join(rng.choice("abcdef0123456789-") for _ in range(rng.randrange(0, 40)))
        payer = rng.randbytes(16)
        amount = rng.randrange(2**64)
        metadata, signing_message = txnmetadata.travel_rule(
            reference, diem_types.AccountAddress.from_bytes(payer), amount
        )
        assert TravelRuleMetadataV0(reference).to_bcs() == metadata
        assert compute_travel_rule_message(metadata, payer, amount) == signing_message


def test_travel_rule_signature_round_trip() -> None:
    compliance = Ed25519PrivateKey(bytes(range(32)))
    payer = bytes(15) + b"\x01"
    signature = sign_travel_rule(compliance, b"meta", payer, 5)
    assert is_travel_rule_signature_valid(compliance.public_key(), signature.data, b"meta", payer, 5)
    assert not is_travel_rule_signature_valid(compliance.public_key(), signature.data, b"meta", payer, 6)
    assert not is_travel_rule_signature_valid(compliance.public_key(), signature.data[:63], b"meta", payer, 5)
    other = Ed25519PrivateKey(bytes(32)).public_key()
    assert not is_travel_rule_signature_valid(other, signature.data, b"meta", payer, 5)


def test_error_paths() -> None:
    with pytest.raises(AuthKeyError, match="authentication key must be 32 bytes, got 16"):
        compute_address(bytes(16))
    with pytest.raises(AuthKeyError, match="authentication key must be 32 bytes, got 33"):
        compute_auth_key_prefix(bytes(33))
    with pytest.raises(AuthKeyError, match="authentication key prefix must be 16 bytes, got 15"):
        join_auth_key(bytes(15), bytes(16))
    with pytest.raises(AuthKeyError, match="account address must be 16 bytes, got 32"):
        join_auth_key(bytes(16), bytes(32))
    with pytest.raises(AuthKeyError, match="account address must be 16 bytes, got 20"):
        compute_event_key(0, bytes(20))
    with pytest.raises(AuthKeyError, match=r"event creation number must be an integer in 0..2\^64-1, got -1"):
        compute_event_key(-1, bytes(16))
    with pytest.raises(
        AuthKeyError, match=r"event creation number must be an integer in 0..2\^64-1, got True"
    ):
        compute_event_key(True, bytes(16))
    with pytest.raises(AuthKeyError, match="event key must be 24 bytes, got 23"):
        split_event_key(bytes(23))
    with pytest.raises(AuthKeyError, match="payer address must be 16 bytes, got 17"):
        compute_travel_rule_message(b"", bytes(17), 1)
    with pytest.raises(
        AuthKeyError, match=r"amount must be an integer in 0..2\^64-1, got 18446744073709551616"
    ):
        compute_travel_rule_message(b"", bytes(16), 2**64)

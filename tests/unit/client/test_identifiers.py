"""DIP-5 identifiers, intent URIs and Diem IDs against the SDK's ``diem.identifier``."""

import random

import bech32
import pytest
from diem import identifier as sdk_identifier
from diem.identifier import diem_id as sdk_diem_id

from libra.client.identifiers import (
    CHAIN_ID_HRPS,
    ZERO_SUBADDRESS,
    AccountIdentifier,
    AccountIdentifierError,
    DiemId,
    DiemIdError,
    Intent,
    IntentError,
    SubaddressError,
    decode_account_identifier,
    decode_intent,
    encode_account_identifier,
    encode_intent,
    generate_subaddress,
    hrp_for_chain_id,
    is_diem_id,
    parse_diem_id,
    subaddress_from_wire,
    subaddress_to_wire,
)

SEED = 20261131
HRPS = ["dm", "tdm", "pdm", "ddm"]
# DIP-5's published examples.
DIP5_ADDRESS = bytes.fromhex("f72589b71ff4f8d139674a3f7369c69b")
DIP5_SUBADDRESS = bytes.fromhex("cf64428bdeb62af2")
DIP5_WITH_SUB = "dm1p7ujcndcl7nudzwt8fglhx6wxn08kgs5tm6mz4us2vfufk"
DIP5_NO_SUB = "dm1p7ujcndcl7nudzwt8fglhx6wxnvqqqqqqqqqqqqqd8p9cq"


def test_dip5_examples() -> None:
    assert encode_account_identifier(DIP5_ADDRESS, DIP5_SUBADDRESS, "dm") == DIP5_WITH_SUB
    assert encode_account_identifier(DIP5_ADDRESS, None, "dm") == DIP5_NO_SUB
    assert decode_account_identifier(DIP5_NO_SUB, "dm") == AccountIdentifier(DIP5_ADDRESS, None, "dm")
    assert decode_account_identifier(DIP5_WITH_SUB.upper(), "dm").subaddress == DIP5_SUBADDRESS
    assert len(encode_account_identifier(DIP5_ADDRESS, None, "tdm")) == 50
    assert len(DIP5_NO_SUB) == 49


def test_random_identifiers_match_the_sdk() -> None:
    rng = random.Random(SEED)
    for _ in range(3000):
        address = rng.randbytes(16)
        subaddress = None if rng.random() < 0.25 else rng.randbytes(8)
        hrp = rng.choice(HRPS)
        ours = encode_account_identifier(address, subaddress, hrp)
        assert ours == sdk_identifier.encode_account(address.hex(), subaddress, hrp)
        decoded = decode_account_identifier(ours, hrp)
        assert decoded.address == address
        assert decoded.subaddress == subaddress
        assert str(decoded) == ours
        sdk_address, sdk_subaddress = sdk_identifier.decode_account(ours, hrp)
        assert sdk_address.to_bytes() == address and sdk_subaddress == subaddress


def test_random_intents_match_the_sdk() -> None:
    rng = random.Random(SEED)
    for _ in range(3000):
        hrp = rng.choice(HRPS)
        account = encode_account_identifier(rng.randbytes(16), rng.choice([None, rng.randbytes(8)]), hrp)
        currency = rng.choice([None, "XUS", "XDX", "Coin1"])
        amount = rng.choice([None, 0, 1, 2**64 - 1, rng.randrange(2**64)])
        uri = encode_intent(account, currency, amount)
        assert uri == sdk_identifier.encode_intent(account, currency, amount)
        ours = decode_intent(uri, hrp)
        theirs = sdk_identifier.decode_intent(uri, hrp)
        assert ours.account.address == theirs.account_address_bytes
        assert ours.account.subaddress == theirs.subaddress
        assert ours.currency == theirs.currency_code
        assert ours.amount == theirs.amount
        assert ours.amount == (amount or None)
        assert ours.encode() == uri


def test_intent_examples() -> None:
    assert encode_intent(DIP5_NO_SUB) == "diem://" + DIP5_NO_SUB
    assert encode_intent(DIP5_NO_SUB, "XUS", 0) == "diem://" + DIP5_NO_SUB + "?c=XUS"
    assert encode_intent(DIP5_NO_SUB, None, 5) == "diem://" + DIP5_NO_SUB + "?am=5"
    uri = "diem://" + DIP5_WITH_SUB + "?c=XUS&am=4500"
    assert decode_intent(uri, "dm") == Intent(
        AccountIdentifier(DIP5_ADDRESS, DIP5_SUBADDRESS, "dm"), "XUS", 4500
    )
    assert decode_intent("DIEM://" + DIP5_WITH_SUB + "?am=1&c=XUS&extra=1", "dm").amount == 1


def test_subaddress_helpers() -> None:
    assert subaddress_to_wire(None) == ZERO_SUBADDRESS
    assert subaddress_from_wire(ZERO_SUBADDRESS) is None
    sub = generate_subaddress()
    assert len(sub) == 8 and sub != ZERO_SUBADDRESS
    assert subaddress_from_wire(subaddress_to_wire(sub)) == sub
    assert AccountIdentifier(DIP5_ADDRESS, ZERO_SUBADDRESS, "dm").subaddress is None
    with pytest.raises(SubaddressError, match="subaddress must be 8 bytes, got 9"):
        subaddress_to_wire(bytes(9))
    with pytest.raises(SubaddressError, match="subaddress must be 8 bytes, got 7"):
        subaddress_from_wire(bytes(7))
    with pytest.raises(SubaddressError, match="subaddress must be 8 bytes, got str"):
        subaddress_to_wire("00" * 8)  # type: ignore[arg-type]


def test_chain_id_hrps() -> None:
    assert [hrp_for_chain_id(chain) for chain in (1, 2, 3, 4, 5)] == ["dm", "tdm", "tdm", "tdm", "pdm"]
    for chain, hrp in sdk_identifier.HRPS.items():
        assert CHAIN_ID_HRPS[chain] == hrp
    with pytest.raises(
        AccountIdentifierError, match="no account identifier HRP for chain id 7 .known: 1, 2, 3, 4, 5"
    ):
        hrp_for_chain_id(7)


def _with_padding_bits() -> str:
    values = bech32.convertbits(DIP5_ADDRESS + bytes(8), 8, 5, True)
    assert values is not None
    values[-1] |= 1
    return bech32.bech32_encode("dm", [1, *values])


def _replace(text: str, position: int, char: str) -> str:
    return text[:position] + char + text[position + 1 :]


ACCOUNT_ERRORS = [
    (DIP5_NO_SUB[:10] + DIP5_NO_SUB[10:].upper(), "dm", "mixes upper and lower case"),
    ("tdm1p7ujcndcl7nudzwt8fglhx6wxnvqqqqqqqqqqqqqd8p9cq", "dm", "is for HRP 'tdm', expected 'dm'"),
    (encode_account_identifier(DIP5_ADDRESS, None, "pdm"), "tdm", "is for HRP 'pdm', expected 'tdm'"),
    ("p7ujcndcl7nudzwt8fglhx6wxnvqqqqqqqqqqqqqd8p9cq", "dm", "has no HRP and '1' separator"),
    (DIP5_NO_SUB[:-1], "dm", "must be 49 characters, got 48"),
    (DIP5_NO_SUB + "q", "dm", "must be 49 characters, got 50"),
    (_replace(DIP5_NO_SUB, 10, "b"), "dm", "invalid Bech32 character 'b' at position 10"),
    (_replace(DIP5_NO_SUB, 12, "o"), "dm", "invalid Bech32 character 'o' at position 12"),
    (_replace(DIP5_NO_SUB, 20, "q" if DIP5_NO_SUB[20] != "q" else "p"), "dm", "checksum is wrong"),
    (
        bech32.bech32_encode("dm", [0, *bech32.convertbits(bytes(24), 8, 5, True)]),
        "dm",
        "version is 0, expected 1",
    ),
    (_with_padding_bits(), "dm", "non-zero padding bits"),
    (DIP5_NO_SUB, "xdm", "unknown HRP 'xdm'; expected one of ddm, dm, pdm, tdm"),
]


@pytest.mark.parametrize(("text", "hrp", "message"), ACCOUNT_ERRORS)
def test_account_identifier_errors(text: str, hrp: str, message: str) -> None:
    with pytest.raises(AccountIdentifierError, match=message):
        decode_account_identifier(text, hrp)
    if hrp in HRPS:  # the SDK refuses the same strings
        with pytest.raises(ValueError):
            sdk_identifier.decode_account(text, hrp)


def test_every_single_character_change_is_refused() -> None:
    for position in range(len(DIP5_WITH_SUB)):
        for char in bech32.CHARSET:
            if char != DIP5_WITH_SUB[position]:
                with pytest.raises(AccountIdentifierError):
                    decode_account_identifier(_replace(DIP5_WITH_SUB, position, char), "dm")


def test_account_identifier_construction_errors() -> None:
    with pytest.raises(AccountIdentifierError, match="account address must be 16 bytes, got 15"):
        encode_account_identifier(bytes(15), None, "dm")
    with pytest.raises(AccountIdentifierError, match="account address must be 16 bytes, got str"):
        AccountIdentifier("00" * 16, None, "dm")  # type: ignore[arg-type]
    with pytest.raises(SubaddressError, match="subaddress must be 8 bytes, got 16"):
        encode_account_identifier(bytes(16), bytes(16), "dm")
    with pytest.raises(AccountIdentifierError, match="unknown HRP 'lbr'"):
        encode_account_identifier(bytes(16), None, "lbr")


INTENT_ERRORS = [
    ("dm1p7ujcndcl7nudzwt8fglhx6wxnvqqqqqqqqqqqqqd8p9cq", "must start with 'diem://'"),
    ("https://" + DIP5_NO_SUB, "must start with 'diem://'"),
    ("diem://" + DIP5_NO_SUB + "#x", "must not have a fragment"),
    ("diem://" + DIP5_NO_SUB + "/pay", "must not have a path"),
    ("diem://" + DIP5_NO_SUB[:-1] + "x", "invalid account identifier: account identifier checksum is wrong"),
    ("diem://tdm1p7ujcndcl7nudzwt8fglhx6wxnvqqqqqqqqqqqqqd8p9cq", "invalid account identifier: .*HRP 'tdm'"),
    ("diem://" + DIP5_NO_SUB + "?am", "malformed query"),
    ("diem://" + DIP5_NO_SUB + "?am=1&am=2", "repeats parameter 'am'"),
    ("diem://" + DIP5_NO_SUB + "?am=0", "amount must be in 1..2\\^64-1, got 0"),
    ("diem://" + DIP5_NO_SUB + "?am=18446744073709551616", "amount must be in 1..2\\^64-1"),
    ("diem://" + DIP5_NO_SUB + "?am=-1", "amount must be a decimal integer, got '-1'"),
    ("diem://" + DIP5_NO_SUB + "?am=1.5", "amount must be a decimal integer, got '1.5'"),
    ("diem://" + DIP5_NO_SUB + "?am=", "amount must be a decimal integer, got ''"),
    ("diem://" + DIP5_NO_SUB + "?c=X%20US", "currency code must be ASCII letters and digits, got 'X US'"),
    ("diem://" + DIP5_NO_SUB + "?c=", "currency code must be ASCII letters and digits, got ''"),
]


@pytest.mark.parametrize(("uri", "message"), INTENT_ERRORS)
def test_intent_decoding_errors(uri: str, message: str) -> None:
    with pytest.raises(IntentError, match=message):
        decode_intent(uri, "dm")


def test_intent_encoding_errors() -> None:
    with pytest.raises(IntentError, match="amount must be an integer in 1..2\\^64-1, got -5"):
        encode_intent(DIP5_NO_SUB, "XUS", -5)
    with pytest.raises(
        IntentError, match="amount must be an integer in 1..2\\^64-1, got 18446744073709551616"
    ):
        encode_intent(DIP5_NO_SUB, "XUS", 2**64)
    with pytest.raises(IntentError, match="amount must be an integer in 1..2\\^64-1, got True"):
        encode_intent(DIP5_NO_SUB, "XUS", True)
    with pytest.raises(IntentError, match="currency code must be ASCII letters and digits, got 'X&am=5'"):
        encode_intent(DIP5_NO_SUB, "X&am=5")
    with pytest.raises(IntentError, match="not an encoded account identifier: 'a b'"):
        encode_intent("a b")
    with pytest.raises(IntentError, match="amount must be an integer in 1..2\\^64-1, got 0"):
        Intent(AccountIdentifier(DIP5_ADDRESS, None, "dm"), "XUS", 0)


def test_diem_ids() -> None:
    diem_id = parse_diem_id("alice.smith@wallet.example")
    assert diem_id == DiemId("alice.smith", "wallet.example")
    assert str(diem_id) == "alice.smith@wallet.example"
    longest = "u" * 64 + "@" + "d" * 63
    assert is_diem_id(longest) and sdk_diem_id.is_diem_id(longest)
    rng = random.Random(SEED)
    alphabet = "abcXYZ09."
    for _ in range(2000):
        user = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 66)))
        domain = "".join(rng.choice(alphabet + "@-_") for _ in range(rng.randint(1, 65)))
        text = f"{user}@{domain}"
        assert is_diem_id(text) == sdk_diem_id.is_diem_id(text), text


DIEM_ID_ERRORS = [
    ("alice", "must look like user@domain, got 'alice'"),
    ("@wallet", "Diem ID user is empty"),
    ("alice@", "Diem ID domain is empty"),
    ("u" * 65 + "@d", "Diem ID user is 65 characters, at most 64 allowed"),
    ("u@" + "d" * 64, "Diem ID domain is 64 characters, at most 63 allowed"),
    ("al-ice@wallet", "Diem ID user may hold only ASCII letters, digits and '.', found '-'"),
    ("alice@wal@let", "Diem ID domain may hold only ASCII letters, digits and '.', found '@'"),
    ("élise@wallet", "Diem ID user may hold only ASCII letters, digits and '.', found 'é'"),
]


@pytest.mark.parametrize(("text", "message"), DIEM_ID_ERRORS)
def test_diem_id_errors(text: str, message: str) -> None:
    with pytest.raises(DiemIdError, match=message):
        parse_diem_id(text)
    assert not is_diem_id(text)

"""Wallet pieces without a network: amounts, recipients, keystore."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from libra.client.identifiers import encode_account_identifier, encode_intent
from libra.client.wallet import BadInput, format_amount, history_entry, parse_amount, resolve_recipient
from libra.client.wallet_keystore import (
    Keystore,
    KeystoreInputError,
    WalletNotFoundError,
    WrongPassphraseError,
    parse_private_key_hex,
)
from libra.crypto.ed25519 import Ed25519PrivateKey
from libra.types.metadata import GeneralMetadataV0

ADDRESS = bytes(range(16))
SUB = bytes(range(1, 9))


@pytest.mark.parametrize(
    ("text", "micro"),
    [("12.5", 12_500_000), ("0.000001", 1), ("1", 1_000_000), ("007.10", 7_100_000),
     ("18446744073709.551615", (1 << 64) - 1), (" 3 ", 3_000_000)],
)
def test_amounts_are_exact(text: str, micro: int) -> None:
    assert parse_amount(text) == micro


@pytest.mark.parametrize(
    ("text", "words"),
    [("", "empty"), ("0", "more than zero"), ("0.000000", "more than zero"), ("-1", "positive"),
     ("1.0000001", "more than 6 decimals"), ("1e6", "not a number"), ("1,5", "not a number"),
     (".5", "not a number"), ("5.", "not a number"), ("nan", "not a number"), ("+1", "not a number"),
     ("18446744073709.551616", "too large"), ("١٢", "not a number")],
)
def test_bad_amounts_say_why(text: str, words: str) -> None:
    with pytest.raises(BadInput, match=words):
        parse_amount(text)


def test_amounts_format_without_floats() -> None:
    assert format_amount(12_500_000) == "12.50"
    assert format_amount(1) == "0.000001"
    assert format_amount(1_234_567_890_000, "XUS") == "1,234,567.89 XUS"
    assert format_amount((1 << 64) - 1) == "18,446,744,073,709.551615"


def test_recipients_offline() -> None:
    identifier = encode_account_identifier(ADDRESS, SUB, "tdm")
    plain = resolve_recipient(identifier, "tdm", None)
    assert (plain.address, plain.subaddress, plain.kind) == (ADDRESS, SUB, "identifier")
    intent = resolve_recipient(encode_intent(identifier, "XUS", 5), "tdm", None)
    assert (intent.address, intent.subaddress, intent.currency, intent.amount) == (ADDRESS, SUB, "XUS", 5)
    assert resolve_recipient("0x" + ADDRESS.hex(), "tdm", None).address == ADDRESS
    with pytest.raises(BadInput, match="network prefix 'pdm'"):
        resolve_recipient(encode_account_identifier(ADDRESS, None, "pdm"), "tdm", None)
    with pytest.raises(BadInput, match="payment link is for network prefix 'dm'"):
        resolve_recipient(encode_intent(encode_account_identifier(ADDRESS, None, "dm")), "tdm", None)
    with pytest.raises(BadInput, match="not a recipient"):
        resolve_recipient("alice", "tdm", None)
    with pytest.raises(BadInput, match="empty"):
        resolve_recipient("  ", "tdm", None)


def test_history_entry_reads_subaddresses() -> None:
    metadata = GeneralMetadataV0(to_subaddress=SUB).to_bcs().hex()
    event = {
        "key": "02" + "00" * 7 + ADDRESS.hex(), "sequence_number": 0, "transaction_version": 9,
        "data": {"type": "receivedpayment", "amount": {"amount": 5, "currency": "XUS"},
                 "sender": "ab" * 16, "receiver": ADDRESS.hex(), "metadata": metadata},
    }
    entry = history_entry(event)
    assert entry is not None and entry.direction == "received" and entry.to_subaddress == SUB
    assert entry.counterparty == bytes.fromhex("ab" * 16)
    assert history_entry({**event, "data": {**event["data"], "metadata": "6e6f6e73656e7365"}}) is not None
    assert history_entry({**event, "data": {"type": "newblock"}}) is None


def test_keystore_round_trip_and_errors(tmp_path: Path) -> None:
    store = Keystore(tmp_path / "wallets")
    key = Ed25519PrivateKey.generate()
    entry = store.create("alice", "a long passphrase", key)
    assert (tmp_path / "wallets").stat().st_mode & 0o777 == 0o700
    assert entry.path.stat().st_mode & 0o777 == 0o600
    assert key.to_bytes().hex() not in entry.path.read_text()
    assert store.unlock("alice", "a long passphrase").to_bytes() == key.to_bytes()
    with pytest.raises(WrongPassphraseError):
        store.unlock("alice", "a long passphrasE")
    with pytest.raises(KeystoreInputError, match="already exists"):
        store.create("alice", "a long passphrase")
    with pytest.raises(KeystoreInputError, match="already in the keystore"):
        store.create("alice2", "a long passphrase", key)
    with pytest.raises(KeystoreInputError, match="at least 8"):
        store.create("bob", "short")
    with pytest.raises(KeystoreInputError, match="not allowed"):
        store.create("../bob", "a long passphrase")
    with pytest.raises(WalletNotFoundError):
        store.get("carol")
    tampered = json.loads(entry.path.read_text())
    ciphertext = bytes.fromhex(tampered["cipher"]["ciphertext"])
    # flip a bit: overwriting the first byte with 00 changed nothing when it already was 00 (1 run in 256)
    tampered["cipher"]["ciphertext"] = (bytes([ciphertext[0] ^ 1]) + ciphertext[1:]).hex()
    entry.path.chmod(0o600)
    entry.path.write_text(json.dumps(tampered))
    with pytest.raises(WrongPassphraseError):
        store.unlock("alice", "a long passphrase")
    assert [e.name for e in store.list()] == ["alice"]


@pytest.mark.parametrize(("text", "words"), [("12", "64 hex"), ("zz" * 32, "not hex"), ("", "64 hex")])
def test_private_key_text(text: str, words: str) -> None:
    with pytest.raises(KeystoreInputError, match=words):
        parse_private_key_hex(text)
    assert parse_private_key_hex("0x" + "11" * 32).to_bytes() == b"\x11" * 32

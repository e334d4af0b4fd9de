"""Strict decoding consumes exactly the canonical bytes, so proofs keep the received slices."""

from __future__ import annotations

import random

from libra.bcs import BcsError, Deserializer
from libra.client import builders
from libra.crypto.ed25519 import Ed25519PrivateKey
from libra.types.move import AccountAddress, StructTag, currency_type_tag
from libra.types.proof import _read_event, _read_transaction
from libra.types.transaction import deserialize_transaction, transaction_to_bcs
from libra.types.write_set import ContractEvent, EventKey


def _seeds() -> list[bytes]:
    key = Ed25519PrivateKey.generate()
    payee = AccountAddress(bytes(15) + b"\x01")
    return [
        b"\x00"
        + builders.sign_transaction(
            key, AccountAddress(bytes(16)), seq,
            builders.peer_to_peer_with_metadata("XUS", payee, 5 + seq, metadata=bytes(seq)),
            chain_id=2, expiration_timestamp_secs=10**9,
        ).transaction.to_bcs()
        for seq in range(10)
    ]


def test_every_decodable_mutant_is_its_own_canonical_encoding():
    rng = random.Random(5)
    seeds = _seeds()
    decoded = 0
    for _ in range(5000):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 3)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        try:
            sliced = _read_transaction(Deserializer(bytes(data)))
        except (BcsError, ValueError):
            continue
        decoded += 1
        assert transaction_to_bcs(deserialize_transaction(Deserializer(sliced))) == sliced
        assert bytes(data).startswith(sliced)
    assert decoded > 1000  # the mutants exercise the decoder, not only its refusals


def test_every_decodable_event_mutant_is_its_own_canonical_encoding():
    rng = random.Random(6)
    tags = [currency_type_tag("XUS"), StructTag(AccountAddress(bytes(15) + b"\x01"), "DiemAccount", "SentPaymentEvent", ())]
    seeds = [ContractEvent(EventKey(bytes([i]) * 24), i, tags[i % 2], bytes(range(i + 3))).to_bcs() for i in range(8)]
    decoded = 0
    for _ in range(5000):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 2)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        try:
            sliced = _read_event(Deserializer(bytes(data)))
        except (BcsError, ValueError):
            continue
        decoded += 1
        assert ContractEvent.from_bcs(sliced).to_bcs() == sliced
    assert decoded > 1000

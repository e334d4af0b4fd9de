"""Eviction by heaps removes exactly what a scan of the whole pool would."""

from __future__ import annotations

import os
import random

from libra.client import builders
from libra.crypto.ed25519 import Ed25519PrivateKey
from libra.mempool.pool import Mempool, PoolConfig
from libra.types.move import AccountAddress

KEY = Ed25519PrivateKey.generate()


def _txn(sender: AccountAddress, seq: int, expiration: int) -> builders.SignedSubmission:
    return builders.sign_transaction(
        KEY, sender, seq, builders.peer_to_peer_with_metadata("XUS", sender, 1),
        chain_id=2, expiration_timestamp_secs=expiration,
    )


def test_eviction_matches_a_full_scan() -> None:
    rng = random.Random(5)
    senders = [AccountAddress(os.urandom(16)) for _ in range(6)]
    pool = Mempool(PoolConfig(system_ttl_secs=50.0))
    next_seq = dict.fromkeys(senders, 0)
    ledger_secs, now = 0, 0.0
    for _ in range(400):
        now += rng.random() * 5
        action = rng.random()
        if action < 0.6:
            sender = rng.choice(senders)
            signed = _txn(sender, next_seq[sender], rng.randrange(ledger_secs, ledger_secs + 120))
            pool.add(signed.transaction, signed.bcs, signed.hash, 0, now)
            next_seq[sender] += 1
        elif action < 0.7 and len(pool):
            pool.remove(rng.choice(list(pool._by_hash)))
        else:
            ledger_secs += rng.randrange(0, 20)
            deadline = now - pool.config.system_ttl_secs
            expected = {
                h for h, p in pool._by_hash.items() if p.expiration_secs <= ledger_secs or p.inserted_at < deadline
            }
            before = set(pool._by_hash)
            assert pool.evict_expired(ledger_secs, now) == len(expected)
            assert set(pool._by_hash) == before - expected

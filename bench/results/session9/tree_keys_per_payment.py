"""State-tree bytes per payment: 20 blocks of 500 two-account payments over 1,000 accounts.

Run from the repository (``.venv/bin/python bench/results/session9/tree_keys_per_payment.py``);
to measure an older tree, put its ``src`` first on ``PYTHONPATH`` with ``LIBRA_CORE=python``.
"""

from __future__ import annotations

import random

from libra.storage.kv import MemoryStore
from libra.storage.libradb import LibraDB, TransactionToCommit

ACCOUNTS, BLOCKS, BLOCK_SIZE = 1000, 20, 500


def tree_stats(db: LibraDB) -> tuple[int, int, int]:
    """(node count, node bytes, stale-index bytes), keys included."""
    nodes = list(db._store.iterate(b"N", b"O"))
    stale = list(db._store.iterate(b"S", b"T"))
    return len(nodes), sum(len(k) + len(v) for k, v in nodes), sum(len(k) + len(v) for k, v in stale)


def main() -> None:
    rng = random.Random(1)
    accounts = [rng.randbytes(16) for _ in range(ACCOUNTS)]
    db = LibraDB(MemoryStore(), native_tree=False)
    db.commit_block([TransactionToCommit(b"genesis", {a: rng.randbytes(100) for a in accounts})], 0)
    before = tree_stats(db)
    payments = 0
    for _ in range(BLOCKS):
        block = []
        for _ in range(BLOCK_SIZE):
            payer, payee = rng.sample(accounts, 2)
            block.append(TransactionToCommit(b"p%d" % payments, {payer: rng.randbytes(100), payee: rng.randbytes(100)}))
            payments += 1
        db.commit_block(block, db.next_version)
    after = tree_stats(db)
    nodes, node_bytes, stale_bytes = (a - b for a, b in zip(after, before, strict=True))
    print(
        f"N keys/payment {nodes / payments:.2f}, N bytes/payment {node_bytes / payments:.0f}, "
        f"S bytes/payment {stale_bytes / payments:.0f}"
    )


if __name__ == "__main__":
    main()

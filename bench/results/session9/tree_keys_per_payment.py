import random, sys
from libra.storage.libradb import LibraDB, TransactionToCommit
from libra.storage.kv import MemoryStore
rng = random.Random(1)
accounts = [rng.randbytes(16) for _ in range(1000)]
db = LibraDB(MemoryStore(), native_tree=False)
db.commit_block([TransactionToCommit(b"genesis", {a: rng.randbytes(100) for a in accounts})], 0)
def tree_stats():
    n = [(k, v) for k, v in db._store.iterate(b"N", b"O")]
    s = [(k, v) for k, v in db._store.iterate(b"S", b"T")]
    return len(n), sum(len(k) + len(v) for k, v in n), sum(len(k) + len(v) for k, v in s)
before = tree_stats()
payments = 0
for block in range(20):
    txns = []
    for i in range(500):
        a, b = rng.sample(accounts, 2)
        txns.append(TransactionToCommit(b"p%d" % payments, {a: rng.randbytes(100), b: rng.randbytes(100)}))
        payments += 1
    db.commit_block(txns, db.next_version)
after = tree_stats()
print(f"N keys/payment {(after[0]-before[0])/payments:.2f}, N bytes/payment {(after[1]-before[1])/payments:.0f}, S bytes/payment {(after[2]-before[2])/payments:.0f}")

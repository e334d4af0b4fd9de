"""Share of a process's busy py-spy samples by component.

Run: ``python bench/results/session2/classify_pyspy_raw.py FILE`` on ``py-spy record -f raw``
output (one ``frame;frame;... count`` line per stack). Idle waits are left out; each stack
counts for the first component whose marker it contains.
"""

from __future__ import annotations

import collections
import re
import sys

IDLE_LEAVES = ("EpollSelector.select", "_worker (concurrent", "Condition.wait", "Queue.get")
COMPONENTS = [
    ("admission: signature check", ["crypto_sign_open"]),
    ("admission: decode, prologue, pool", ["NodeRuntime._admit", "admit (", "preverify"]),
    ("execution (framework)", ["execute_block (libra/execution"]),
    ("ledger blob tracking / entries", ["Ledger._entries", "_BlobTracker"]),
    ("storage prepare_block (state tree, accumulator)", ["LibraDB.prepare_block"]),
    ("storage commit (synced write)", ["LibraDB.commit_prepared"]),
    ("state sync: serve chunks", ["StateSync.serve"]),
    ("state sync: apply outputs", ["StateSync.apply"]),
    ("API dispatcher + JSON", ["Dispatcher.", "encode_json"]),
    ("consensus core (other)", ["RoundManager."]),
    ("network / TLS / asyncio", ["Connection.", "SSLProtocol", "_SelectorSocketTransport", "selector_events"]),
]


def classify(path: str) -> tuple[int, collections.Counter[str]]:
    counts: collections.Counter[str] = collections.Counter()
    total = 0
    with open(path) as lines:
        for line in lines:
            stack, count_text = line.rstrip().rsplit(" ", 1)
            frames = re.sub(r"/work/main/src/", "", stack)
            if frames.split(";")[-1].startswith(IDLE_LEAVES):
                continue
            count = int(count_text)
            total += count
            name = next((name for name, markers in COMPONENTS if any(m in frames for m in markers)), "other")
            counts[name] += count
    return total, counts


def main() -> None:
    total, counts = classify(sys.argv[1])
    print(f"busy samples: {total}")
    for name, count in counts.most_common():
        print(f"{100 * count / total:5.1f} %  {name}")


if __name__ == "__main__":
    main()

"""Share of py-spy samples by node component: ``python classify_profile.py RAW_FILE``.

RAW_FILE is ``py-spy record -f raw --threads`` output (one ``frame;frame;... count`` line
per stack). A stack counts for the first component whose markers appear in it.
"""

from __future__ import annotations

import collections
import sys

RULES = (
    ("exec: signature verify", ("verify_signatures", "_iter_signature_checks")),
    ("exec: framework (prologue/payload/epilogue)", ("execute_block",)),
    ("ledger: _BlobTracker/_entries", ("_BlobTracker", "Ledger._entries", "_to_commit")),
    ("storage: prepare_block", ("prepare_block",)),
    ("storage: commit_prepared", ("commit_prepared",)),
    ("block: other", ("execute_and_commit", "block_0")),
    ("admission: signature verify", ("verify_transaction_signature",)),
    ("admission: prologue/state reads", ("check_prologue", "check_admission", "get_account_view")),
    ("admission: BCS decode", ("decode_submission",)),
    ("mempool: add", ("Mempool.add",)),
    ("admission: other", ("admit (", "NodeRuntime.submit", "preverify")),
    ("api: submit param decode (BCS)", ("parse_signed_transaction",)),
    ("api: JSON decode", ("decode_json",)),
    ("api: get_transactions (observer)", ("get_transactions",)),
    ("api: JSON encode", ("encode_json", "encode_result", "encode_error")),
    ("api: dispatcher other", ("Dispatcher.", "handle_jsonrpc")),
    ("mempool: commit/evict/take", ("_after_commit", "Mempool.commit", "evict_expired", "take_block")),
    ("http transport (aiohttp/asyncio)", ("aiohttp", "asyncio")),
)


def is_idle(leaf: str) -> bool:
    return (
        "thread.py:81)" in leaf
        or ("select" in leaf.lower() and "selector_events" not in leaf)
        or "wait (threading" in leaf
        or "_wait_for_tstate_lock" in leaf
    )


def classify(path: str) -> tuple[int, collections.Counter[str]]:
    counts: collections.Counter[str] = collections.Counter()
    total = 0
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            stack, _, number = line.rstrip().rpartition(" ")
            if not stack:
                continue
            samples = int(number)
            total += samples
            leaf = stack.split(";")[-1]
            component = "idle" if is_idle(leaf) else "other"
            if component != "idle":
                component = next((name for name, marks in RULES if any(m in stack for m in marks)), "other")
            counts[component] += samples
    return total, counts


def main(argv: list[str]) -> None:
    total, counts = classify(argv[0])
    busy = total - counts["idle"]
    print(f"samples {total}, busy {busy}")
    for component, samples in counts.most_common():
        if component != "idle":
            print(f"{100 * samples / busy:5.1f}%  {component}")


if __name__ == "__main__":
    main(sys.argv[1:])

"""Figures of a fault run: ``python -m bench.reliability_summary FILE.jsonl``.

``make faults RECORD=FILE.jsonl`` writes one JSON line per validator kill
(``tests/integration/consensus/kill_record.py`` says what each figure measures), one for the
kill of all validators and a summary line. This prints, per kind of kill, the median, 90th
percentile and maximum of each figure, as a Markdown table for the results README.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path

FIGURES = ("down_s", "api_up_s", "caught_up_s", "at_tip_s", "stall_s")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def summarize(lines: list[dict]) -> str:
    kills: dict[str, list[dict]] = defaultdict(list)
    for line in lines:
        if "victim" in line:
            kills[line["kind"]].append(line)
    out = ["| kills | count | " + " | ".join(f"{f} p50 / p90 / max" for f in FIGURES) + " |",
           "|---|---|" + "---|" * len(FIGURES)]
    for kind in sorted(kills):
        rows = kills[kind]
        cells = []
        for figure in FIGURES:
            values = [float(r[figure]) for r in rows]
            cells.append(f"{statistics.median(values):.1f} / {percentile(values, 0.9):.1f} / {max(values):.1f}")
        out.append(f"| {kind} | {len(rows)} | " + " | ".join(cells) + " |")
    every = [r for rows in kills.values() for r in rows]
    if every:
        loads = [float(r["load_average"]) for r in every]
        out.append("")
        out.append(f"{len(every)} kills; load average (1 min) during the kills: "
                   f"median {statistics.median(loads):.1f}, max {max(loads):.1f}.")
    for line in lines:
        if line.get("kind") == "all validators":
            out.append(f"All validators killed at once at version {line['version_at_kill']}: commits again "
                       f"{line['first_commits_s']} s after the restarts, every validator at the tip after "
                       f"{line['all_at_tip_s']} s (longest stretch without a commit {line['stall_s']} s).")
        if line.get("kind") == "summary":
            out.append(f"{line['payments_acknowledged']} payments acknowledged (committed, as the API reported) by "
                       f"{line['senders']} paying accounts, every one found in the ledger after the faults; "
                       f"{line['payment_errors']} submissions timed out or failed while a node was down "
                       f"(never acknowledged); run {line['seconds']} s.")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("record", type=Path)
    args = parser.parse_args()
    lines = [json.loads(line) for line in args.record.read_text().splitlines() if line.strip()]
    print(summarize(lines))


if __name__ == "__main__":
    main()

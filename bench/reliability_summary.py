"""Figures of the reliability runs, as Markdown for bench/results/reliability/README.md.

    python -m bench.reliability_summary FILE.jsonl            # one fault record, per kind of kill
    python -m bench.reliability_summary A.jsonl B.jsonl ...   # fault records side by side
    python -m bench.reliability_summary twins-100000.json fuzz-1000000.json

``make faults RECORD=FILE.jsonl`` writes one JSON line per validator kill
(``tests/integration/consensus/kill_record.py`` says what each figure measures), one for the
kill of all validators and a summary line; for one record this prints, per kind of kill,
the median, 90th percentile and maximum of each figure, and for several a row per record.
``make twins JSON=FILE`` and ``make fuzz JSON=FILE`` write one JSON object each: their
totals, and for the fuzzer a row per target.
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


def spread(values: list[float]) -> str:
    """``p50 / p90 / max`` of ``values``."""
    return f"{statistics.median(values):.1f} / {percentile(values, 0.9):.1f} / {max(values):.1f}"


def read_record(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def summarize(lines: list[dict]) -> str:
    """One fault record: a row per kind of kill, then the all-validator kill and the totals."""
    kills: dict[str, list[dict]] = defaultdict(list)
    for line in lines:
        if "victim" in line:
            kills[line["kind"]].append(line)
    out = ["| kills | count | " + " | ".join(f"{f} p50 / p90 / max" for f in FIGURES) + " |",
           "|---|---|" + "---|" * len(FIGURES)]
    for kind in sorted(kills):
        rows = kills[kind]
        cells = [spread([float(r[figure]) for r in rows]) for figure in FIGURES]
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
    if not any(line.get("kind") == "summary" for line in lines):
        out.append("No summary line: the run ended before its last phase (the payments check after the "
                   "partitions) wrote one.")
    return "\n".join(out)


def compare(records: dict[str, list[dict]]) -> str:
    """Fault records side by side: a row per record, every kill of it counted together."""
    out = ["| record | kills | load (1 min) median / max | stall_s p50 / p90 / max | caught_up_s p50 / p90 / max "
           "| at_tip_s p50 / p90 / max | all validators: commits again / all at tip (s) | payments acknowledged, "
           "lost |",
           "|---|---|---|---|---|---|---|---|"]
    for name, lines in records.items():
        kills = [line for line in lines if "victim" in line]
        loads = [float(k["load_average"]) for k in kills]
        every = next((line for line in lines if line.get("kind") == "all validators"), None)
        summary = next((line for line in lines if line.get("kind") == "summary"), None)
        cells = [
            name,
            str(len(kills)),
            f"{statistics.median(loads):.1f} / {max(loads):.1f}",
            *(spread([float(k[figure]) for k in kills]) for figure in ("stall_s", "caught_up_s", "at_tip_s")),
            f"{every['first_commits_s']} / {every['all_at_tip_s']}" if every else "-",
            f"{summary['payments_acknowledged']} ({summary['senders']} senders), 0" if summary else "not recorded",
        ]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def summarize_twins(run: dict) -> str:
    spec = run["spec"]
    return "\n".join([
        f"`{run['command']}`",
        "",
        f"{run['scenarios']:,} scenarios of {spec['validators']} validators ({spec['twins']} with a twin), "
        f"{spec['rounds']} scripted rounds each, seed {spec['seed']}"
        f"{', leader reputation after them' if spec['reputation'] else ''}; {run['jobs']} processes, "
        f"{run['seconds']:.0f} s; load average (1/5/15 min) {_loads(run['load_average_before'])} before, "
        f"{_loads(run['load_average_after'])} after.",
        "",
        f"**{run['safety_violations']} safety violations, {run['not_live']} scenarios not live** "
        f"({run['failed']} failed). The nodes went through {run['commits']:,} commits, {run['events']:,} events, "
        f"{run['fast_forwards']:,} fast-forwards (state sync), {run['epoch_changes']:,} epoch changes and "
        f"{run['restarts']:,} restarts.",
    ])


def summarize_fuzz(run: dict) -> str:
    out = [
        f"`{run['command']}`",
        "",
        f"{run['inputs_per_target']:,} inputs per target, {len(run['targets'])} targets, seed {run['seed']}; "
        f"{run['jobs']} processes, {run['seconds']} s; load average (1/5/15 min) "
        f"{_loads(run['load_average_before'])} before, {_loads(run['load_average_after'])} after.",
        "",
        f"**{run['findings']} findings** (anything but the project's own errors out of a decoder), "
        f"{len(run['died'])} worker processes died (a native crash).",
        "",
        "| target | inputs | accepted | refused | answers | findings | µs/input | slowest (ms) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for target in run["targets"]:
        refused = ", ".join(f"{name} {count:,}" for name, count in target["refused"].items()) or "-"
        answers = ", ".join(f"{name} {count:,}" for name, count in list(target["answers"].items())[:4]) or "-"
        out.append(f"| {target['target']} | {target['inputs']:,} | {target['accepted']:,} | {refused} | {answers} "
                   f"| {len(target['findings'])} | {target['us_per_input']} | {target['slowest_us'] / 1000:.1f} |")
    return "\n".join(out)


def _loads(values: list[float]) -> str:
    return " / ".join(f"{v:.1f}" for v in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", type=Path, nargs="+")
    args = parser.parse_args()
    records = {path.name: read_record(path) for path in args.files if path.suffix == ".jsonl"}
    if len(records) == 1:
        print(summarize(next(iter(records.values()))))
    elif records:
        print(compare(records))
    for path in args.files:
        if path.suffix == ".json":
            run = json.loads(path.read_text())
            print(summarize_fuzz(run) if "targets" in run else summarize_twins(run))
            print()


if __name__ == "__main__":
    main()

"""``python -m tests.fuzz``: fuzz every target (or those named) with N inputs each.

    python -m tests.fuzz --inputs 1000000 --seed 1 --jobs 2 --json out.json
    python -m tests.fuzz --list
    python -m tests.fuzz --target 'consensus.*' --inputs 50000
    python -m tests.fuzz --target jsonrpc --seed 1 --batch 7 --trace   # replay one batch

Work is cut into batches of ``harness.BATCH`` inputs, run on ``--jobs`` processes; a
batch is reproducible from (seed, target, batch number). A process that dies (a native
crash) is reported with the batch to replay under ``--trace``. Exit status 1 if anything
but the project's errors came out of a decoder.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import sys
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from tests.fuzz.harness import BATCH, Report, Target, run_batch


def _targets(patterns: list[str]) -> list[Target]:
    from tests.fuzz.targets import all_targets

    everything = all_targets()
    if not patterns:
        return everything
    chosen = [t for t in everything if any(fnmatch.fnmatch(t.name, p) for p in patterns)]
    if not chosen:
        raise SystemExit(f"no target matches {patterns}; see --list")
    return chosen


def _work(name: str, seed: int, batch: int, count: int) -> Report:
    (target,) = [t for t in _targets([name]) if t.name == name]
    return run_batch(target, seed, batch, count)


def _batches(targets: list[Target], inputs: int) -> Iterator[tuple[str, int, int]]:
    """(target, batch, count), the targets interleaved so that each advances evenly."""
    counts = [(b, min(BATCH, inputs - b * BATCH)) for b in range((inputs + BATCH - 1) // BATCH)]
    for batch, count in counts:
        for target in targets:
            yield target.name, batch, count


def _summary(report: Report) -> str:
    refused = ", ".join(f"{name} {count}" for name, count in report.refused.most_common(3)) or "none"
    answers = ", ".join(f"{name} {count}" for name, count in report.answers.most_common(4))
    return (f"{report.target:34} {report.inputs:>9} inputs  {report.accepted:>8} accepted  refused: {refused}  "
            f"{report.finding_count} findings  {1e6 * report.seconds / max(1, report.inputs):.0f} us/input  "
            f"slowest {report.slowest_us / 1000:.1f} ms" + (f"\n{'':34} answers: {answers}" if answers else ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fuzz the decoders and the JSON-RPC handlers in-process.")
    parser.add_argument("--inputs", type=int, default=100_000, help="fuzzed inputs per target")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--target", action="append", default=[], help="glob of target names (repeatable)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (0: one per CPU)")
    parser.add_argument("--json", type=Path, default=None, help="write each target's report here")
    parser.add_argument("--list", action="store_true", help="list the targets and exit")
    parser.add_argument("--batch", type=int, default=None, help="run only this batch (with --trace to replay)")
    parser.add_argument("--trace", action="store_true", help="print each input (hex) to stderr before it runs")
    args = parser.parse_args(argv)
    targets = _targets(args.target)
    if args.list:
        for target in targets:
            print(f"{target.name:34} {target.about}")
        return 0
    if args.batch is not None:
        reports = {t.name: run_batch(t, args.seed, args.batch, BATCH, trace=args.trace) for t in targets}
        for report in reports.values():
            print(_summary(report))
        return 1 if any(r.finding_count for r in reports.values()) else 0
    jobs = args.jobs or os.cpu_count() or 1
    started, load_before = time.monotonic(), os.getloadavg()
    totals = {t.name: Report(t.name) for t in targets}
    died: list[str] = []
    reported = started
    work = iter(_batches(targets, args.inputs))
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        running: dict[Future[Report], tuple[str, int, int]] = {}
        while True:
            while len(running) < 2 * jobs and (item := next(work, None)) is not None:
                running[pool.submit(_work, item[0], args.seed, item[1], item[2])] = item
            if not running:
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                name, batch, _count = running.pop(future)
                try:
                    totals[name].merge(future.result())
                except BrokenProcessPool:
                    died.append(f"{name} batch {batch}: a worker process died; replay with "
                                f"python -m tests.fuzz --target {name} --seed {args.seed} --batch {batch} --trace")
                    raise
            if time.monotonic() - reported > 60:
                reported = time.monotonic()
                done_inputs = sum(r.inputs for r in totals.values())
                found = sum(r.finding_count for r in totals.values())
                print(f"{reported - started:7.0f}s  {done_inputs} of {args.inputs * len(targets)} inputs, "
                      f"{found} findings", flush=True)
    seconds = time.monotonic() - started
    for report in totals.values():
        print(_summary(report))
        for finding in report.findings.values():
            print(f"    {finding.kind}: {finding.detail} (x{finding.count}; batch {finding.batch} input {finding.index}: "
                  f"{finding.input_hex[:120]})")
    findings = sum(r.finding_count for r in totals.values())
    print(f"{len(targets)} targets, {sum(r.inputs for r in totals.values())} inputs, {findings} findings, {seconds:.0f}s")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({
            "command": "python -m tests.fuzz " + " ".join(sys.argv[1:] if argv is None else argv),
            "seed": args.seed, "inputs_per_target": args.inputs, "jobs": jobs, "seconds": round(seconds),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "findings": findings, "died": died,
            "targets": [r.to_json() for r in totals.values()],
        }, indent=2) + "\n")
    return 1 if findings or died else 0


if __name__ == "__main__":
    sys.exit(main())

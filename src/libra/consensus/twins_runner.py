"""Many Twins scenarios at once: a run cut into ranges, each range in its own process.

Scenario ``i`` of a run with seed ``s`` is the same whichever process runs it (its seed
is ``s * 1_000_003 + i``, see :func:`libra.consensus.twins.run_scenarios`), so ``--jobs``
changes how long a run takes, never what it checks. A failing scenario is printed with
its seed as soon as its range ends; rerun it alone with ``Simulation(generate_scenario(
random.Random(seed), seed)).run()``.

    python -m libra.consensus.twins --scenarios 100000 --seed 1 --jobs 2 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path

from libra.consensus.twins import Outcome, run_scenarios

RANGE_SIZE = 100  # scenarios per task: progress every ~10 s on a loaded core, little idle at the end


@dataclass(frozen=True, slots=True)
class RunSpec:
    """What generates the scenarios of a run (everything but the range)."""

    seed: int
    rounds: int = 8
    validators: int = 4
    twins: int = 1
    reputation: bool = False
    unsafe: bool = False


@dataclass(slots=True)
class Tally:
    """Totals over the scenarios of a run: what the nodes went through."""

    scenarios: int = 0
    failed: int = 0
    safety_violations: int = 0
    not_live: int = 0
    commits: int = 0
    events: int = 0
    fast_forwards: int = 0
    epoch_changes: int = 0
    restarts: int = 0
    failures: list[dict[str, object]] = field(default_factory=list)

    def add(self, outcomes: Sequence[Outcome], count: int) -> None:
        self.scenarios += count
        for outcome in outcomes:
            self.failed += 1
            self.safety_violations += outcome.safety_violation is not None
            self.not_live += outcome.safety_violation is None and not outcome.live
            self.failures.append({"seed": outcome.scenario.seed, "reason": failure_reason(outcome)})

    def merge(self, other: Tally) -> None:
        for name in ("scenarios", "failed", "safety_violations", "not_live", "commits", "events",
                     "fast_forwards", "epoch_changes", "restarts"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.failures.extend(other.failures)


def failure_reason(outcome: Outcome) -> str:
    return outcome.safety_violation or "no commits after the partitions healed"


def run_range(spec: RunSpec, start: int, count: int) -> Tally:
    """Scenarios ``start .. start + count - 1`` of the run (one task of a worker process)."""
    tally = Tally()

    def record(_: int, outcome: Outcome) -> None:
        tally.commits += outcome.commits
        tally.events += outcome.events
        tally.fast_forwards += outcome.fast_forwards
        tally.epoch_changes += outcome.epoch_changes
        tally.restarts += outcome.restarts

    failures = run_scenarios(
        count, spec.seed, unsafe=spec.unsafe, rounds=spec.rounds, validators=spec.validators,
        twins=spec.twins, reputation=spec.reputation, start=start, progress=record,
    )
    tally.add(failures, count)
    return tally


def ranges(count: int, size: int = RANGE_SIZE) -> Iterator[tuple[int, int]]:
    for start in range(0, count, size):
        yield start, min(size, count - start)


def run(spec: RunSpec, count: int, jobs: int = 1, on_range: Callable[[Tally, Tally], None] | None = None) -> Tally:
    """Run ``count`` scenarios on ``jobs`` processes (1: in this one); ``on_range(range, total)``
    after each range, in completion order."""
    total = Tally()

    def finished(part: Tally) -> None:
        total.merge(part)
        if on_range is not None:
            on_range(part, total)

    if jobs <= 1:
        for start, size in ranges(count):
            finished(run_range(spec, start, size))
        return total
    pending = iter(ranges(count))
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        running: set[Future[Tally]] = set()
        while True:
            while len(running) < 2 * jobs and (item := next(pending, None)) is not None:
                running.add(pool.submit(run_range, spec, *item))
            if not running:
                break
            done, running = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                finished(future.result())
    total.failures.sort(key=lambda failure: int(str(failure["seed"])))
    return total


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run generated Twins scenarios against the consensus core.")
    parser.add_argument("--scenarios", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=8, help="rounds with scripted leaders and partitions")
    parser.add_argument("--validators", type=int, default=4)
    parser.add_argument("--twins", type=int, default=1, help="validators 0..k-1 get a twin (keep k <= f)")
    parser.add_argument("--reputation", action="store_true", help="leader reputation after the scripted rounds")
    parser.add_argument("--unsafe", action="store_true", help="break a safety rule to see failures")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (0: one per CPU)")
    parser.add_argument("--json", type=Path, default=None, help="write the totals and every failure here")
    args = parser.parse_args(argv)
    jobs = args.jobs or os.cpu_count() or 1
    spec = RunSpec(args.seed, args.rounds, args.validators, args.twins, args.reputation, args.unsafe)
    started, load_before = time.monotonic(), os.getloadavg()
    printed = 0

    def on_range(part: Tally, total: Tally) -> None:
        nonlocal printed
        for failure in part.failures:
            print(f"scenario seed {failure['seed']}: FAILED: {failure['reason']}", flush=True)
        if total.scenarios - printed >= max(100, args.scenarios // 100) and total.scenarios < args.scenarios:
            printed = total.scenarios
            print(f"{total.scenarios} scenarios, {total.failed} failed, {time.monotonic() - started:.1f}s", flush=True)

    total = run(spec, args.scenarios, jobs, on_range)
    seconds = time.monotonic() - started
    print(f"{args.scenarios} scenarios, {total.failed} failed, {seconds:.1f}s")
    if args.json is not None:
        record = {
            "command": "python -m libra.consensus.twins " + " ".join(sys.argv[1:] if argv is None else argv),
            "spec": asdict(spec),
            "jobs": jobs,
            "seconds": round(seconds, 1),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            **asdict(total),
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(record, indent=2) + "\n")
    return 1 if total.failed else 0

"""The fuzz loop: any decoder callable, fed valid encodings and their mutants in-process.

A :class:`Target` names a decoder (``call``: bytes in, anything out), the valid
encodings its inputs start from (``seeds``), the exceptions that are the project's
answer to bad input (``allowed``, e.g. ``BcsError``) and an optional ``check`` of what
it accepted (e.g. that it re-encodes to the same bytes, or that the native decoder
answers what the Python one answers). A *finding* is any other exception (a crash: an
``IndexError``, a ``RecursionError``, a native panic surfacing as ``CoreError``…), a
failed check, or a seed the decoder refuses (a broken corpus would fuzz nothing).

Inputs are generated from ``random.Random(f"{seed}:{name}:{batch}")``, so a batch is
reproduced exactly (``python -m tests.fuzz --target NAME --seed S --batch K --trace``
prints each input before it runs: the last line names the input that killed a process).
"""

from __future__ import annotations

import random
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tests.fuzz.mutate import mutant

BATCH = 20_000  # inputs per batch: the unit of work of a process and of a replay
MAX_FINDINGS = 20  # distinct findings kept per target (each with its first input)

Check = Callable[[bytes, Any], str | None]
Generate = Callable[[random.Random, Sequence[bytes]], bytes]


@dataclass(frozen=True)
class Target:
    name: str
    call: Callable[[bytes], object]
    seeds: Callable[[], Sequence[bytes]]
    allowed: tuple[type[BaseException], ...]
    check: Check | None = None
    generate: Generate | None = None
    about: str = ""
    classify: Callable[[Any], str] | None = None  # names kinds of accepted answers, for the report


@dataclass
class Finding:
    kind: str  # "crash", "check" or "corpus"
    detail: str
    input_hex: str
    batch: int
    index: int
    count: int = 1


@dataclass
class Report:
    target: str
    inputs: int = 0
    accepted: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    answers: Counter[str] = field(default_factory=Counter)
    findings: dict[str, Finding] = field(default_factory=dict)
    seconds: float = 0.0
    slowest_us: float = 0.0
    slowest_input_hex: str = ""

    @property
    def finding_count(self) -> int:
        return sum(f.count for f in self.findings.values())

    def merge(self, other: Report) -> None:
        self.inputs += other.inputs
        self.accepted += other.accepted
        self.refused.update(other.refused)
        self.answers.update(other.answers)
        for key, finding in other.findings.items():
            if key in self.findings:
                self.findings[key].count += finding.count
            elif len(self.findings) < MAX_FINDINGS:
                self.findings[key] = finding
        self.seconds += other.seconds
        if other.slowest_us > self.slowest_us:
            self.slowest_us, self.slowest_input_hex = other.slowest_us, other.slowest_input_hex

    def to_json(self) -> dict[str, object]:
        return {
            "target": self.target,
            "inputs": self.inputs,
            "accepted": self.accepted,
            "refused": dict(sorted(self.refused.items())),
            "answers": dict(self.answers.most_common(20)),
            "findings": [vars(f) for f in self.findings.values()],
            "cpu_seconds": round(self.seconds, 1),
            "us_per_input": round(1e6 * self.seconds / max(1, self.inputs), 1),
            "slowest_us": round(self.slowest_us),
            "slowest_input_hex": self.slowest_input_hex[:8192],  # wall time: includes preemption on a busy machine
        }


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "?"
    frame = frames[-1]
    return f"{frame.filename.rsplit('/src/', 1)[-1]}:{frame.lineno}"


def _record(report: Report, kind: str, detail: str, key: str, data: bytes, batch: int, index: int) -> None:
    found = report.findings.get(key)
    if found is not None:
        found.count += 1
    elif len(report.findings) < MAX_FINDINGS:
        report.findings[key] = Finding(kind, detail, data.hex(), batch, index)


def run_one(target: Target, data: bytes, report: Report, batch: int, index: int) -> bool:
    """Feed one input; record the outcome. True if the decoder accepted it."""
    started = time.perf_counter()
    try:
        result = target.call(data)
    except target.allowed as exc:
        report.refused[type(exc).__name__] += 1
        accepted = False
    except Exception as exc:  # noqa: BLE001 - anything else is what the fuzzer is for
        where = _where(exc)
        _record(report, "crash", f"{type(exc).__name__}: {str(exc)[:300]} at {where}",
                f"crash:{type(exc).__name__}:{where}", data, batch, index)
        accepted = False
    else:
        accepted = True
        report.accepted += 1
        if target.classify is not None:
            report.answers[target.classify(result)] += 1
        if target.check is not None:
            try:
                problem = target.check(data, result)
            except Exception as exc:  # noqa: BLE001
                problem = f"the check raised {type(exc).__name__}: {str(exc)[:200]} at {_where(exc)}"
            if problem is not None:
                _record(report, "check", problem, f"check:{problem[:80]}", data, batch, index)
    elapsed = (time.perf_counter() - started) * 1e6
    if elapsed > report.slowest_us:
        report.slowest_us, report.slowest_input_hex = elapsed, data.hex()
    report.inputs += 1
    return accepted


def run_batch(target: Target, seed: int, batch: int, count: int = BATCH, trace: bool = False) -> Report:
    """Batch ``batch`` of ``target`` (``count`` inputs); batch 0 first runs every seed as is."""
    report = Report(target.name)
    seeds = target.seeds()
    started = time.process_time()
    if batch == 0:  # the seeds are checked (their findings kept), not counted as fuzzed inputs
        checked = Report(target.name)
        for index, data in enumerate(seeds):
            if not run_one(target, data, checked, batch, -1 - index):
                _record(checked, "corpus", "a valid seed was refused", f"corpus:{index}", data, batch, -1 - index)
        report.findings = checked.findings
    rng = random.Random(f"{seed}:{target.name}:{batch}")
    generate = target.generate or mutant
    for index in range(count):
        data = generate(rng, seeds)
        if trace:
            print(f"{batch}:{index} {data.hex()}", file=sys.stderr, flush=True)
        run_one(target, data, report, batch, index)
    report.seconds = time.process_time() - started
    return report

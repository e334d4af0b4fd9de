"""Twins: generated scenarios (equivocating twin, partitions, drops, delays, restarts,
epoch changes) keep honest nodes safe and live; a broken safety rule is caught."""

from __future__ import annotations

import json
import random

import pytest

from libra.consensus import twins_runner
from libra.consensus.twins import Scenario, Simulation, generate_scenario, main, run_scenarios

SCENARIOS_PER_CHUNK = 100


@pytest.mark.parametrize("chunk", range(3))
def test_generated_scenarios_are_safe_and_live(chunk: int) -> None:
    failures = run_scenarios(SCENARIOS_PER_CHUNK, seed=2026 + chunk)
    assert [(f.scenario.seed, f.safety_violation, f.live) for f in failures] == []


def test_seven_validators_with_two_twins() -> None:
    failures = run_scenarios(30, seed=7, validators=7, twins=2)
    assert [(f.scenario.seed, f.safety_violation, f.live) for f in failures] == []


def test_leader_reputation_after_the_scripted_rounds() -> None:
    failures = run_scenarios(50, seed=8, reputation=True)
    assert [(f.scenario.seed, f.safety_violation, f.live) for f in failures] == []


def test_generator_finds_the_broken_safety_rule() -> None:
    """With ``unsafe_skip_round_check`` on every node, an equivocating twin leader gets
    two conflicting blocks certified; the generator must find a conflicting commit."""
    found = None
    for index in range(600):
        seed = 77 * 1_000_003 + index
        scenario = generate_scenario(random.Random(seed), seed)
        outcome = Simulation(scenario, unsafe_slots=range(scenario.num_slots)).run()
        if outcome.safety_violation is not None:
            found = outcome
            break
    assert found is not None, "no safety violation found with a broken safety rule"
    assert "committed" in found.safety_violation  # type: ignore[operator]


def test_diem_twins_partition_commits_nothing_conflicting() -> None:
    """Diem's basic Twins test: partitions {n1, n3} / {n0, twin0, n2}; neither side has a
    quorum of distinct validators, so nothing commits until the network heals."""
    partitions = tuple((frozenset({1, 3}), frozenset({0, 4, 2})) for _ in range(6))
    simulation = Simulation(Scenario(4, (0,), (0, 1, 2, 3, 0, 1), partitions, seed=1))
    commits_before_heal: list[int] = []
    original = simulation._record_commit

    def record(slot: int, action: object) -> None:
        if simulation.now < simulation.heal_at:
            commits_before_heal.append(slot)
        original(slot, action)  # type: ignore[arg-type]

    simulation._record_commit = record  # type: ignore[method-assign]
    outcome = simulation.run()
    assert outcome.ok and commits_before_heal == []


def test_all_nodes_restarting_at_once_stay_safe_and_live() -> None:
    restarts = tuple((slot, 3) for slot in range(5))
    full = tuple((frozenset(range(5)),) for _ in range(8))
    outcome = Simulation(Scenario(4, (0,), (0, 1, 2, 3) * 2, full, seed=8, restarts=restarts)).run()
    assert outcome.ok and outcome.restarts == 5


def test_command_line_runs_scenarios(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--scenarios", "3", "--seed", "5"]) == 0
    assert "3 scenarios, 0 failed" in capsys.readouterr().out


def test_a_run_cut_into_processes_checks_the_same_scenarios() -> None:
    """``--jobs`` changes only the time a run takes: the broken rule's failures and the
    totals are those of one loop over the same scenarios."""
    sequential = run_scenarios(150, seed=77, unsafe=True)
    assert sequential, "the broken safety rule went unnoticed"
    parallel = twins_runner.run(twins_runner.RunSpec(77, unsafe=True), 150, jobs=2)
    in_process = twins_runner.run(twins_runner.RunSpec(77, unsafe=True), 150, jobs=1)
    assert [f["seed"] for f in parallel.failures] == [f.scenario.seed for f in sequential]
    assert parallel.scenarios == 150 and parallel.failed == len(sequential)
    assert (parallel.commits, parallel.events) == (in_process.commits, in_process.events)


def test_command_line_writes_the_totals(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--scenarios", "4", "--seed", "5", "--jobs", "2", "--json", str(tmp_path / "run.json")]) == 0
    record = json.loads((tmp_path / "run.json").read_text())
    assert record["scenarios"] == 4 and record["failed"] == 0 and record["commits"] > 0
    assert record["command"].endswith("--json " + str(tmp_path / "run.json"))

"""The fuzz harness: a short run of every target (the long one is ``make fuzz``), and proof
that it reports what it is for: crashes, non-canonical acceptance, disagreeing native
decoders, refused seeds, server errors."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys

import pytest
from tests.fuzz import corpus, targets
from tests.fuzz.harness import Target, run_batch

from libra import _core
from libra import native as libra_native
from libra.bcs import BcsError, Deserializer
from libra.types.transaction import SignedTransaction

SHORT = 1_500


@pytest.mark.parametrize("target", targets.all_targets(), ids=lambda t: t.name)
def test_every_target_answers_only_with_the_projects_errors(target: Target) -> None:
    report = run_batch(target, seed=2026, batch=0, count=SHORT)
    assert report.inputs == SHORT
    assert list(report.findings.values()) == []
    assert report.accepted > 0 and (report.refused or target.allowed == ())


def _lenient(data: bytes) -> SignedTransaction:
    """A decoder that forgets to refuse trailing bytes."""
    return SignedTransaction.deserialize(Deserializer(data))


def _crashing(data: bytes) -> SignedTransaction:
    if len(data) > 20 and data[20] == 0x7F:
        raise IndexError("a slice went past the end")
    return SignedTransaction.from_bcs(data)


def test_a_crash_is_reported_with_the_input_and_reproduced_from_its_batch() -> None:
    target = Target("broken", _crashing, corpus.signed_transactions, (BcsError,))
    report = run_batch(target, seed=3, batch=1, count=4_000)
    (finding,) = report.findings.values()
    assert finding.kind == "crash" and finding.detail.startswith("IndexError: a slice went past the end")
    assert bytes.fromhex(finding.input_hex)[20] == 0x7F
    again = run_batch(target, seed=3, batch=1, count=finding.index + 1)
    assert [f.input_hex for f in again.findings.values()] == [finding.input_hex]


def test_accepting_a_non_canonical_encoding_is_reported() -> None:
    target = Target("lenient", _lenient, corpus.signed_transactions, (BcsError,),
                    targets.re_encodes(SignedTransaction.to_bcs))
    report = run_batch(target, seed=4, batch=1, count=3_000)
    assert any("non-canonical encoding of SignedTransaction" in f.detail for f in report.findings.values())


def test_a_decoder_that_refuses_its_seeds_is_reported() -> None:
    def refuse(data: bytes) -> None:
        raise BcsError("no")

    report = run_batch(Target("refuses", refuse, corpus.signed_transactions, (BcsError,)), seed=1, batch=0, count=10)
    assert {f.kind for f in report.findings.values()} == {"corpus"}


@pytest.mark.parametrize("breakage", ["end", "decline", "panic"])
def test_a_broken_native_decoder_is_reported(breakage: str) -> None:
    """The native target's check holds libra._core to the Python decoder: an answer with a
    wrong end, a declined valid transaction, or a panic each come out as findings."""
    def broken(core: object, data: bytes) -> object:
        fields = _core.decode_common_transaction(data, 0)
        if fields is None:
            return None
        if breakage == "end":
            return (*fields[:-1], fields[-1] + 1)
        if breakage == "decline":
            return None
        _core._panic_for_tests("fuzzed")
        return fields

    entry = targets.NativeDecoder("decode_common_transaction", broken, corpus.signed_transactions,
                                  targets._common_transaction_agrees)
    target = Target("native.broken", lambda data: entry.call(_core, data), entry.seeds, entry.allowed, entry.agrees)
    report = run_batch(target, seed=5, batch=0, count=200)
    kinds = {f.kind for f in report.findings.values()}
    assert kinds == ({"crash", "corpus"} if breakage == "panic" else {"check"}), report.findings
    if breakage == "panic":
        assert any("CoreError" in f.detail for f in report.findings.values())


def test_every_native_decoder_is_registered() -> None:
    """A ``decode_*`` function added to libra._core must get its line in NATIVE_DECODERS."""
    native = {name for name, value in inspect.getmembers(_core, callable) if name.startswith("decode_")}
    assert native == {entry.name for entry in targets.NATIVE_DECODERS}
    fuzzed = {t.name for t in targets.native_targets()}
    assert fuzzed == ({f"native.{name}" for name in native} if libra_native.CORE is not None else set())


def test_a_server_error_of_a_json_rpc_handler_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    service = targets._json_rpc().service

    def broken(*args: object) -> object:
        raise KeyError("a handler bug")

    monkeypatch.setattr(service, "get_account", broken)
    (target,) = [t for t in targets.all_targets() if t.name == "jsonrpc"]
    report = run_batch(target, seed=6, batch=0, count=300)
    assert any(f.detail.startswith("server error: Server error: KeyError") for f in report.findings.values())


def test_command_line_runs_and_writes_the_reports(tmp_path) -> None:
    out = tmp_path / "fuzz.json"
    result = subprocess.run(
        [sys.executable, "-m", "tests.fuzz", "--inputs", "300", "--jobs", "2", "--target", "consensus.Vote*",
         "--target", "state_sync.Chunk*", "--json", str(out)],
        capture_output=True, text=True, timeout=240, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    record = json.loads(out.read_text())
    assert [t["target"] for t in record["targets"]] == ["consensus.VoteMsg", "state_sync.ChunkRequest",
                                                        "state_sync.ChunkResponse"]
    assert all(t["inputs"] == 300 and t["findings"] == [] for t in record["targets"])

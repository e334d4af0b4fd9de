"""``libra bench`` end to end on its own single-validator localnet (figures are not judged here:
timing belongs in bench/)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from libra.client.loadgen import RESULT_FIELDS


def test_bench_commits_payments_and_writes_its_figures(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    result = subprocess.run(
        [sys.executable, "-m", "libra.cli", "bench", "--accounts", "20", "--duration", "5", "--rate", "50",
         "--warmup", "1", "--drain", "10", "--json", str(out)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "committed payments/s" in result.stdout
    doc = json.loads(out.read_text())
    assert list(doc)[: len(RESULT_FIELDS)] == list(RESULT_FIELDS)
    assert doc["committed"] > 0
    assert doc["submitted"] >= doc["committed"]
    assert doc["validators"] == 1
    assert doc["lost"] == 0
    assert doc["p50_ms"] is not None and doc["p99_ms"] >= doc["p50_ms"]
    assert doc["verify_per_core"] > 0
    assert isinstance(doc["rejected"], dict)
    assert set(doc["cpu_s"]) == {"bench", "validator-0"}

"""Diem's wallet conformance runner (``dmw test``, 183 tests) against our localnet."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path


def test_dmw_conformance_suite_passes_in_full(localnet, tmp_path: Path):
    dmw = Path(sys.executable).with_name("dmw")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env["DMW_SELF_CHECK"] = "1"
    # Run outside the repository so that our own pytest settings do not apply to the suite.
    result = subprocess.run(
        [str(dmw), "test", "--include-offchain-v2", "-j", localnet.json_rpc, "-f", localnet.faucet,
         "-t", localnet.json_rpc.removesuffix("/v1")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900,
    )
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr[-2000:]
    assert re.search(r"\b183 passed\b", summary), summary
    assert "failed" not in summary and "error" not in summary.replace("errors", "error"), summary

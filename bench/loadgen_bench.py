"""``make bench`` section: ``libra bench`` on localnets of its own, short runs.

Run: ``.venv/bin/python -m bench.loadgen_bench [libra bench options]``. Without options it
runs two configurations at max offered load: one validator (200 senders, 20 s), then four
validators and a full node (1,000 senders, 30 s), each on its own localnet. With options, one
run with exactly those. The full-size reference runs and their results are in
``bench/results/`` (see README there for the commands).
"""

from __future__ import annotations

import subprocess
import sys

DEFAULT_RUNS = (
    ["--accounts", "200", "--rate", "max", "--duration", "20", "--warmup", "5", "--max-rate-hint", "3000"],
    ["--validators", "4", "--full-nodes", "1", "--accounts", "1000", "--rate", "max", "--duration", "30",
     "--warmup", "5", "--max-rate-hint", "1000", "--window", "8000"],
)


def main(argv: list[str] | None = None) -> int:
    runs = [list(argv)] if argv else [list(run) for run in DEFAULT_RUNS]
    status = 0
    for args in runs:
        print("libra bench " + " ".join(args), flush=True)
        status = status or subprocess.call([sys.executable, "-m", "libra.cli", "bench", *args])
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

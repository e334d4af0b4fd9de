"""``make bench`` section: ``libra bench`` on its own single-validator localnet, short.

Run: ``.venv/bin/python -m bench.loadgen_bench [libra bench options]`` (default: 200 senders,
``--rate max`` for 20 s). The full-size reference runs and their results are in
``bench/results/`` (see README there for the commands).
"""

from __future__ import annotations

import subprocess
import sys

DEFAULT_ARGS = ["--accounts", "200", "--rate", "max", "--duration", "20", "--warmup", "5", "--max-rate-hint", "3000"]


def main(argv: list[str] | None = None) -> int:
    args = list(argv) if argv else DEFAULT_ARGS
    return subprocess.call([sys.executable, "-m", "libra.cli", "bench", *args])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

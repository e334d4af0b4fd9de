"""``make bench``: run every benchmark section in turn and print its report.

Sections are modules of this package with a ``main(argv)`` function; each prints
its own figures. Timing lives here, never in ``make test``.
"""

from __future__ import annotations

import importlib
import sys
import time

SECTIONS = (
    "bench.execution_bench",
    "bench.storage_bench",
    "bench.node_path_bench",
    "bench.signature_bench",
    "bench.state_sync_bench",
    "bench.event_index_bench",
    "bench.ceiling_bench",
    "bench.loadgen_bench",
)


def main(argv: list[str]) -> int:
    wanted = [a for a in argv if not a.startswith("-")] or list(SECTIONS)
    for name in wanted:
        module = importlib.import_module(name if name.startswith("bench.") else f"bench.{name}")
        print(f"== {module.__name__}", flush=True)
        started = time.perf_counter()
        module.main([])
        print(f"== {module.__name__} done in {time.perf_counter() - started:.1f} s\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

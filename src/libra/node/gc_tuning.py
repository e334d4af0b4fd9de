"""How a node process runs CPython's cycle collector (the bench measures the node this way too)."""

from __future__ import annotations

import gc


def tune_garbage_collector() -> None:
    """Collect cycles less often than CPython's default.

    A node allocates and drops many small objects per payment (decoded transactions,
    resources, tree nodes), almost none of them in reference cycles. At the default gen-0
    threshold of 700 the cycle collector ran thousands of times a second and its full
    passes walked every long-lived object: 15 % of a node's CPU in ``bench.node_path_bench``
    (gc callbacks: 0.95 s against 0.08 s in the same run with these thresholds).
    Objects alive at start-up (modules, configuration) are frozen out of collections.
    """
    gc.freeze()
    gc.set_threshold(50_000, 20, 50)

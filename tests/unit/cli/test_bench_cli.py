"""Pure parts of ``libra bench``'s report."""

from __future__ import annotations

from libra.cli.bench import mempool_gauge

EXPOSITION = """# HELP libra_mempool_size_bytes Bytes
# TYPE libra_mempool_size_bytes gauge
libra_mempool_size_bytes 9000.0
# HELP libra_mempool_transactions Transactions waiting in mempool
# TYPE libra_mempool_transactions gauge
libra_mempool_transactions 26.0
"""


def test_the_mempool_gauge_is_read_from_the_metrics_text() -> None:
    assert mempool_gauge(EXPOSITION) == 26


def test_a_missing_or_garbled_gauge_reads_as_unknown() -> None:
    assert mempool_gauge(EXPOSITION.replace("libra_mempool_transactions", "other_gauge")) is None
    assert mempool_gauge("libra_mempool_transactions not-a-number\n") is None

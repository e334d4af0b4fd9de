"""Prometheus metrics of the API and the node-wide hooks it exposes at ``GET /metrics``.

Each :class:`ApiMetrics` owns its own ``CollectorRegistry`` (several apps in one
test process never collide). Names follow ``libra_<component>_<what>_<unit>``:

* ``libra_api_request_latency_seconds{method}`` histogram, one sample per JSON-RPC
  call (each batch item counts once);
* ``libra_api_requests_total{method,result}`` counter, ``result`` is ``ok`` or the
  error code (``-32602``…);
* ``libra_api_http_requests_total{kind}`` counter, ``kind`` is ``single``/``batch``/``invalid``.

Hooks the node updates (:class:`NodeMetrics`, at ``ApiMetrics.node``):

* ``libra_ledger_committed_version`` gauge;
* ``libra_ledger_transactions_per_second`` gauge;
* ``libra_mempool_transactions`` gauge (current size);
* ``libra_mempool_rejected_transactions_total{reason}`` counter.

Method labels are limited to known method names (anything else is ``unknown``) so a
client cannot blow up the label space.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

UNKNOWN_METHOD = "unknown"

#: Sub-millisecond reads up to multi-second submits.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class NodeMetrics:
    """Gauges and counters owned by the node, exposed through the API's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.committed_version = Gauge(
            "libra_ledger_committed_version", "Latest committed ledger version", registry=registry
        )
        self.tps = Gauge(
            "libra_ledger_transactions_per_second",
            "Committed transactions per second over the node's recent window",
            registry=registry,
        )
        self.mempool_size = Gauge(
            "libra_mempool_transactions", "Transactions waiting in mempool", registry=registry
        )
        self.rejected_transactions = Counter(
            "libra_mempool_rejected_transactions",
            "Transactions refused at submission, by reason",
            ["reason"],
            registry=registry,
        )

    def record_rejection(self, reason: str) -> None:
        """Count one refused transaction (reason: a status name such as SEQUENCE_NUMBER_TOO_OLD)."""
        self.rejected_transactions.labels(reason=reason).inc()


class ApiMetrics:
    """Request metrics of one API app plus the node hooks, in one private registry."""

    def __init__(self, methods: Collection[str] = (), registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        self._methods = frozenset(methods)
        self.request_latency = Histogram(
            "libra_api_request_latency_seconds",
            "JSON-RPC call latency by method",
            ["method"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.requests = Counter(
            "libra_api_requests",
            "JSON-RPC calls by method and result (ok or error code)",
            ["method", "result"],
            registry=self.registry,
        )
        self.http_requests = Counter(
            "libra_api_http_requests",
            "HTTP requests to the JSON-RPC endpoint by kind (single, batch, invalid)",
            ["kind"],
            registry=self.registry,
        )
        self.node = NodeMetrics(self.registry)
        # labelled children, looked up once per label set (``labels()`` costs microseconds a call)
        self._latency_children: dict[str, Any] = {}
        self._request_children: dict[tuple[str, int | None], Any] = {}
        self._http_children: dict[str, Any] = {}

    def method_label(self, method: object) -> str:
        """The method name if we serve it, else ``unknown``."""
        if isinstance(method, str) and method in self._methods:
            return method
        return UNKNOWN_METHOD

    def observe_call(self, method: object, error_code: int | None, seconds: float) -> None:
        """Record one JSON-RPC call: its latency and its result."""
        label = self.method_label(method)
        latency = self._latency_children.get(label)
        if latency is None:
            latency = self._latency_children[label] = self.request_latency.labels(method=label)
        latency.observe(seconds)
        key = (label, error_code)
        counter = self._request_children.get(key)
        if counter is None:  # labels are bounded: known methods (or unknown) times error codes
            result = "ok" if error_code is None else str(error_code)
            counter = self._request_children[key] = self.requests.labels(method=label, result=result)
        counter.inc()

    def observe_http(self, kind: str) -> None:
        """Record one HTTP request to the JSON-RPC endpoint."""
        counter = self._http_children.get(kind)
        if counter is None:
            counter = self._http_children[kind] = self.http_requests.labels(kind=kind)
        counter.inc()

    def exposition(self) -> tuple[bytes, str]:
        """The Prometheus text format of the registry and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

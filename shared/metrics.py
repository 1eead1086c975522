"""Prometheus metrics that stay correct under gunicorn's several worker processes.

When PROMETHEUS_MULTIPROC_DIR is set (run_all_services.sh sets one directory per
service and empties it at start) every worker writes its samples there and
/metrics aggregates them; otherwise the process's own registry is exposed.
Metrics are created on first use, never at import time, and only once per process.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as prom_multiprocess

_lock = threading.Lock()
_created: dict[str, Any] = {}
LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _get_or_create(
    kind: type, name: str, documentation: str, labels: tuple[str, ...], **kw: Any
) -> Any:
    with _lock:
        if name not in _created:
            _created[name] = kind(name, documentation, labels, **kw)
        return _created[name]


def counter(name: str, documentation: str, labels: tuple[str, ...] = ()) -> Counter:
    return _get_or_create(Counter, name, documentation, labels)


def histogram(
    name: str,
    documentation: str,
    labels: tuple[str, ...] = (),
    buckets: tuple[float, ...] = LATENCY_BUCKETS_S,
) -> Histogram:
    return _get_or_create(Histogram, name, documentation, labels, buckets=buckets)


def gauge(
    name: str, documentation: str, labels: tuple[str, ...] = (), mode: str = "livemax"
) -> Gauge:
    """`mode` says how worker values combine in multiprocess mode (livemax, livesum, ...)."""
    return _get_or_create(Gauge, name, documentation, labels, multiprocess_mode=mode)


@dataclass
class HttpMetrics:
    requests: Counter
    latency: Histogram

    def observe(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(endpoint, method, str(status)).inc()
        self.latency.labels(endpoint, method).observe(seconds)


def http_metrics(service: str) -> HttpMetrics:
    prefix = service.replace("-", "_")
    return HttpMetrics(
        requests=counter(
            f"{prefix}_http_requests_total",
            "HTTP requests by endpoint, method and status",
            ("endpoint", "method", "status"),
        ),
        latency=histogram(
            f"{prefix}_http_request_seconds", "HTTP request latency", ("endpoint", "method")
        ),
    )


def exposition() -> tuple[bytes, str]:
    """The text format of every metric of this service (all workers in multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        prom_multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def mark_worker_dead(pid: int) -> None:
    """gunicorn child_exit hook: drop a dead worker's live gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        prom_multiprocess.mark_process_dead(pid)

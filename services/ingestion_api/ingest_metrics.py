"""Prometheus metrics of the Ingestion API beyond the shared per-request ones.

Created on first use (never at import) through shared.metrics, so they are
aggregated across gunicorn workers when PROMETHEUS_MULTIPROC_DIR is set.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import Counter, Histogram

from shared import metrics


@dataclass(frozen=True)
class IngestionMetrics:
    rows: Counter  # labels: source (batch, csv, stream), outcome (accepted, rejected)
    stream_group_size: Histogram
    feedback_labels: Counter  # labels: outcome (matched, unknown, rejected)

    def count_rows(self, source: str, accepted: int, rejected: int) -> None:
        if accepted:
            self.rows.labels(source, "accepted").inc(accepted)
        if rejected:
            self.rows.labels(source, "rejected").inc(rejected)


def ingestion_metrics() -> IngestionMetrics:
    return IngestionMetrics(
        rows=metrics.counter(
            "ingestion_rows_total",
            "Records received by the Ingestion API, by source and outcome",
            ("source", "outcome"),
        ),
        stream_group_size=metrics.histogram(
            "ingestion_stream_commit_rows",
            "Stream records committed together in one transaction (group commit)",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
        ),
        feedback_labels=metrics.counter(
            "ingestion_feedback_labels_total",
            "Labels received on /feedback, by outcome",
            ("outcome",),
        ),
    )

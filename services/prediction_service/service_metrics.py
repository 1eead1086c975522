"""Prometheus metrics of the prediction service (multiprocess-safe through shared.metrics)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import Counter, Gauge, Histogram

from shared import metrics

ROW_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1_000, 10_000, 100_000)


@dataclass
class ServiceMetrics:
    latency: Histogram
    predictions: Counter
    model_in_service: Gauge
    reloads: Counter
    reload_failures: Counter
    microbatch_rows: Histogram
    commit_rows: Histogram
    unseen_categories: Counter
    shadow: Counter

    def observe_request(self, endpoint: str, version: str, seconds: float) -> None:
        self.latency.labels(endpoint, version).observe(seconds)

    def count_predictions(self, version: str, class_counts: dict[str, int]) -> None:
        for label, n in class_counts.items():
            self.predictions.labels(version, label).inc(n)

    def serving(self, alias: str, name: str, version: str, active: bool) -> None:
        """1 while this process serves `version` under `alias`; summed over workers."""
        self.model_in_service.labels(alias, name, version).set(1 if active else 0)


def service_metrics() -> ServiceMetrics:
    """The service's metrics, created once per process."""
    p = "prediction_service"
    return ServiceMetrics(
        latency=metrics.histogram(
            f"{p}_request_seconds",
            "Scoring request latency by endpoint and model version",
            ("endpoint", "model_version"),
        ),
        predictions=metrics.counter(
            f"{p}_predictions_total",
            "Predictions by model version and class",
            ("model_version", "label"),
        ),
        model_in_service=metrics.gauge(
            f"{p}_model_in_service",
            "Worker processes serving a model version under an alias",
            ("alias", "model_name", "model_version"),
            mode="livesum",
        ),
        reloads=metrics.counter(
            f"{p}_model_reloads_total", "Model versions loaded and swapped in", ("alias",)
        ),
        reload_failures=metrics.counter(
            f"{p}_model_reload_failures_total", "Model loads that failed", ("alias",)
        ),
        microbatch_rows=metrics.histogram(
            f"{p}_microbatch_rows", "Rows per predict_proba call", buckets=ROW_BUCKETS
        ),
        commit_rows=metrics.histogram(
            f"{p}_log_commit_rows", "Prediction rows per group commit", buckets=ROW_BUCKETS
        ),
        unseen_categories=metrics.counter(
            f"{p}_unseen_categories_total", "Scored values never seen in training", ("feature",)
        ),
        shadow=metrics.counter(
            f"{p}_shadow_predictions_total",
            "Challenger (shadow) predictions by outcome",
            ("outcome",),
        ),
    )

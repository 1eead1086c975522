"""Turn per-bucket query rows into chart series and headline numbers.

Pure functions of small inputs (one row per time bucket and version or class):
the work on big tables happened in SQL already.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from dashboards.figures.base import Series
from dashboards.queries.labels import AccuracyRow
from dashboards.queries.predictions import ClassRow, LatencyRow, TrafficRow
from dashboards.time_range import Window
from shared.rollup import merge_counts, percentile_from_buckets


def _version_order(version: str) -> tuple[bool, int, str]:
    return (not version.isdigit(), int(version) if version.isdigit() else 0, version)


def rate_by_version(rows: list[TrafficRow], window: Window) -> list[Series]:
    """Predictions per minute per version, zero-filled so stacked areas line up."""
    epochs = sorted({row.epoch for row in rows})
    counts: dict[str, dict[int, int]] = defaultdict(dict)
    for row in rows:
        counts[row.version][row.epoch] = row.n
    times = [window.bucket_start(e) for e in epochs]
    return [
        Series(
            version,
            times,
            [counts[version].get(e, 0) / window.covered_minutes(e) for e in epochs],
            [counts[version].get(e, 0) for e in epochs],
        )
        for version in sorted(counts, key=_version_order)
    ]


def _pooled(pairs: Iterable[tuple[int, float, int]]) -> dict[int, list[float]]:
    """Sum (numerator, denominator) per bucket epoch, all versions together."""
    pooled: dict[int, list[float]] = defaultdict(lambda: [0.0, 0])
    for epoch, numerator, denominator in pairs:
        pooled[epoch][0] += numerator
        pooled[epoch][1] += denominator
    return pooled


def _ratio_series(name: str, pooled: dict[int, list[float]], window: Window) -> Series:
    epochs = sorted(e for e, (_, n) in pooled.items() if n)
    return Series(
        name,
        [window.bucket_start(e) for e in epochs],
        [pooled[e][0] / pooled[e][1] for e in epochs],
        [int(pooled[e][1]) for e in epochs],
    )


def mean_latency(rows: list[TrafficRow], window: Window) -> Series:
    return _ratio_series("mean", _pooled((r.epoch, r.latency_sum_ms, r.n) for r in rows), window)


def latency_percentile(rows: list[LatencyRow], q: float, window: Window) -> Series:
    kept = sorted((row for row in rows if sum(row.counts)), key=lambda row: row.epoch)
    return Series(
        f"p{q:g}",
        [window.bucket_start(row.epoch) for row in kept],
        [percentile_from_buckets(row.counts, q) for row in kept],
    )


def overall_percentile(rows: list[LatencyRow], q: float) -> float | None:
    """Percentile over the whole window (histogram counts summed first)."""
    if not rows:
        return None
    total = list(rows[0].counts)
    for row in rows[1:]:
        total = merge_counts(total, row.counts)
    return percentile_from_buckets(total, q)


def class_shares(rows: list[ClassRow], window: Window) -> list[Series]:
    """One series per predicted class (in name order, so colours stay put), counts per bucket."""
    counts = {(row.epoch, row.label): row.n for row in rows}
    epochs = sorted({row.epoch for row in rows})
    times = [window.bucket_start(e) for e in epochs]
    series = []
    for label in sorted({row.label for row in rows}):
        values = [counts.get((e, label), 0) for e in epochs]
        series.append(Series(label, times, values, values))
    return series


def accuracy_by_version(rows: list[AccuracyRow], window: Window) -> list[Series]:
    by_version: dict[str, list[AccuracyRow]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: r.epoch):
        by_version[row.version].append(row)
    return [
        Series(
            version,
            [window.bucket_start(r.epoch) for r in picked],
            [r.n_correct / r.n_labelled for r in picked],
            [r.n_labelled for r in picked],
        )
        for version, picked in sorted(by_version.items(), key=lambda kv: _version_order(kv[0]))
    ]


def shadow_accuracy(rows: list[AccuracyRow], window: Window, challenger: str) -> Series:
    """The challenger's accuracy on the labelled rows it shadowed, all versions pooled."""
    pairs = ((r.epoch, r.n_shadow_correct, r.n_shadow) for r in rows)
    return _ratio_series(challenger, _pooled(pairs), window)


def shadow_agreement(rows: list[TrafficRow], window: Window, challenger: str) -> Series:
    pairs = ((r.epoch, r.shadow_agree, r.shadow_n) for r in rows)
    return _ratio_series(challenger, _pooled(pairs), window)


def ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None

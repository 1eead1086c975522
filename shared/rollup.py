"""Per-minute prediction rollups: the latency histogram layout shared by the
prediction service (writer) and the dashboard (reader) of `prediction_minutes`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

# Upper bounds (ms) of the latency buckets; the last bucket is everything above.
LATENCY_BUCKETS_MS: tuple[float, ...] = (
    1,
    2,
    3,
    5,
    7.5,
    10,
    15,
    20,
    30,
    50,
    75,
    100,
    150,
    250,
    500,
    1000,
    2500,
    5000,
)


def latency_bucket_counts(latencies_ms: Iterable[float]) -> list[int]:
    """Counts per bucket (len(LATENCY_BUCKETS_MS) + 1 entries)."""
    values = np.fromiter(latencies_ms, dtype=float)
    positions = np.searchsorted(LATENCY_BUCKETS_MS, values, side="left")
    return np.bincount(positions, minlength=len(LATENCY_BUCKETS_MS) + 1).tolist()


def merge_counts(a: Sequence[int], b: Sequence[int]) -> list[int]:
    return [int(x) + int(y) for x, y in zip(a, b, strict=True)]


def percentile_from_buckets(counts: Sequence[int], q: float) -> float | None:
    """Approximate q-th percentile (0..100), interpolating linearly inside the bucket."""
    total = sum(counts)
    if total == 0:
        return None
    rank = q / 100 * total
    bounds = (0.0, *LATENCY_BUCKETS_MS, LATENCY_BUCKETS_MS[-1] * 2)
    seen = 0
    for i, count in enumerate(counts):
        if count and seen + count >= rank:
            low, high = bounds[i], bounds[i + 1]
            return low + (high - low) * (rank - seen) / count
        seen += count
    return float(bounds[-1])

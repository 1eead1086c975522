from shared.rollup import (
    LATENCY_BUCKETS_MS,
    latency_bucket_counts,
    merge_counts,
    percentile_from_buckets,
)


def test_bucket_counts_and_percentiles() -> None:
    counts = latency_bucket_counts([0.5, 1.5, 4.0, 4.5, 12.0, 9999.0])
    assert len(counts) == len(LATENCY_BUCKETS_MS) + 1 and sum(counts) == 6
    assert counts[0] == 1 and counts[-1] == 1
    p50 = percentile_from_buckets(counts, 50)
    assert p50 is not None and 3 <= p50 <= 5
    assert percentile_from_buckets([0] * len(counts), 95) is None
    assert merge_counts(counts, counts) == [2 * c for c in counts]

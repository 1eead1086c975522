"""Pure parts of the dashboard: time windows, the closed-bucket memo, readings of
stored documents, and figures built from odd reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from dashboards.closed_buckets import ClosedBuckets
from dashboards.describe import gate_summary, primary_metric, promoted
from dashboards.figures.drift import distribution_figure
from dashboards.queries.predictions import LatencyRow
from dashboards.series import overall_percentile
from dashboards.time_range import resolve_window

NOW = datetime(2030, 1, 1, 12, 7, 42, tzinfo=UTC)


class Row(NamedTuple):
    epoch: int
    value: int


def test_windows_start_on_a_bucket_boundary() -> None:
    hour, week = resolve_window("1h", NOW), resolve_window("7d", NOW)
    assert hour.start == datetime(2030, 1, 1, 11, 7, tzinfo=UTC) and hour.end == NOW
    assert week.start.timestamp() % week.bucket_seconds == 0
    assert NOW - week.start - timedelta(days=7) < timedelta(seconds=week.bucket_seconds)
    assert resolve_window("bogus", NOW) == hour  # unknown keys fall back to the default


def test_closed_buckets_are_read_once_and_the_open_one_every_time() -> None:
    calls: list[tuple[datetime, datetime]] = []

    def fetch(start: datetime, end: datetime) -> list[Row]:
        calls.append((start, end))
        first = int(start.timestamp()) // 60 * 60
        return [Row(epoch, 1) for epoch in range(first, int(end.timestamp()), 60)]

    memo = ClosedBuckets(grace_seconds=120)
    window = resolve_window("1h", NOW)
    rows = memo.rows("q", "m", window.start, window.end, 60, NOW, fetch)
    assert [r.epoch for r in rows] == list(
        range(int(window.start.timestamp()), int(NOW.timestamp()), 60)
    )
    assert len(calls) == 2  # the final buckets, then the open tail
    later = NOW + timedelta(minutes=3)
    again = memo.rows("q", "m", window.start, later, 60, later, fetch)
    assert len(again) == len(rows) + 3
    closed_before = int(NOW.timestamp()) // 60 * 60 - 120
    assert calls[2][0] == datetime.fromtimestamp(closed_before, UTC)  # only the new ones
    memo.clear()
    memo.rows("q", "m", window.start, window.end, 60, NOW, fetch)
    assert calls[-2][0] == window.start  # after clear: read from the start again


def test_gate_summary_reads_the_workers_decision_and_older_shapes() -> None:
    decision = {
        "outcome": "promote",
        "passed": True,
        "primary_metric": "roc_auc",
        "candidate": {"roc_auc": 0.91},
        "champion": {"roc_auc": 0.88},
        "reason": "roc_auc 0.9100 vs champion 0.8800 (+0.0300) on 400 rows",
    }
    assert gate_summary(decision).startswith("promoted · roc_auc 0.9100")
    assert promoted(decision) is True
    assert promoted({"outcome": "challenger"}) is False and promoted({}) is None
    bare = {"metric": "f1", "candidate_score": 0.7, "champion_score": 0.75, "promoted": False}
    assert gate_summary(bare) == "kept as challenger · f1 0.700 vs champion 0.750"
    assert len(gate_summary({"x": "y" * 500})) <= 160


def test_primary_metric_prefers_the_configured_then_the_usual() -> None:
    assert primary_metric("f1_macro", ["accuracy", "f1_macro"]) == "f1_macro"
    assert primary_metric(None, ["accuracy", "holdout.roc_auc"]) == "holdout.roc_auc"
    assert primary_metric(None, ["custom"]) == "custom"
    assert primary_metric(None, []) is None


def test_distribution_figure_numeric_categorical_and_malformed() -> None:
    numeric = distribution_figure(
        "age", {"bins": [0, 1, 2, 3], "reference": [1, 2, 1], "current": [0, 0, 4]}, drifted=True
    )
    assert [t["name"] for t in numeric["data"]] == ["reference", "current"]
    assert numeric["data"][1]["y"] == [0.0, 0.0, 1.0]
    assert numeric["data"][0]["customdata"][0][0] == "< 1"  # the open-ended tail bins
    categorical = distribution_figure(
        "smoker", {"categories": ["yes", "no"], "reference": [1, 1], "current": [3, 1]}, False
    )
    assert categorical["layout"]["barmode"] == "group"
    broken = distribution_figure("x", {"bins": [0, 1], "reference": [1, 2], "current": []}, False)
    assert broken["data"] == [] and "no distribution" in broken["layout"]["annotations"][0]["text"]


def test_overall_percentile_pools_buckets() -> None:
    counts = [0] * 19
    counts[2] = 10
    assert overall_percentile([], 50) is None
    assert 2 < (overall_percentile([LatencyRow(0, counts), LatencyRow(60, counts)], 50) or 0) <= 3

"""The dashboard's SQL on both backends: rows written by hand through the table
contract, sums checked by hand (test ids say sqlite or postgresql)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert
from sqlalchemy.engine import Engine

from dashboards.queries import data, drift, jobs, labels, models, predictions, status
from dashboards.time_range import resolve_window
from shared.database import (
    datasets,
    drift_events,
    ingestion_batches,
    model_registry,
    prediction_minutes,
    training_jobs,
    write_transaction,
)
from shared.database import predictions as predictions_table
from shared.rollup import LATENCY_BUCKETS_MS

NOW = datetime(2030, 1, 1, 12, 0, 30, tzinfo=UTC)
MODEL = "lungs"
SLOTS = len(LATENCY_BUCKETS_MS) + 1


def at(hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2030, 1, 1, hour, minute, second, tzinfo=UTC)


def histogram(**counts: int) -> list[int]:
    values = [0] * SLOTS
    for key, count in counts.items():
        values[int(key[1:])] = count
    return values


def minute_row(
    minute: datetime,
    version: str,
    n: int,
    buckets: list[int],
    classes: dict,
    shadow: tuple[int, int] = (0, 0),
    model: str = MODEL,
) -> dict:
    return {
        "model_name": model,
        "model_version": version,
        "minute": minute,
        "n": n,
        "latency_sum_ms": 4.0 * n,
        "latency_buckets": buckets,
        "class_counts": classes,
        "shadow_n": shadow[0],
        "shadow_agree": shadow[1],
    }


def prediction(
    version: str,
    predicted: str,
    label: str | None,
    label_at: datetime | None,
    shadow: str | None = None,
    model: str = MODEL,
) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "created_at": at(11, 0),
        "model_name": model,
        "model_version": version,
        "features": {"x": 1},
        "prediction": predicted,
        "probabilities": {predicted: 0.9},
        "latency_ms": 3.0,
        "shadow_version": "3" if shadow else None,
        "shadow_prediction": shadow,
        "label": label,
        "label_at": label_at,
    }


@pytest.fixture
def rollup(engine: Engine) -> Engine:
    with write_transaction(engine) as conn:
        conn.execute(
            insert(prediction_minutes),
            [
                minute_row(at(11, 0), "1", 3, histogram(b2=2, b5=1), {"Yes": 2, "No": 1}),
                minute_row(at(11, 1), "1", 2, histogram(b2=1, b18=1), {"Yes": 2}),
                minute_row(at(11, 5), "2", 5, histogram(b3=5), {"No": 5}, shadow=(4, 3)),
                minute_row(at(11, 30), "2", 1, histogram(b0=1), {"Yes": 1}, model="other"),
                minute_row(at(10, 59), "1", 7, histogram(b1=7), {"Yes": 7}),  # before the 1h window
            ],
        )
    return engine


def test_traffic_sums_minutes_into_buckets_per_version(rollup: Engine) -> None:
    hour, six_hours = resolve_window("1h", NOW), resolve_window("6h", NOW)
    with rollup.connect() as conn:
        per_minute = predictions.traffic(conn, MODEL, hour.start, hour.end, hour.bucket_seconds)
        per_5min = predictions.traffic(conn, MODEL, six_hours.start, six_hours.end, 300)
    assert hour.start == at(11, 0)
    assert {(r.epoch, r.version, r.n) for r in per_minute} == {
        (int(at(11, 0).timestamp()), "1", 3),
        (int(at(11, 1).timestamp()), "1", 2),
        (int(at(11, 5).timestamp()), "2", 5),
    }
    by_key = {(r.epoch, r.version): r for r in per_5min}
    assert by_key[(int(at(11, 0).timestamp()), "1")].n == 5
    assert by_key[(int(at(10, 55).timestamp()), "1")].n == 7
    five_past = by_key[(int(at(11, 5).timestamp()), "2")]  # a minute on the boundary opens a bucket
    assert (five_past.n, five_past.latency_sum_ms, five_past.shadow_n, five_past.shadow_agree) == (
        5,
        20.0,
        4,
        3,
    )


def test_latency_histograms_and_class_mix_are_summed_in_sql(rollup: Engine) -> None:
    window = resolve_window("6h", NOW)
    with rollup.connect() as conn:
        latency = predictions.latency_histograms(conn, MODEL, window.start, window.end, 300)
        classes = predictions.class_mix(conn, MODEL, window.start, window.end, 300)
        total = predictions.predictions_between(conn, MODEL, at(11, 0), NOW)
    eleven = int(at(11, 0).timestamp())
    assert {r.epoch: r.counts for r in latency}[eleven] == histogram(b2=3, b5=1, b18=1)
    mix = {(r.epoch, r.label): r.n for r in classes}
    assert mix[(eleven, "Yes")] == 4 and mix[(eleven, "No")] == 1
    assert mix[(int(at(11, 5).timestamp()), "No")] == 5
    assert total == 10  # the other model and the minute before are not counted


def test_label_outcomes_count_right_wrong_and_shadow_by_arrival(engine: Engine) -> None:
    with write_transaction(engine) as conn:
        conn.execute(
            insert(predictions_table),
            [
                prediction("1", "Yes", "Yes", at(11, 10, 5), shadow="Yes"),
                prediction("1", "Yes", "No", at(11, 10, 50), shadow="No"),
                prediction("1", "No", "No", at(11, 12)),
                prediction("2", "No", "Yes", at(11, 40)),
                prediction("2", "No", None, None),  # never labelled
                prediction("1", "Yes", "Yes", at(11, 10), model="other"),
            ],
        )
    window = resolve_window("1h", NOW)
    with engine.connect() as conn:
        rows = labels.label_outcomes(conn, MODEL, window.start, window.end, 900)
    outcomes = {(r.epoch, r.version): r[2:] for r in rows}
    # labelled, correct, shadowed, shadow correct, champion correct on shadowed rows
    assert outcomes[(int(at(11, 0).timestamp()), "1")] == (3, 2, 2, 2, 1)
    assert outcomes[(int(at(11, 30).timestamp()), "2")] == (1, 0, 0, 0, 0)
    assert sum(r.n_labelled for r in rows) == 4  # the unlabelled row is not counted


def test_drift_events_window_order_and_defensive_parsing(engine: Engine) -> None:
    base = {
        "model_name": MODEL,
        "model_version": "1",
        "n_current": 500,
        "action": "none",
        "report": {},
    }
    with write_transaction(engine) as conn:
        conn.execute(
            insert(drift_events),
            [
                base
                | {
                    "created_at": at(11, 20),
                    "dataset_drift": True,
                    "reason": "2 drifted",
                    "drifted_features": ["a", "b"],
                    "feature_scores": {"a": 0.4, "b": None},
                    "report": {"features": {"a": {"histogram": {}}}},
                    "action": "retrain",
                },
                base
                | {
                    "created_at": at(11, 10),
                    "dataset_drift": None,
                    "reason": None,
                    "drifted_features": [],
                    "feature_scores": {},
                },
                base
                | {
                    "created_at": at(9, 0),
                    "dataset_drift": False,
                    "reason": "old",
                    "drifted_features": [],
                    "feature_scores": {"a": 0.01},
                },
            ],
        )
    with engine.connect() as conn:
        hour = resolve_window("1h", NOW)
        shown = drift.events(conn, MODEL, hour.start, hour.end)
        counts = drift.event_counts(conn, MODEL, hour.start, hour.end)
        latest = drift.latest_event(conn, MODEL)
        found = drift.event_with_report(conn, shown[-1].id)
        missing = drift.event_with_report(conn, 10**9)
    assert [e.created_at for e in shown] == [at(11, 10), at(11, 20)]  # oldest first, in window
    assert shown[0].reason == "" and shown[0].dataset_drift is None
    assert latest is not None and latest.feature_scores == {"a": 0.4}  # null scores dropped
    assert found is not None and found[1] == {"features": {"a": {"histogram": {}}}}
    assert missing is None
    assert counts == (2, 1, 0)  # checks, drifted, retrains (no job id yet)


def test_long_ranges_thin_the_heatmap_but_keep_every_retrain(engine: Engine) -> None:
    rows = [
        {
            "model_name": MODEL,
            "model_version": "1",
            "n_current": 500,
            "report": {},
            "created_at": at(11, 0) + timedelta(seconds=30 * i),
            "dataset_drift": i % 2 == 0,
            "reason": "",
            "drifted_features": [],
            "feature_scores": {"a": i / 100},
            "action": "retrain" if i == 7 else "none",
            "job_id": "job-7" if i == 7 else None,
        }
        for i in range(60)
    ]
    with write_transaction(engine) as conn:
        conn.execute(insert(drift_events), rows)
    hour = resolve_window("1h", NOW)
    with engine.connect() as conn:
        thinned = drift.events(conn, MODEL, hour.start, hour.end, limit=10)
        counts = drift.event_counts(conn, MODEL, hour.start, hour.end)
    assert counts == (60, 30, 1)
    assert 8 <= len(thinned) <= 11 and "job-7" in [e.job_id for e in thinned]
    assert [e.created_at for e in thinned] == sorted(e.created_at for e in thinned)


def test_registry_champion_challenger_and_metrics(engine: Engine) -> None:
    def version(v: str, aliases: list[str], metrics: dict) -> dict:
        return {
            "model_name": MODEL,
            "version": v,
            "run_id": f"run{v}",
            "experiment_id": "7",
            "metrics": metrics,
            "aliases": aliases,
            "created_at": at(10, int(v)),
        }

    with write_transaction(engine) as conn:
        conn.execute(
            insert(model_registry),
            [
                version("10", ["challenger"], {"roc_auc": 0.9, "cv": {"roc_auc": 0.88}}),
                version("2", ["champion"], {"roc_auc": 0.8, "note": "text", "ok": True}),
                version("1", [], {}),
            ],
        )
    with engine.connect() as conn:
        reg = models.registry(conn, MODEL)
    assert [v.version for v in reg.versions] == ["1", "2", "10"]  # numeric order
    assert reg.champion and reg.champion.version == "2"
    assert reg.champion.metrics == {"roc_auc": 0.8}  # text and booleans are not metrics
    assert reg.challenger and reg.challenger.metrics == {"roc_auc": 0.9, "cv.roc_auc": 0.88}


def test_jobs_counts_latest_and_pending(engine: Engine) -> None:
    def job(status_: str, minute: int) -> dict:
        return {
            "id": str(uuid.uuid4()),
            "model_name": MODEL,
            "reason": "drift",
            "status": status_,
            "attempts": 1,
            "max_attempts": 3,
            "created_at": at(11, minute),
            "gate_decision": {"outcome": "promote"},
        }

    with write_transaction(engine) as conn:
        conn.execute(
            insert(training_jobs),
            [job("succeeded", 5), job("failed", 10), job("running", 20), job("succeeded", 30)],
        )
    with engine.connect() as conn:
        counts = jobs.status_counts(conn, MODEL, resolve_window("1h", NOW))
        latest, pending = jobs.latest_job(conn, MODEL), jobs.pending_jobs(conn, MODEL)
    assert counts == {"succeeded": 2, "failed": 1, "running": 1}
    assert latest is not None and latest.created_at == at(11, 30)
    assert latest.gate_decision == {"outcome": "promote"}
    assert pending == 1


def test_batches_per_bucket_for_the_active_dataset(engine: Engine) -> None:
    with write_transaction(engine) as conn:
        ids = [
            conn.execute(
                insert(datasets).returning(datasets.c.id),
                {
                    "name": name,
                    "target": "y",
                    "task": "binary",
                    "schema": {},
                    "is_active": active,
                    "created_at": at(9, 0),
                },
            ).scalar_one()
            for name, active in (("a", False), (MODEL, True))
        ]
        conn.execute(
            insert(ingestion_batches),
            [
                {
                    "batch_id": f"b{i}",
                    "dataset_id": ids[i % 2],
                    "body_hash": "h",
                    "source": "batch",
                    "accepted": 10 * i,
                    "rejected": i,
                    "labelled": i,
                    "result": {},
                    "received_at": at(11, 10) + timedelta(minutes=i),
                }
                for i in range(1, 5)
            ],
        )
    with engine.connect() as conn:
        active = status.active_dataset(conn)
        buckets = data.batch_series(conn, active.id if active else None, resolve_window("1h", NOW))
        everything = data.batch_series(conn, None, resolve_window("1h", NOW))
        assert status.active_model_name(conn, None) == MODEL
        assert status.active_model_name(conn, "configured") == "configured"
    assert active is not None and active.name == MODEL
    assert sum(b.accepted for b in buckets) == 10 + 30 and sum(b.batches for b in buckets) == 2
    assert sum(b.rejected for b in everything) == 1 + 2 + 3 + 4

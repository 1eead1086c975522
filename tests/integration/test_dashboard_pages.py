"""Every page's callback work on a realistic history, on both backends: the numbers
it shows match what plain SQL over the same tables says."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine

from dashboards.context import DashboardContext, make_context
from dashboards.pages import data, drift, jobs, models, overview, predictions
from dashboards.sample_history import HistorySpec, seed_history
from dashboards.time_range import RANGE_OPTIONS, resolve_window
from dashboards.warmup import MemoWarmer
from shared.config import load_settings
from shared.database import (
    drift_events,
    ingestion_batches,
    model_registry,
    prediction_minutes,
    training_jobs,
    write_transaction,
)
from shared.database import predictions as predictions_table
from tests.e2e.processes import free_port

NOW = datetime(2030, 1, 1, 12, 0, 30, tzinfo=UTC)
SPEC = HistorySpec(predictions=2_000, drift_checks=16, batches=12)


def find(component: Any, wanted: str) -> Any:
    """The component with id `wanted` anywhere in a Dash component tree."""
    if getattr(component, "id", None) == wanted:
        return component
    children = (
        getattr(component, "children", None)
        if not isinstance(component, list | tuple)
        else component
    )
    for child in children if isinstance(children, list | tuple) else [children]:
        if child is not None and not isinstance(child, str | int | float):
            found = find(child, wanted)
            if found is not None:
                return found
    return None


def shown_number(tree: Any, kpi: str) -> float:
    text = find(tree, kpi).children
    return float(text.replace(",", "").rstrip("%"))


@pytest.fixture
def ctx(engine: Engine, tmp_path: Any) -> DashboardContext:
    seed_history(engine, SPEC, end=NOW - timedelta(minutes=1))
    settings = load_settings(pipeline_home=tmp_path, database_url=str(engine.url))
    return DashboardContext(settings, engine, lambda: NOW)


def scalar(engine: Engine, query: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(query).scalar_one()


def test_overview_numbers_match_the_tables(ctx: DashboardContext, engine: Engine) -> None:
    body, per_minute = overview.update(ctx)
    hour = resolve_window("1h", NOW)
    expected = scalar(
        engine,
        select(func.sum(prediction_minutes.c.n)).where(prediction_minutes.c.minute >= hour.start),
    )
    with engine.connect() as conn:
        versions = conn.execute(select(model_registry.c.version, model_registry.c.aliases)).all()
    champion = next(version for version, aliases in versions if "champion" in aliases)
    assert shown_number(body, "kpi-predictions-hour") == expected == SPEC.predictions
    assert find(body, "kpi-champion-version").children == f"v{champion}"
    assert find(body, "kpi-challenger-version").children == "v3"
    assert find(body, "overview-live-comparison") is not None  # v3 is scored in shadow
    assert sum(per_minute["data"][0]["y"]) == expected


def test_predictions_numbers_match_the_tables(ctx: DashboardContext, engine: Engine) -> None:
    kpis, *figures = predictions.update(ctx, "1h")
    window = resolve_window("1h", NOW)
    p = predictions_table.c
    labelled = (p.label_at >= window.start) & p.label.is_not(None)
    n_labelled = scalar(engine, select(func.count()).where(labelled))
    n_correct = scalar(engine, select(func.count()).where(labelled & (p.prediction == p.label)))
    assert shown_number(kpis, "kpi-predictions-total") == SPEC.predictions
    assert shown_number(kpis, "kpi-accuracy") == round(100 * n_correct / n_labelled, 1)
    assert all(figure["data"] for figure in figures), "every chart has traces"
    rate, latency = figures[0], figures[1]
    assert {trace["name"] for trace in rate["data"]} == {"v1", "v2"}
    assert {trace["name"] for trace in latency["data"]} == {"p50", "p95", "mean"}


def test_drift_jobs_models_data_match_the_tables(ctx: DashboardContext, engine: Engine) -> None:
    kpis, heatmap, options = drift.update(ctx, "1h")
    assert (
        shown_number(kpis, "kpi-drift-checks")
        == scalar(engine, select(func.count()).select_from(drift_events))
        == SPEC.drift_checks
    )
    assert len(options) == SPEC.drift_checks and heatmap["data"][-1]["type"] == "heatmap"
    job_kpis, timeline, table = jobs.update(ctx, "1h")
    assert shown_number(job_kpis, "kpi-jobs-total") == scalar(
        engine, select(func.count()).select_from(training_jobs)
    )
    assert len(find(table, "jobs-table-rows").children[1].children) == 3
    model_kpis, *_ = models.update(ctx)
    assert shown_number(model_kpis, "kpi-model-versions") == scalar(
        engine, select(func.count()).select_from(model_registry)
    )
    data_kpis, ingestion, _ = data.update(ctx, "1h")
    assert shown_number(data_kpis, "kpi-data-accepted") == scalar(
        engine, select(func.sum(ingestion_batches.c.accepted))
    )
    assert [trace["name"] for trace in ingestion["data"]][:2] == ["accepted", "rejected"]


def test_drift_detail_opens_on_the_most_drifted_feature(ctx: DashboardContext) -> None:
    _, _, options = drift.update(ctx, "1h")
    drifted = next(o["value"] for o in options if " · drift · " in o["label"])
    feature_options, chosen, figure, _, summary = drift.detail(ctx, drifted, None)
    assert chosen is not None and f"{chosen} (drift)" in [o["label"] for o in feature_options]
    reference, current = figure["data"]
    assert abs(sum(reference["y"]) - 1) < 1e-9 and abs(sum(current["y"]) - 1) < 1e-9
    other = next(o["value"] for o in feature_options if o["value"] != chosen)
    assert drift.detail(ctx, drifted, other)[1] == other  # the operator's choice is kept


def test_memo_keeps_final_buckets_and_reads_the_open_one(
    ctx: DashboardContext, engine: Engine
) -> None:
    read = lambda: shown_number(predictions.update(ctx, "1h")[0], "kpi-predictions-total")  # noqa: E731
    cold = read()
    with write_transaction(engine) as conn:  # the current minute gets 7 more predictions
        conn.execute(
            insert(prediction_minutes),
            {
                "model_name": "lung_disease",
                "model_version": "2",
                "minute": NOW.replace(second=0),
                "n": 7,
                "latency_sum_ms": 21.0,
                "latency_buckets": [0] * 19,
                "class_counts": {"Yes": 7},
                "shadow_n": 0,
                "shadow_agree": 0,
            },
        )
    assert read() == cold + 7
    ctx.buckets.clear()
    assert read() == cold + 7


def test_the_warmer_swaps_in_a_memo_of_every_range(ctx: DashboardContext) -> None:
    before = ctx.buckets
    assert MemoWarmer(ctx).refresh_once()
    assert ctx.buckets is not before
    # traffic, latency, classes, labels and drift events, for each bucket width in use
    widths = {option.bucket_seconds for option in RANGE_OPTIONS}
    assert len(ctx.buckets) == 5 * len(widths)
    assert shown_number(predictions.update(ctx, "1h")[0], "kpi-predictions-total") == (
        SPEC.predictions
    )


def test_the_warmer_keeps_the_old_memo_while_the_database_is_away(tmp_path: Any) -> None:
    settings = load_settings(
        pipeline_home=tmp_path, database_url=f"postgresql://postgres@127.0.0.1:{free_port()}/none"
    )
    ctx = make_context(settings)
    before = ctx.buckets
    assert MemoWarmer(ctx).refresh_once() is False
    assert ctx.buckets is before


def test_fresh_install_shows_what_to_do_next(engine: Engine, tmp_path: Any) -> None:
    settings = load_settings(pipeline_home=tmp_path, database_url=str(engine.url))
    ctx = DashboardContext(settings, engine, lambda: NOW)
    pages: list[Callable[[], tuple]] = [
        lambda: overview.update(ctx),
        lambda: predictions.update(ctx, "1h"),
        lambda: drift.update(ctx, "1h"),
        lambda: models.update(ctx),
        lambda: jobs.update(ctx, "1h"),
    ]
    for page in pages:
        outputs = page()
        assert find(outputs[0], "getting-started") is not None
    assert find(data.update(ctx, "1h")[2], "data-dataset-table") is None

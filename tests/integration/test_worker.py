"""The retraining worker against real storage and a real MLflow store: train, gate, promote.

Parametrised over SQLite (embedded queue) and PostgreSQL (Redis queue).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine

from registry.registry import ModelRegistry
from services.retraining_worker.job_queue import TrainingQueue
from services.retraining_worker.jobs import QUEUED, SUCCEEDED
from services.retraining_worker.retrain import Retrainer
from services.retraining_worker.runner import JobRunner
from shared.config import Settings
from shared.database import training_jobs, write_transaction
from tests.integration.loop_support import FAST_TRAINING, MODEL, drifted_labels, init_champion

pytestmark = pytest.mark.slow


@pytest.fixture
def settings(
    database_url: str, make_settings: Callable[..., Settings], request: pytest.FixtureRequest
) -> Callable[..., Settings]:
    def make(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "database_url": database_url, "training_policy": "sliding", **FAST_TRAINING,
        }  # fmt: skip
        if not database_url.startswith("sqlite"):
            values["redis_url"] = request.getfixturevalue("redis_url")
            values["redis_prefix"] = (
                f"{request.getfixturevalue('redis_prefix')}:{uuid.uuid4().hex[:6]}"
            )
        return make_settings(**(values | overrides))

    return make


def runner_for(settings: Settings, engine: Engine) -> tuple[JobRunner, TrainingQueue]:
    queue = TrainingQueue(settings, engine)
    retrainer = Retrainer(settings, engine, ModelRegistry(settings, engine))
    return JobRunner(settings, queue, retrainer, worker="test-worker"), queue


def test_concept_drift_job_promotes_a_better_version(settings, engine: Engine) -> None:
    config = settings()
    registry = init_champion(config, engine)
    drifted_labels(engine, registry, 900)
    runner, queue = runner_for(config, engine)
    job = queue.submit(MODEL, "performance_drop")

    finished = runner.run(job.id)

    assert finished is not None and finished.status == SUCCEEDED and finished.attempts == 1
    decision = finished.gate_decision
    assert decision["outcome"] == "promote", decision["reason"]
    assert decision["holdout_rows"] == 270 and decision["champion_version"] == "1"
    assert decision["candidate"]["roc_auc"] > decision["champion"]["roc_auc"] + 0.05
    assert finished.model_version == "2" and finished.champion_version == "1"
    assert registry.version_for_alias(MODEL, "champion") == "2"
    moves = [m for m in registry.alias_history(MODEL) if m["alias"] == "champion"]
    assert moves[-1]["version"] == "2" and moves[-1]["previous_version"] == "1"
    assert job.id in moves[-1]["reason"] and "vs champion" in moves[-1]["reason"]
    run = registry.client.get_run(finished.run_id)
    tags = run.data.tags
    assert tags["mlpipe.job_id"] == job.id and tags["mlpipe.reason"] == "performance_drop"
    assert tags["mlpipe.training_policy"] == "sliding" and len(tags["mlpipe.data_hash"]) == 64
    assert tags["mlpipe.code_version"] and tags["mlpipe.compared_with"] == "1"


def test_shuffled_label_candidate_stays_challenger(settings, engine: Engine) -> None:
    config = settings()
    registry = init_champion(config, engine)
    drifted_labels(engine, registry, 900, shuffle_older=True)
    runner, queue = runner_for(config, engine)

    finished = runner.run(queue.submit(MODEL, "manual").id)

    assert finished is not None and finished.status == SUCCEEDED
    decision = finished.gate_decision
    assert decision["outcome"] == "challenger" and not decision["passed"]
    assert "vs champion" in decision["reason"] and decision["improvement"] < 0
    assert registry.version_for_alias(MODEL, "champion") == "1"
    assert registry.version_for_alias(MODEL, "challenger") == finished.model_version
    moves = [m for m in registry.alias_history(MODEL) if m["alias"] == "challenger"]
    assert moves and "below the required" in moves[-1]["reason"]


def test_redelivery_after_registering_yields_one_version(settings, engine: Engine) -> None:
    """A crash between registering and finishing: the next attempt reuses the version."""
    config = settings(auto_promote=False)
    registry = init_champion(config, engine)
    drifted_labels(engine, registry, 600)
    runner, queue = runner_for(config, engine)
    job = queue.submit(MODEL, "manual")
    first = runner.run(job.id)
    assert first is not None and first.model_version == "2"
    assert first.gate_decision["passed"] and first.gate_decision["outcome"] == "challenger"
    assert "AUTO_PROMOTE=false" in first.gate_decision["reason"]

    with write_transaction(engine) as conn:  # as if the attempt died before finishing
        conn.execute(update(training_jobs).values(status=QUEUED, finished_at=None))
    queue.send(job.id)
    second = runner.run(job.id)
    assert runner.run(job.id) is None  # a further duplicate finds it finished

    assert second is not None and second.status == SUCCEEDED and second.attempts == 2
    assert second.model_version == "2"
    assert [v.version for v in registry.list_versions(MODEL)] == ["1", "2"]


def test_alias_move_is_conditional_on_the_compared_champion(settings, engine: Engine) -> None:
    config = settings()
    registry = init_champion(config, engine)
    drifted_labels(engine, registry, 900)
    queue = TrainingQueue(config, engine)
    job = queue.jobs.claim(queue.submit(MODEL, "manual").id, "w")
    assert job is not None
    retrainer = Retrainer(config, engine, registry)

    # compared with v1, but v1 stops being champion (a rollback elsewhere) before the move
    registry.delete_alias(MODEL, "champion", reason="test", actor="test")
    outcome = retrainer.retrain(job, lambda: None, champion_version="1")

    assert outcome.decision.outcome == "challenger"
    assert "the champion moved from v1 to vNone" in outcome.decision.reason
    assert registry.version_for_alias(MODEL, "champion") is None
    assert registry.version_for_alias(MODEL, "challenger") == outcome.version


def test_too_little_data_fails_the_job_for_good(settings, engine: Engine) -> None:
    config = settings(training_policy="sliding")
    registry = init_champion(config, engine, rows=200)
    with write_transaction(engine) as conn:  # leave only a handful of reference rows
        conn.exec_driver_sql(
            "DELETE FROM feature_store WHERE id > (SELECT MIN(id) + 10 FROM feature_store)"
        )
    runner, queue = runner_for(config, engine)
    finished = runner.run(queue.submit(MODEL, "manual").id)
    assert finished is not None and finished.status == "failed"
    assert "labelled rows" in (finished.error or "")
    assert [v.version for v in registry.list_versions(MODEL)] == ["1"]


def test_sliding_policy_trains_on_rows_since_the_drift_began(settings, engine: Engine) -> None:
    """Labels from before the drift would teach the old concept: the sliding set leaves them out."""
    from ml.feature_store import FeatureStore, get_dataset
    from services.drift_monitor.prediction_log import PredictionLog
    from services.retraining_worker.training_data import assemble
    from tests.integration.loop_support import feed_back, log_predictions, traffic

    config = settings(training_policy="sliding")
    registry = init_champion(config, engine, rows=400)
    champion = registry.load(MODEL, "champion")
    now = datetime.now(UTC)
    for scenario, rows, minutes_ago in (("none", 300, 30), ("concept", 500, 10)):
        records, labels = traffic(rows, scenario, seed=rows)
        at = now - timedelta(minutes=minutes_ago)
        feed_back(engine, log_predictions(engine, champion, records, at=at), labels, at=at)
    dataset = get_dataset(engine, MODEL)

    def training_set(**kwargs: object):
        return assemble(
            config, FeatureStore(engine), PredictionLog(engine), dataset_id=dataset.id,
            model_name=MODEL, schema=dataset.schema, now=now, **kwargs,
        )  # fmt: skip

    everything = training_set()
    assert everything.holdout_rows == 240  # the newest 30% of the 800 live rows
    assert everything.train_rows == 560 and everything.counts["reference"] == 400
    since_drift = training_set(drift_onset=now - timedelta(minutes=15))
    assert since_drift.holdout_rows == 150 and since_drift.train_rows == 350  # concept rows only
    assert since_drift.times[~since_drift.holdout].min() >= now - timedelta(minutes=15)
    cumulative = assemble(
        config.model_copy(update={"training_policy": "cumulative"}), FeatureStore(engine),
        PredictionLog(engine), dataset_id=dataset.id, model_name=MODEL, schema=dataset.schema,
        now=now, drift_onset=now - timedelta(minutes=15),
    )  # fmt: skip
    assert cumulative.train_rows == 400 + 560  # reference + every older live row

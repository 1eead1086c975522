"""The registry against real MLflow stores: SQLite (with a SQLite project database) and
PostgreSQL (a database of MLflow's own, with a PostgreSQL project database)."""

from __future__ import annotations

import json
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import mlflow.pyfunc
import pytest
from mlflow import MlflowClient
from sqlalchemy import select
from sqlalchemy.engine import Engine

from ml.data.sample import make_dataset
from ml.schema import infer_schema, labels_as_strings, normalize_frame
from ml.training import TrainerConfig, TrainingResult, train
from registry import CHALLENGER, CHAMPION, ModelRegistry
from registry.tracking import make_client
from shared.config import Settings, load_settings
from shared.database import model_registry
from shared.errors import Conflict, NotFound, ServiceUnavailable
from shared.signals import ModelChanged, ModelChangedSubscriber


@pytest.fixture(scope="module")
def result() -> TrainingResult:
    frame = make_dataset(400, seed=5)
    schema, _ = infer_schema(frame, "Recovered")
    labels = labels_as_strings(frame["Recovered"])
    keep = labels.notna()
    config = TrainerConfig(families=("logistic_regression", "random_forest"))
    return train(normalize_frame(schema, frame)[keep], labels[keep], schema, config)


@pytest.fixture(scope="module")
def settings(
    database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Settings:
    """MLflow on the same kind of store as the project database, but never the same database."""
    home = tmp_path_factory.mktemp("home")
    if database_url.startswith("sqlite"):
        uri = f"sqlite:///{home / 'mlflow.db'}"
    else:
        factory: Callable[[], str] = request.getfixturevalue("postgres_url_factory")
        uri = factory()
    settings = load_settings(pipeline_home=home, database_url=database_url, mlflow_tracking_uri=uri)
    settings.ensure_dirs()
    return settings


@pytest.fixture(scope="module")
def client(settings: Settings) -> MlflowClient:
    return make_client(settings)


@pytest.fixture
def registry(settings: Settings, engine: Engine, client: MlflowClient) -> ModelRegistry:
    return ModelRegistry(settings, engine, client=client)


@pytest.fixture
def name() -> str:
    return f"m-{uuid.uuid4().hex[:8]}"


def test_candidate_run_has_metrics_schema_profile_plots_and_model(
    registry: ModelRegistry, result: TrainingResult, name: str, engine: Engine, settings: Settings
) -> None:
    info = registry.log_candidate(
        name, result, tags={"mlpipe.reason": "test"}, data_window={"rows": 400}
    )
    assert info.version == "1" and info.family == result.family and info.aliases == ()
    assert info.metrics["roc_auc"] == pytest.approx(result.metrics["roc_auc"])
    outside = MlflowClient(
        settings.mlflow_tracking_uri.replace("postgresql://", "postgresql+psycopg2://")
    )
    run = outside.get_run(info.run_id)
    assert run.info.status == "FINISHED"
    assert (
        run.data.params["family"] == result.family and run.data.params["data_window.rows"] == "400"
    )
    assert "roc_auc" in run.data.metrics and f"cv_{result.family}_roc_auc" in run.data.metrics
    files = {a.path for a in outside.list_artifacts(info.run_id)}
    assert {"schema.json", "reference_profile.json", "training_summary.json", "plots"} <= files
    plots = {a.path for a in outside.list_artifacts(info.run_id, "plots")}
    assert plots == {"plots/confusion_matrix.png", "plots/feature_importance.png"}
    with engine.connect() as conn:
        row = conn.execute(select(model_registry).where(model_registry.c.model_name == name)).one()
    assert row.version == "1" and row.family == result.family and row.aliases == []


def test_promote_rollback_and_alias_history(
    registry: ModelRegistry, result: TrainingResult, name: str, settings: Settings, engine: Engine
) -> None:
    versions = [registry.log_candidate(name, result).version for _ in range(3)]
    assert versions == ["1", "2", "3"]
    registry.promote(name, "1", reason="initial", actor="test")
    registry.set_alias(name, CHALLENGER, "2", reason="candidate", actor="test")
    move = registry.promote(name, "2", reason="better", actor="test")
    assert move is not None and move.previous_version == "1"
    registry.promote(name, "3", reason="even better", actor="test")
    outside = MlflowClient(
        settings.mlflow_tracking_uri.replace("postgresql://", "postgresql+psycopg2://")
    )
    assert str(outside.get_model_version_by_alias(name, CHAMPION).version) == "3"
    assert registry.version_for_alias(name, CHALLENGER) is None  # promoting v2 cleared it

    first = registry.rollback(name, reason="v3 misbehaves", actor="test")
    assert (first.version, first.previous_version) == ("2", "3")
    second = registry.rollback(name, reason="v2 too", actor="test")
    assert (second.version, second.previous_version) == ("1", "2")  # walks back, no toggling
    assert str(outside.get_model_version_by_alias(name, CHAMPION).version) == "1"
    with pytest.raises(Conflict, match="no previous champion"):
        registry.rollback(name, reason="again", actor="test")

    history = [
        (h["alias"], h["version"], h["previous_version"], h["action"])
        for h in registry.alias_history(name)
    ]
    assert history == [
        (CHAMPION, "1", None, "promote"),
        (CHALLENGER, "2", None, "set"),
        (CHAMPION, "2", "1", "promote"),
        (CHALLENGER, None, "2", "delete"),
        (CHAMPION, "3", "2", "promote"),
        (CHAMPION, "2", "3", "rollback"),
        (CHAMPION, "1", "2", "rollback"),
    ]
    listed = registry.list_versions(name)
    assert [(v.version, v.aliases) for v in listed] == [("1", (CHAMPION,)), ("2", ()), ("3", ())]
    with engine.connect() as conn:
        mirrored = dict(
            conn.execute(
                select(model_registry.c.version, model_registry.c.aliases).where(
                    model_registry.c.model_name == name
                )
            ).all()
        )
    assert mirrored == {"1": [CHAMPION], "2": [], "3": []}


def test_conditional_alias_move_refuses_a_stale_expectation(
    registry: ModelRegistry, result: TrainingResult, name: str
) -> None:
    registry.log_candidate(name, result)
    registry.log_candidate(name, result)
    assert registry.set_alias(name, CHAMPION, "1", reason="r", actor="t", expected_current=None)
    assert not registry.set_alias(name, CHAMPION, "2", reason="r", actor="t", expected_current=None)
    assert registry.promote(name, "2", reason="r", actor="t", expected_current="2") is None
    assert registry.version_for_alias(name, CHAMPION) == "1"
    assert registry.set_alias(name, CHAMPION, "2", reason="r", actor="t", expected_current="1")
    assert len(registry.alias_history(name)) == 2
    assert registry.delete_alias(name, CHAMPION, reason="r", actor="t")
    assert registry.version_for_alias(name, CHAMPION) is None


def test_load_by_alias_and_version_uses_the_local_cache(
    registry: ModelRegistry,
    result: TrainingResult,
    name: str,
    settings: Settings,
    engine: Engine,
    client,
) -> None:
    info = registry.log_candidate(name, result)
    registry.promote(name, info.version, reason="r", actor="t")
    loaded = registry.load(name, CHAMPION)
    assert loaded.version == "1" and loaded.family == result.family
    assert loaded.schema == result.schema and loaded.profile == json.loads(
        json.dumps(result.reference_profile)
    )
    assert loaded.path.is_relative_to(settings.model_cache_dir)
    frame = result.input_example
    assert (loaded.pipeline.predict_proba(frame) == result.pipeline.predict_proba(frame)).all()
    assert registry.load(name, "1") is loaded  # in memory

    # A new process (fresh registry) with the artifact store gone still loads from disk.
    shutil.rmtree(Path(settings.mlflow_artifact_root.removeprefix("file://")) / name)
    again = ModelRegistry(settings, engine, client=client).load(name, "1")
    assert again.version == "1" and again.path == loaded.path

    # MLflow's own loader (what `mlflow models serve` uses) reads the same directory.
    records = frame.astype(object).where(frame.notna(), None)
    served = mlflow.pyfunc.load_model(str(loaded.path)).predict(records)
    assert list(served) == list(result.pipeline.predict(frame))


def test_unknown_versions_and_aliases(
    registry: ModelRegistry, result: TrainingResult, name: str
) -> None:
    assert registry.version_for_alias(name, CHAMPION) is None  # no such model yet
    with pytest.raises(NotFound):
        registry.load(name, CHAMPION)
    registry.log_candidate(name, result)
    assert registry.version_for_alias(name, CHAMPION) is None
    with pytest.raises(NotFound):
        registry.get_version(name, "7")
    with pytest.raises(NotFound):
        registry.promote(name, "7", reason="r", actor="t")
    with pytest.raises(NotFound):
        registry.load(name, "nonexistent-alias")
    with pytest.raises(Conflict, match="no champion"):
        registry.rollback(name, reason="r", actor="t")


def test_delete_model_forgets_versions_and_history(
    registry: ModelRegistry, result: TrainingResult, name: str
) -> None:
    info = registry.log_candidate(name, result)
    registry.promote(name, info.version, reason="r", actor="t")
    registry.delete_model(name)
    assert registry.list_versions(name) == [] and registry.alias_history(name) == []
    assert registry.log_candidate(name, result).version == "1"


def test_nothing_is_written_to_the_working_directory(
    registry: ModelRegistry, result: TrainingResult, name: str, tmp_path: Path, monkeypatch
) -> None:
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    info = registry.log_candidate(name, result)
    registry.promote(name, info.version, reason="r", actor="t")
    registry.load(name, CHAMPION)
    assert list(workdir.iterdir()) == []


def test_an_unreachable_store_is_reported_in_seconds(tmp_path: Path) -> None:
    settings = load_settings(
        pipeline_home=tmp_path, mlflow_tracking_uri="postgresql://postgres@127.0.0.1:1/nowhere"
    )
    started = time.perf_counter()
    with pytest.raises(ServiceUnavailable, match="MLflow store unavailable"):
        make_client(settings)
    assert time.perf_counter() - started < 15  # MLflow alone retries for about 100 s


@pytest.mark.redis
def test_every_committed_alias_move_signals_the_services(
    settings: Settings,
    engine: Engine,
    client: MlflowClient,
    result: TrainingResult,
    name: str,
    redis_url: str,
    redis_prefix: str,
) -> None:
    signalled = settings.model_copy(
        update={"redis_url": redis_url, "redis_prefix": f"{redis_prefix}:registry"}
    )
    registry = ModelRegistry(signalled, engine, client)
    registry.log_candidate(name, result)
    registry.log_candidate(name, result)
    heard: list[ModelChanged] = []
    subscriber = ModelChangedSubscriber(signalled, heard.append).start()
    try:
        assert subscriber.wait_subscribed(10)
        registry.promote(name, "1", reason="r", actor="t")
        registry.set_alias(name, CHALLENGER, "2", reason="r", actor="t")
        assert not registry.set_alias(
            name, CHAMPION, "2", reason="r", actor="t", expected_current="2"
        )
        registry.promote(name, "2", reason="r", actor="t")
        registry.rollback(name, reason="r", actor="t")
        registry.delete_alias(name, CHAMPION, reason="r", actor="t")
        deadline = time.monotonic() + 10
        while len(heard) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)  # a refused move would have arrived by now too
    finally:
        subscriber.stop()
    assert [(h.model_name, h.alias, h.version) for h in heard] == [
        (name, CHAMPION, "1"),
        (name, CHALLENGER, "2"),
        (name, CHAMPION, "2"),  # the refused move sent nothing
        (name, CHAMPION, "1"),
        (name, CHAMPION, None),
    ]

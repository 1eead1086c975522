"""`mlpipe init` and `train_and_register` in-process on real stores: other shapes of data,
failures that must leave nothing behind, and retraining on stored rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from ml.feature_store import FeatureStore, get_dataset
from registry import CHAMPION, ModelRegistry
from registry.tracking import make_client
from services.retraining_worker import initial_model
from services.retraining_worker.initial_model import initialise_model
from services.retraining_worker.training_run import train_and_register
from shared.config import Settings, load_settings
from shared.database import datasets, write_transaction
from shared.errors import InputError

FAST_FAMILIES = "logistic_regression,hist_gradient_boosting"


@pytest.fixture(scope="module")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    home = tmp_path_factory.mktemp("home")
    settings = load_settings(
        pipeline_home=home, database_url=database_url, candidate_families=FAST_FAMILIES
    )
    settings.ensure_dirs()
    return settings


@pytest.fixture(scope="module")
def client(settings: Settings) -> MlflowClient:
    return make_client(settings)


@pytest.fixture
def registry(settings: Settings, engine: Engine, client: MlflowClient) -> ModelRegistry:
    return ModelRegistry(settings, engine, client=client)


def _shape(kind: str, rows: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=rows)
    noisy = signal + rng.normal(scale=0.6, size=rows)
    level = np.array(["low", "mid", "high"])[np.digitize(noisy, [-0.4, 0.4])]
    if kind == "numeric":
        return pd.DataFrame({"x1": noisy, "x2": rng.normal(size=rows), "y": signal > 0})
    if kind == "categorical":
        return pd.DataFrame(
            {"level": level, "shade": rng.choice(["a", "b"], rows), "y": signal > 0}
        )
    if kind == "multiclass":
        y = np.array(["cat", "dog", "eel"])[np.digitize(signal, [-0.45, 0.45])]
        return pd.DataFrame({"x": noisy, "level": level, "y": y})
    if kind == "missing":
        frame = pd.DataFrame({"x": noisy, "level": level, "y": np.where(signal > 0, "yes", "no")})
        frame.loc[rng.random(rows) < 0.3, "x"] = np.nan
        frame.loc[rng.random(rows) < 0.3, "level"] = None
        frame.loc[rng.random(rows) < 0.05, "y"] = None  # unlabelled rows: stored, not trained on
        return frame
    if kind == "imbalanced":
        rows = 800
        x = rng.normal(size=rows)
        rare = x + rng.normal(scale=0.4, size=rows) > 1.8
        return pd.DataFrame(
            {"x": x, "z": rng.normal(size=rows), "y": np.where(rare, "rare", "common")}
        )
    raise ValueError(kind)


@pytest.mark.parametrize("kind", ["numeric", "categorical", "multiclass", "missing", "imbalanced"])
def test_init_works_on_other_shapes_of_data(
    kind: str, tmp_path: Path, settings: Settings, engine: Engine, registry: ModelRegistry
) -> None:
    frame = _shape(kind)
    csv = tmp_path / f"{kind}.csv"
    frame.to_csv(csv, index=False)
    outcome = initialise_model(settings, engine, registry, csv_path=csv, target="y")
    assert outcome.dataset.name == kind and outcome.version == "1"
    assert registry.version_for_alias(kind, CHAMPION) == "1"
    loaded = registry.load(kind, CHAMPION)
    assert loaded.schema == outcome.data.schema
    stats = FeatureStore(engine).stats(outcome.dataset.id)
    assert stats["rows"] == len(frame) == outcome.dataset.n_rows
    assert stats["labelled"] == int(frame["y"].notna().sum())
    metrics = outcome.result.metrics
    majority = frame["y"].value_counts(normalize=True).max()
    assert metrics["balanced_accuracy"] > 0.6 and metrics["accuracy"] >= majority - 0.05
    if kind == "imbalanced":
        assert outcome.result.class_weighting == "balanced"
    if kind == "multiclass":
        assert outcome.data.schema.task == "multiclass" and outcome.result.primary_metric == "f1"


def test_a_failure_after_registering_leaves_nothing_behind(
    tmp_path: Path, settings: Settings, engine: Engine, registry: ModelRegistry, monkeypatch
) -> None:
    _shape("numeric").to_csv(tmp_path / "doomed.csv", index=False)

    def disk_full(*_args: object, **_kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(initial_model, "_store_reference_rows", disk_full)
    with pytest.raises(OSError, match="disk full"):
        initialise_model(settings, engine, registry, csv_path=tmp_path / "doomed.csv", target="y")
    assert registry.list_versions("doomed") == []
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(datasets)).scalar() == 0


def test_bad_input_is_refused_before_anything_is_written(
    tmp_path: Path, settings: Settings, engine: Engine, registry: ModelRegistry
) -> None:
    _shape("numeric").assign(y=True).to_csv(tmp_path / "flat.csv", index=False)
    with pytest.raises(InputError, match="single class"):
        initialise_model(settings, engine, registry, csv_path=tmp_path / "flat.csv", target="y")
    with pytest.raises(InputError, match="invalid model name"):
        initialise_model(
            settings, engine, registry, csv_path=tmp_path / "flat.csv", target="y", name="a b"
        )
    assert registry.list_versions("flat") == []


def test_train_and_register_uses_every_labelled_stored_row(
    tmp_path: Path, settings: Settings, engine: Engine, registry: ModelRegistry
) -> None:
    frame = _shape("categorical", rows=300)
    frame.to_csv(tmp_path / "shop.csv", index=False)
    first = initialise_model(settings, engine, registry, csv_path=tmp_path / "shop.csv", target="y")
    more = _shape("categorical", rows=100, seed=9)
    schema = first.data.schema
    from ml.schema import labels_as_strings, normalize_frame

    with write_transaction(engine) as conn:
        FeatureStore(engine).write_rows(
            conn,
            first.dataset.id,
            normalize_frame(schema, more),
            labels=labels_as_strings(more["y"]),
            split="ingested",
        )
    steps: list[str] = []
    outcome = train_and_register(
        settings, engine, registry, "shop", reason="test", job_id="job-1", progress=steps.append
    )
    assert outcome.version == "2" and outcome.result.fingerprint["rows"] == 400
    assert outcome.result.fingerprint["time_start"] is not None
    assert registry.version_for_alias("shop", CHAMPION) == "1"  # no alias moves here
    run = registry.client.get_run(outcome.run_id)
    assert run.data.tags["mlpipe.reason"] == "test" and run.data.tags["mlpipe.job_id"] == "job-1"
    assert run.data.params["data_window.rows"] == "400"
    assert any("cross-validating" in step for step in steps)
    assert get_dataset(engine, "shop").n_rows == 300

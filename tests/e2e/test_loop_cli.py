"""`mlpipe drift`, `mlpipe train`, `mlpipe status` as a user runs them, in real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ml.data.sample import make_dataset, write_csv
from registry.registry import ModelRegistry
from shared.config import load_settings
from shared.database import make_engine
from tests.integration.loop_support import log_predictions, traffic

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
MLPIPE = str(Path(sys.executable).with_name("mlpipe"))
FAST = {"CANDIDATE_FAMILIES": "random_forest", "CV_FOLDS": "2"}


def mlpipe(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PIPELINE_HOME": str(home), "MODEL_NAME": "", "REDIS_URL": "", **FAST}
    return subprocess.run(
        [MLPIPE, *args], capture_output=True, text=True, timeout=600, cwd=home, env=env
    )


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_drift_train_and_status(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    write_csv(make_dataset(1200, seed=3), home / "lung.csv")
    before = mlpipe(home, "drift", "--json")  # no model yet: a usage mistake, one line
    assert before.returncode == 2 and "mlpipe init" in before.stderr
    ok(mlpipe(home, "init", "--data", str(home / "lung.csv"), "--target", "Recovered"))

    settings = load_settings(pipeline_home=home, model_name="", redis_url=None)
    engine = make_engine(settings)
    champion = ModelRegistry(settings, engine).load("lung", "champion")
    records, _ = traffic(300, "covariate", seed=5)
    log_predictions(engine, champion, records)

    look = json.loads(ok(mlpipe(home, "drift", "--json", "--last", "250")))
    assert set(look) == {
        "dataset_drift",
        "reason",
        "n_current",
        "model",
        "drifted_features",
        "features",
    }
    assert look["dataset_drift"] is True and look["n_current"] == 250
    assert look["model"] == {"name": "lung", "version": "1"}
    assert "Age" in look["drifted_features"]
    assert set(look["features"]["Age"]) == {
        "test",
        "p_value",
        "p_adjusted",
        "effect_size",
        "verdict",
    }
    assert "DRIFT" in ok(mlpipe(home, "drift"))
    with engine.connect() as conn:  # read-only: nothing recorded
        assert conn.exec_driver_sql("SELECT count(*) FROM drift_events").scalar() == 0

    queued = ok(mlpipe(home, "train"))
    assert "queued training job" in queued
    assert "already has a queued training job" in ok(mlpipe(home, "train"))
    waited = ok(mlpipe(home, "train", "--wait"))  # follows the queued job; no worker: runs here
    assert "succeeded" in waited and "gate: challenger" in waited
    assert "registered lung version 2 as challenger" in waited

    status = json.loads(ok(mlpipe(home, "status", "--json")))
    assert status["model"]["champion"]["version"] == "1"
    assert status["model"]["challenger"]["version"] == "2"
    assert status["queue"]["backend"] == "sqlite" and status["queue"]["depth"] == 0
    assert status["jobs"][0]["status"] == "succeeded" and status["jobs"][0]["reason"] == "manual"
    assert status["services"]["retraining_worker"]["up"] is False
    text = ok(mlpipe(home, "status"))
    assert "champion" in text and "succeeded" in text
    engine.dispose()

"""`mlpipe init / train / models / promote / rollback` as a user runs them, in real processes."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from mlflow import MlflowClient

from ml.data.sample import make_dataset, write_csv
from registry import ModelRegistry
from services.retraining_worker.training_run import train_and_register
from shared.config import load_settings
from shared.database import make_engine
from shared.signals import ModelChanged, ModelChangedSubscriber
from tests.integration.prediction_support import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

MLPIPE = str(Path(sys.executable).with_name("mlpipe"))
SAMPLE = Path(__file__).resolve().parents[2] / "data" / "lung_disease.csv"
FAST = {"CANDIDATE_FAMILIES": "logistic_regression,hist_gradient_boosting"}


def mlpipe(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [MLPIPE, *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=home,
        env={**os.environ, "PIPELINE_HOME": str(home), "MODEL_NAME": "", **env},
    )


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def one_line_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mlpipe: error:"), result.stderr
    return lines[0]


def alias_history(home: Path) -> list[tuple]:
    with sqlite3.connect(home / "data" / "pipeline.db") as conn:
        return conn.execute(
            "SELECT alias, version, previous_version, action FROM alias_history ORDER BY id"
        ).fetchall()


def add_version(home: Path) -> str:
    settings = load_settings(pipeline_home=home, candidate_families="logistic_regression")
    engine = make_engine(settings)
    try:
        registry = ModelRegistry(settings, engine)
        return train_and_register(settings, engine, registry, "lung_disease", reason="test").version
    finally:
        engine.dispose()


@pytest.mark.redis
def test_init_promote_rollback_models_and_reinit(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    out = ok(mlpipe(home, "init", "--data", str(SAMPLE), "--target", "Recovered"))
    assert "registered lung_disease version 1 as champion" in out
    assert "selected " in out and "roc_auc" in out

    client = MlflowClient(f"sqlite:///{home / 'mlflow.db'}")
    champion = client.get_model_version_by_alias("lung_disease", "champion")
    assert str(champion.version) == "1"
    run = client.get_run(champion.run_id)
    assert run.data.metrics["roc_auc"] > 0.75
    files = {artifact.path for artifact in client.list_artifacts(champion.run_id)}
    assert {"schema.json", "reference_profile.json", "plots"} <= files
    plots = {artifact.path for artifact in client.list_artifacts(champion.run_id, "plots")}
    assert {"plots/confusion_matrix.png", "plots/feature_importance.png"} <= plots
    assert (home / "mlartifacts").is_dir() and not (home / "mlruns").exists()

    listing = ok(mlpipe(home, "models"))
    assert "champion" in listing and "1" in listing

    # A second version, trained on the stored rows (`mlpipe train` itself belongs to the
    # gated retraining job and is tested with it).
    assert add_version(home) == "2"
    # With REDIS_URL, promote and rollback signal the prediction services at once.
    redis = {"REDIS_URL": redis_url, "REDIS_PREFIX": f"{redis_prefix}:cli"}
    signals: list[ModelChanged] = []
    settings = load_settings(
        pipeline_home=home, redis_url=redis_url, redis_prefix=redis["REDIS_PREFIX"]
    )
    subscriber = ModelChangedSubscriber(settings, signals.append).start()
    try:
        assert subscriber.wait_subscribed(10)
        assert "version 1 -> version 2" in ok(mlpipe(home, "promote", "2", **redis))
        assert "version 2 -> version 1 (rolled back)" in ok(mlpipe(home, "rollback", **redis))
        assert wait_until(lambda: len(signals) == 2, 10)
    finally:
        subscriber.stop()
    assert [(s.model_name, s.version, s.alias) for s in signals] == [
        ("lung_disease", "2", "champion"),
        ("lung_disease", "1", "champion"),
    ]
    assert "no previous champion" in one_line_error(mlpipe(home, "rollback"))
    assert "no version 9" in one_line_error(mlpipe(home, "promote", "9"))
    assert alias_history(home) == [
        ("champion", "1", None, "promote"),
        ("champion", "2", "1", "promote"),
        ("champion", "1", "2", "rollback"),
    ]
    rows = [line for line in ok(mlpipe(home, "models")).splitlines() if line.strip()[:1] in "│|"]
    assert any(" 1 " in row and "champion" in row for row in rows)

    refused = one_line_error(mlpipe(home, "init", "--data", str(SAMPLE), "--target", "Recovered"))
    assert "already initialised" in refused and "--force" in refused
    out = ok(
        mlpipe(home, "init", "--data", str(SAMPLE), "--target", "Recovered", "--force", **FAST)
    )
    assert "replaced; registered lung_disease version 3 as champion" in out
    versions = client.search_model_versions("name = 'lung_disease'")
    assert [str(v.version) for v in versions] == ["3"]
    assert alias_history(home) == [("champion", "3", None, "promote")]


def test_commands_before_init_explain_what_to_do(tmp_path: Path) -> None:
    for command in (["models"], ["rollback"], ["promote", "1"]):
        assert "mlpipe init" in one_line_error(mlpipe(tmp_path, *command))


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def _bad_inputs(folder: Path) -> dict[str, tuple[Path, str]]:
    lung = make_dataset(60, seed=1)
    single = lung.assign(Recovered="Yes")
    write_csv(single, folder / "single.csv")
    write_csv(lung.head(12), folder / "tiny.csv")
    return {
        "missing": (folder / "nope.csv", "no such file"),
        "empty": (_write(folder / "empty.csv", b""), "is empty"),
        "binary": (_write(folder / "image.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR"), "not a CSV"),
        "latin-1": (
            _write(folder / "latin.csv", "a,b,Recovered\né,1,Yes\n".encode("latin-1")),
            "not UTF-8",
        ),
        "no target": (
            _write(folder / "other.csv", b"Age,Gender\n1,M\n"),
            "target column 'Recovered' not found; the CSV has: Age, Gender",
        ),
        "single class": (folder / "single.csv", "single class"),
        "too few rows": (folder / "tiny.csv", "only 12 labelled rows"),
        "header only": (_write(folder / "header.csv", b"a,b,Recovered\n"), "no data rows"),
    }


def test_bad_input_exits_2_with_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    for case, (path, message) in _bad_inputs(tmp_path).items():
        line = one_line_error(mlpipe(home, "init", "--data", str(path), "--target", "Recovered"))
        assert message in line, case
    with sqlite3.connect(home / "data" / "pipeline.db") as conn:
        assert conn.execute("SELECT count(*) FROM datasets").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM feature_store").fetchone() == (0,)
    assert not (home / "mlflow.db").exists()  # no MLflow store was even opened


def test_a_generated_multiclass_csv_with_gaps_initialises(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "size": [float(i % 17) if i % 9 else None for i in range(300)],
            "colour": [["red", "green", "blue", None][i % 4] for i in range(300)],
            "kind": [["a", "b", "c"][(i % 17) // 6] for i in range(300)],
        }
    )
    frame.to_csv(tmp_path / "shapes.csv", index=False)
    out = ok(
        mlpipe(tmp_path, "init", "--data", str(tmp_path / "shapes.csv"), "--target", "kind", **FAST)
    )
    assert "multiclass target 'kind' with classes a, b, c" in out
    assert "registered shapes version 1 as champion" in out
    assert "cross-validated f1" in out

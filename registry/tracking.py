"""Building an MlflowClient for an instance's store, explicitly (no global tracking URI).

MLflow's own default is `sqlite:///mlflow.db` in the current directory, so
every client here gets the settings' URI, and every experiment an explicit
artifact location under `settings.mlflow_artifact_root` (for database stores),
never the working directory.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from mlflow import MlflowClient
from mlflow.entities import LifecycleStage
from mlflow.exceptions import MlflowException
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from shared.config import Settings
from shared.database import driver_url
from shared.errors import ServiceUnavailable

T = TypeVar("T")
NOT_FOUND = "RESOURCE_DOES_NOT_EXIST"
ALREADY_EXISTS = "RESOURCE_ALREADY_EXISTS"


def tracking_uri(settings: Settings) -> str:
    """The store URI as MLflow's SQLAlchemy needs it (postgresql:// -> psycopg2 driver)."""
    return driver_url(settings.mlflow_tracking_uri)


def make_client(settings: Settings) -> MlflowClient:
    """A client bound to this instance's tracking store and model registry."""
    uri = tracking_uri(settings)
    if uri.startswith("sqlite:///"):
        _prepare_sqlite(Path(uri.removeprefix("sqlite:///")))
    elif uri.startswith("postgresql"):
        _check_reachable(uri)
    try:
        return MlflowClient(tracking_uri=uri, registry_uri=uri)
    except Exception as exc:  # MlflowException, or a driver error while MLflow migrates its tables
        raise ServiceUnavailable(f"MLflow store unavailable: {first_line(exc)}") from exc


def _prepare_sqlite(path: Path) -> None:
    # WAL lets the prediction service read aliases while a worker registers a version;
    # the mode is stored in the file, so setting it once serves every MLflow connection.
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path, timeout=30) as conn:
        if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            conn.execute("PRAGMA journal_mode=WAL")


def _check_reachable(uri: str) -> None:
    # MLflow retries an unreachable database ten times with backoff (about 100 s) before
    # failing; a store that is down should be reported in seconds.
    engine = create_engine(uri, connect_args={"connect_timeout": 5}, poolclass=NullPool)
    try:
        with engine.connect():
            pass
    except Exception as exc:
        raise ServiceUnavailable(f"MLflow store unavailable: {first_line(exc)}") from None
    finally:
        engine.dispose()


def experiment_id(client: MlflowClient, settings: Settings, name: str) -> str:
    """The experiment holding a model's runs (same name as the model), created on first use."""
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        if experiment.lifecycle_stage == LifecycleStage.DELETED:
            client.restore_experiment(experiment.experiment_id)
        return str(experiment.experiment_id)
    location = None
    if not settings.mlflow_tracking_uri.startswith(("http://", "https://")):
        slug = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
        location = f"{settings.mlflow_artifact_root.rstrip('/')}/{slug}"
    try:
        return str(client.create_experiment(name, artifact_location=location))
    except MlflowException as exc:
        if exc.error_code != ALREADY_EXISTS:  # another process created it just now
            raise
        found = client.get_experiment_by_name(name)
        assert found is not None
        return str(found.experiment_id)


def is_not_found(exc: MlflowException) -> bool:
    return exc.error_code == NOT_FOUND


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def retry_locked(action: Callable[[], T], attempts: int = 5, delay: float = 0.2) -> T:
    """Retry a write that hit SQLite's 'database is locked' (MLflow opens deferred transactions)."""
    for attempt in range(attempts):
        try:
            return action()
        except MlflowException as exc:
            if "database is locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(delay * (attempt + 1))
    raise AssertionError("unreachable")

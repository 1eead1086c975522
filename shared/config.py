"""Typed settings, built once per process from the environment and `.env`.

Every process calls `load_settings()` in its entry point and passes the object
down; nothing reads the environment at import time.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

REPO_ROOT = Path(__file__).resolve().parents[1]


class SettingsError(ValueError):
    """A configuration value is invalid; the message names the variable."""


class Settings(BaseSettings):
    """All configuration of one instance. Field names map to upper-case env vars."""

    model_config = SettingsConfigDict(
        env_file=(REPO_ROOT / ".env", ".env"),
        env_file_encoding="utf-8",
        extra="ignore",
        protected_namespaces=(),
    )

    # Where every piece of state lives (database, MLflow store, logs, pids).
    pipeline_home: Path = REPO_ROOT
    database_url: str = ""
    redis_url: str | None = None
    redis_prefix: str = ""
    mlflow_tracking_uri: str = ""
    mlflow_artifact_root: str = ""

    host: str = "127.0.0.1"
    ingestion_api_port: int = Field(8001, ge=1, le=65535)
    prediction_service_port: int = Field(8002, ge=1, le=65535)
    dashboard_port: int = Field(8050, ge=1, le=65535)
    mlflow_ui_port: int = Field(5000, ge=1, le=65535)

    model_name: str | None = None
    api_key: str | None = None
    auto_promote: bool = True

    # Logging
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["auto", "json", "text"] = "auto"

    # HTTP limits
    max_body_bytes: int = Field(64 * 1024 * 1024, gt=0)
    predict_max_records: int = Field(1_000, gt=0)
    predict_batch_max_records: int = Field(100_000, gt=0)
    ingest_max_records: int = Field(100_000, gt=0)

    # Prediction service
    # One alias look-up costs 5 to 15 ms; polling every second keeps an alias move
    # to the first answer from the new version under 5 s even without Redis.
    reload_poll_seconds: float = Field(1.0, gt=0)
    microbatch_max_wait_ms: float = Field(2.0, ge=0)
    microbatch_max_rows: int = Field(256, gt=0)
    log_commit_max_wait_ms: float = Field(2.0, ge=0)

    # Training
    random_seed: int = 42
    primary_metric: str | None = None  # default: roc_auc (binary), f1_macro (multiclass)
    cv_folds: int = Field(3, ge=2)
    candidate_families: str = "logistic_regression,random_forest,hist_gradient_boosting"

    # Drift monitor
    monitor_interval_seconds: float = Field(30.0, gt=0)
    drift_window_size: int = Field(500, gt=0)
    drift_min_samples: int = Field(100, gt=0)
    drift_persistence_k: int = Field(1, ge=1)
    drift_persistence_m: int = Field(1, ge=1)
    retrain_cooldown_seconds: float = Field(300.0, ge=0)
    max_model_age_hours: float = Field(0.0, ge=0)  # 0 = no age trigger
    performance_min_labels: int = Field(100, gt=0)

    # Retraining worker and gate
    training_policy: Literal["cumulative", "sliding"] = "cumulative"
    training_window_hours: float = Field(24.0, gt=0)
    holdout_fraction: float = Field(0.3, gt=0, lt=1)
    gate_min_improvement: float = Field(0.005, ge=0)
    gate_guardrail_tolerance: float = Field(0.02, ge=0)
    job_lease_seconds: float = Field(120.0, gt=0)
    job_max_attempts: int = Field(3, ge=1)
    job_heartbeat_seconds: float = Field(5.0, gt=0)

    # Dashboard
    dashboard_refresh_seconds: float = Field(5.0, gt=0)

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if not value:
            return value
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError(
                "not a database URL; use sqlite:///PATH or postgresql://USER@HOST:PORT/DB"
            ) from None
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ValueError(
                f"unsupported backend {url.get_backend_name()!r}; use sqlite or postgresql"
            )
        return value

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("mlflow_tracking_uri")
    @classmethod
    def _check_mlflow_uri(cls, value: str) -> str:
        if value and not value.startswith(
            ("sqlite:///", "postgresql://", "postgresql+", "http://", "https://")
        ):
            raise ValueError(
                "use sqlite:///PATH, postgresql://..., or http(s):// for a tracking server"
            )
        return value

    @model_validator(mode="after")
    def _derive_defaults(self) -> Settings:
        home = self.pipeline_home.expanduser().resolve()
        self.pipeline_home = home
        if not self.database_url:
            self.database_url = f"sqlite:///{home / 'data' / 'pipeline.db'}"
        if not self.mlflow_tracking_uri:
            self.mlflow_tracking_uri = f"sqlite:///{home / 'mlflow.db'}"
        if not self.mlflow_artifact_root:
            self.mlflow_artifact_root = (home / "mlartifacts").as_uri()
        if not self.redis_prefix:
            digest = hashlib.sha1(str(home).encode()).hexdigest()[:10]
            self.redis_prefix = f"mlpipe:{digest}"
        return self

    # Derived paths: one place decides where state lives.
    @property
    def data_dir(self) -> Path:
        return self.pipeline_home / "data"

    @property
    def log_dir(self) -> Path:
        return self.pipeline_home / "logs"

    @property
    def run_dir(self) -> Path:
        return self.pipeline_home / "run"

    @property
    def model_cache_dir(self) -> Path:
        return self.pipeline_home / "models"

    @property
    def queue_path(self) -> Path:
        """SQLite file of the embedded queue (used when REDIS_URL is unset)."""
        return self.data_dir / "queue.db"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def ensure_dirs(self) -> None:
        for path in (self.data_dir, self.log_dir, self.run_dir, self.model_cache_dir):
            path.mkdir(parents=True, exist_ok=True)


def load_settings(**overrides: object) -> Settings:
    """Build settings from env/.env (+ overrides); raise SettingsError naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "configuration"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"{name}: {message}") from None

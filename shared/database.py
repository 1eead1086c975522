"""Engine factory and table definitions (SQLAlchemy Core) for SQLite and PostgreSQL.

Only mechanisms live here: the engine, the tables, the migration runner and the
write-transaction helper. Queries live with the component that owns each table.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, Engine

from shared.config import Settings

# JSONB on PostgreSQL (indexable, compact), JSON text on SQLite.
JSONType = JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments INTEGER PRIMARY KEY, so BigInteger ids need a variant.
BigId = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _ts(name: str, **kw: Any) -> Column:
    return Column(name, DateTime(timezone=True), **kw)


datasets = Table(
    "datasets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("target", String(200), nullable=False),
    Column("task", String(20), nullable=False),
    Column("schema", JSONType, nullable=False),
    Column("source", Text),
    Column("n_rows", Integer, nullable=False, server_default="0"),
    Column("is_active", Boolean, nullable=False, server_default="0"),
    _ts("created_at", nullable=False),
)

feature_store = Table(
    "feature_store",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("dataset_id", Integer, ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
    Column("entity_id", String(200)),
    _ts("event_time"),
    _ts("ingested_at", nullable=False),
    Column("features", JSONType, nullable=False),
    Column("label", String(200)),
    _ts("label_at"),
    Column("batch_id", String(200)),
    # reference (training data of init), ingested, stream
    Column("split", String(20), nullable=False),
    Index(None, "dataset_id", "ingested_at"),
    Index(None, "dataset_id", "event_time"),
    Index(None, "dataset_id", "entity_id"),
    Index(None, "batch_id"),
)

ingestion_batches = Table(
    "ingestion_batches",
    metadata,
    Column("batch_id", String(200), primary_key=True),
    Column("dataset_id", Integer, ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
    Column("body_hash", String(64), nullable=False),
    Column("source", String(20), nullable=False),
    Column("accepted", Integer, nullable=False),
    Column("rejected", Integer, nullable=False),
    Column("labelled", Integer, nullable=False, server_default="0"),
    Column("result", JSONType, nullable=False),
    _ts("received_at", nullable=False),
    Index(None, "received_at"),
)

predictions = Table(
    "predictions",
    metadata,
    Column("id", String(36), primary_key=True),
    _ts("created_at", nullable=False),
    Column("model_name", String(200), nullable=False),
    Column("model_version", String(20), nullable=False),
    Column("features", JSONType, nullable=False),
    Column("prediction", String(200), nullable=False),
    Column("probabilities", JSONType),
    Column("latency_ms", Float),
    Column("endpoint", String(30)),
    Column("request_id", String(64)),
    Column("shadow_version", String(20)),
    Column("shadow_prediction", String(200)),
    Column("shadow_probabilities", JSONType),
    Column("label", String(200)),
    _ts("label_at"),
    Index(None, "model_name", "created_at"),
    # Labelled rows only (feedback sets label and label_at together), covering what the
    # dashboard counts (right, wrong, shadow) so realised accuracy is an index-only scan;
    # also serves the monitor's "labelled, newest first" windows.
    Index(
        "ix_predictions_labelled",
        "model_name",
        "label_at",
        "model_version",
        "prediction",
        "label",
        "shadow_prediction",
        sqlite_where=text("label IS NOT NULL"),
        postgresql_where=text("label IS NOT NULL"),
    ),
    # No index on created_at alone: every reader filters by model_name first, and a
    # fourth b-tree cost ~15% of every log insert.
)

# Per-minute rollup the prediction service maintains, so dashboards never scan
# the predictions table for rates and percentiles.
prediction_minutes = Table(
    "prediction_minutes",
    metadata,
    Column("model_name", String(200), primary_key=True),
    Column("model_version", String(20), primary_key=True),
    _ts("minute", primary_key=True),
    Column("n", Integer, nullable=False),
    Column("latency_sum_ms", Float, nullable=False),
    # latency histogram bucket counts (bounds in the dashboard code) and class counts
    Column("latency_buckets", JSONType, nullable=False),
    Column("class_counts", JSONType, nullable=False),
    Column("shadow_n", Integer, nullable=False, server_default="0"),
    Column("shadow_agree", Integer, nullable=False, server_default="0"),
    Index(None, "minute"),
)

drift_events = Table(
    "drift_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    _ts("created_at", nullable=False),
    Column("model_name", String(200), nullable=False),
    Column("model_version", String(20), nullable=False),
    _ts("window_start"),
    _ts("window_end"),
    Column("n_current", Integer, nullable=False),
    Column("n_labelled", Integer, nullable=False, server_default="0"),
    Column("dataset_drift", Boolean),
    Column("reason", Text),
    Column("drifted_features", JSONType, nullable=False),
    # per-feature scores {name: effect_size} for the heatmap without parsing reports
    Column("feature_scores", JSONType, nullable=False),
    Column("report", JSONType, nullable=False),
    Column("action", String(40), nullable=False),
    Column("job_id", String(36)),
    Index(None, "model_name", "created_at"),
    Index(None, "created_at"),
)

training_jobs = Table(
    "training_jobs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("model_name", String(200), nullable=False),
    Column("reason", String(40), nullable=False),
    Column("trigger_event_id", BigInteger, ForeignKey("drift_events.id", ondelete="SET NULL")),
    # queued, running, succeeded, failed, dead
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("max_attempts", Integer, nullable=False),
    Column("worker", String(200)),
    _ts("heartbeat_at"),
    _ts("created_at", nullable=False),
    _ts("started_at"),
    _ts("finished_at"),
    Column("champion_version", String(20)),
    Column("model_version", String(20)),
    Column("run_id", String(64)),
    Column("gate_decision", JSONType),
    Column("error", Text),
    Index(None, "model_name", "status"),
    Index(None, "created_at"),
    # At most one queued or running job per model, even with several monitors racing.
    Index(
        "uq_training_jobs_active_model",
        "model_name",
        unique=True,
        sqlite_where=text("status IN ('queued', 'running')"),
        postgresql_where=text("status IN ('queued', 'running')"),
    ),
)

model_registry = Table(
    "model_registry",
    metadata,
    Column("model_name", String(200), primary_key=True),
    Column("version", String(20), primary_key=True),
    Column("run_id", String(64), nullable=False),
    Column("experiment_id", String(64)),
    Column("family", String(60)),
    Column("metrics", JSONType, nullable=False),
    Column("aliases", JSONType, nullable=False),
    Column("job_id", String(36)),
    _ts("created_at", nullable=False),
)

alias_history = Table(
    "alias_history",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("model_name", String(200), nullable=False),
    Column("alias", String(40), nullable=False),
    Column("version", String(20)),
    Column("previous_version", String(20)),
    # promote, rollback, set, delete: rollback replays these to find the previous champion
    Column("action", String(20), nullable=False, server_default="set"),
    Column("reason", Text, nullable=False),
    Column("actor", String(60), nullable=False),
    _ts("created_at", nullable=False),
    Index(None, "model_name", "created_at"),
)


def driver_url(url: str) -> str:
    """SQLAlchemy 2.1 maps plain postgresql:// to psycopg 3; this project ships psycopg2."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg2://" + url.split("://", 1)[1]
    return url


def make_engine(settings: Settings, **kwargs: Any) -> Engine:
    """Engine for the project database, tuned so several processes can share it."""
    url = driver_url(settings.database_url)
    if url.startswith("sqlite"):
        path = url.split("sqlite:///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return create_engine(
        url, pool_pre_ping=True, pool_size=5, max_overflow=10, future=True, **kwargs
    )


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy (not pysqlite) issue BEGIN, so writes can use BEGIN IMMEDIATE.
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    mode = conn.info.pop("sqlite_begin", "BEGIN")
    conn.exec_driver_sql(mode)


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that takes the write lock up front (BEGIN IMMEDIATE on SQLite).

    A deferred SQLite transaction that upgrades to a writer fails at once with
    'database is locked' instead of waiting on the busy timeout.
    """
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.info["sqlite_begin"] = "BEGIN IMMEDIATE"
        with conn.begin():
            yield conn


def ping(engine: Engine) -> None:
    """Raise if the database cannot be reached."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))

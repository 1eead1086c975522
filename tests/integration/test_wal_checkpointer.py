"""The prediction service checkpoints SQLite's WAL on its own thread, not inside commits."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text

from services.prediction_service.wal_checkpointer import WalCheckpointer
from shared.config import Settings
from shared.database import make_engine, write_transaction


def test_commits_leave_the_wal_to_the_checkpointer(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'wal.db'}"
    engine = make_engine(make_settings(database_url=url))
    checkpointer = WalCheckpointer.attach(engine, interval_s=3600)  # driven by hand below
    assert checkpointer is not None
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
    with write_transaction(engine) as conn:
        conn.execute(text("CREATE TABLE t (x TEXT)"))
    for _ in range(4):  # ~500 pages each: an automatic checkpoint would reset the WAL
        with write_transaction(engine) as conn:
            conn.execute(text("INSERT INTO t VALUES (:x)"), [{"x": "y" * 2_000}] * 1_000)
    frames, copied = checkpointer.checkpoint()
    assert frames > 1_500  # every commit appended; none copied the log back
    assert copied == frames
    engine.dispose()


def test_the_thread_checkpoints_and_stops(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'wal.db'}"
    engine = make_engine(make_settings(database_url=url))
    checkpointer = WalCheckpointer.attach(engine, interval_s=0.05)
    assert checkpointer is not None
    with write_transaction(engine) as conn:
        conn.execute(text("CREATE TABLE t (x TEXT)"))
        conn.execute(text("INSERT INTO t VALUES (:x)"), [{"x": "y" * 2_000}] * 1_000)
    checkpointer.start()
    checkpointer.stop()  # at least the final checkpoint ran
    with write_transaction(engine) as conn:
        conn.execute(text("INSERT INTO t VALUES ('z')"))
    frames, _copied = checkpointer.checkpoint()
    assert frames < 50  # the WAL had been copied back, so the write started it afresh
    engine.dispose()


def test_postgresql_keeps_its_own_checkpoints(
    postgres_url: str, make_settings: Callable[..., Settings]
) -> None:
    engine = make_engine(make_settings(database_url=postgres_url))
    assert WalCheckpointer.attach(engine) is None
    engine.dispose()

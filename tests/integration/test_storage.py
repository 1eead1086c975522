"""Storage on both backends (test ids say sqlite or postgresql)."""

import threading
from datetime import UTC, datetime

from sqlalchemy import func, insert, inspect, select
from sqlalchemy.engine import Engine

from shared.database import datasets, metadata, write_transaction
from shared.migrate import current_revision, head_revision, upgrade


def test_migrations_create_every_table_and_are_idempotent(engine: Engine) -> None:
    names = set(inspect(engine).get_table_names())
    assert {t.name for t in metadata.sorted_tables} <= names
    upgrade(engine)  # second run changes nothing
    assert current_revision(engine) == head_revision()
    indexes = {ix["name"] for ix in inspect(engine).get_indexes("predictions")}
    assert "ix_predictions_model_name_created_at" in indexes


def _dataset_row(name: str) -> dict:
    return {
        "name": name,
        "target": "y",
        "task": "binary",
        "schema": {"features": []},
        "created_at": datetime.now(UTC),
    }


def test_json_round_trip(engine: Engine) -> None:
    with write_transaction(engine) as conn:
        conn.execute(
            insert(datasets).values(_dataset_row("a") | {"schema": {"k": [1, "two", None]}})
        )
    with engine.connect() as conn:
        assert conn.execute(select(datasets.c.schema)).scalar_one() == {"k": [1, "two", None]}


def test_concurrent_writers_all_commit(engine: Engine) -> None:
    """Writers in several threads each take the write lock up front and all succeed."""
    errors: list[BaseException] = []

    def write(i: int) -> None:
        try:
            for j in range(5):
                with write_transaction(engine) as conn:
                    conn.execute(insert(datasets).values(_dataset_row(f"d{i}-{j}")))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(datasets)).scalar_one() == 30


def test_failed_transaction_leaves_nothing(engine: Engine) -> None:
    try:
        with write_transaction(engine) as conn:
            conn.execute(insert(datasets).values(_dataset_row("x")))
            conn.execute(insert(datasets).values(_dataset_row("x")))  # unique violation
    except Exception:
        pass
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(datasets)).scalar_one() == 0

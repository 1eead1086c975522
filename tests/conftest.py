"""Shared fixtures: settings per test, real SQLite and PostgreSQL databases, real Redis.

Each test run works in databases and Redis keys of its own: a fresh PostgreSQL
database per test module (dropped afterwards) and a Redis key prefix per run.
Unreachable servers skip the tests locally with a reason; under CI=true they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from shared.config import Settings, load_settings
from shared.database import driver_url, make_engine, metadata
from shared.migrate import upgrade

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RUN_ID = uuid.uuid4().hex[:8]


def unavailable(what: str, error: object) -> None:
    """Skip locally, fail under CI: CI must exercise the real servers."""
    message = f"{what} unreachable: {str(error).splitlines()[0] if str(error) else error!r}"
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (CI=true requires it)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Engine]:
    engine = create_engine(driver_url(TEST_DATABASE_URL), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any connection failure means "not there"
        unavailable("PostgreSQL", exc)
    yield engine
    engine.dispose()


def _create_postgres_database(admin: Engine) -> str:
    name = f"mlpipe_test_{RUN_ID}_{uuid.uuid4().hex[:6]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return admin.url.set(database=name).render_as_string(hide_password=False)


def _drop_postgres_database(admin: Engine, url: str) -> None:
    name = url.rsplit("/", 1)[-1]
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="module")
def postgres_url(postgres_admin: Engine) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test module."""
    url = _create_postgres_database(postgres_admin)
    yield url
    _drop_postgres_database(postgres_admin, url)


@pytest.fixture(scope="module")
def postgres_url_factory(postgres_admin: Engine) -> Iterator[Callable[[], str]]:
    """Make any number of fresh PostgreSQL databases (e.g. one for MLflow's own store)."""
    made: list[str] = []

    def make() -> str:
        made.append(_create_postgres_database(postgres_admin))
        return made[-1]

    yield make
    for url in made:
        _drop_postgres_database(postgres_admin, url)


@pytest.fixture(
    scope="module",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Parametrises a test module over both backends; test ids say which."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'pipeline.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture(scope="module")
def migrated_engine(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    settings = load_settings(
        pipeline_home=tmp_path_factory.mktemp("home"), database_url=database_url
    )
    engine = make_engine(settings)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(migrated_engine: Engine) -> Engine:
    """The module's migrated database, emptied before each test."""
    with migrated_engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
    return migrated_engine


@pytest.fixture(scope="session")
def redis_url() -> str:
    import redis

    client = redis.Redis.from_url(TEST_REDIS_URL)
    try:
        client.ping()
    except Exception as exc:
        unavailable("Redis", exc)
    finally:
        client.close()
    return TEST_REDIS_URL


@pytest.fixture(scope="session")
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this run's own; its keys are deleted at the end."""
    import redis

    prefix = f"mlpipe-test:{RUN_ID}"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings rooted in a temporary PIPELINE_HOME; keyword overrides win."""

    def make(**overrides: object) -> Settings:
        overrides.setdefault("pipeline_home", tmp_path)
        settings = load_settings(**overrides)
        settings.ensure_dirs()
        return settings

    return make

"""What several benchmark scripts share: a scratch database that is removed afterwards.

The scripts run as files (`.venv/bin/python scripts/bench_x.py`), so this module is
importable beside them as `bench_support`.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from shared.database import driver_url


@contextmanager
def scratch_database(backend: str, admin_url: str, *, prefix: str) -> Iterator[str]:
    """A fresh, empty database URL ("sqlite" or "postgresql"), dropped afterwards.

    PostgreSQL databases are created through `admin_url` (any database the user can
    connect to) and named `{prefix}_{random}`.
    """
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix=f"{prefix}-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'pipeline.db'}"
        return
    admin = create_engine(driver_url(admin_url), isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

"""What every page callback needs: the settings, the database engine and a clock.

Built once per app by `create_dash_app`; nothing here connects at import time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.engine import Connection, Engine

from dashboards.closed_buckets import ClosedBuckets
from dashboards.history import ModelHistory
from dashboards.time_range import Window
from shared.config import Settings
from shared.database import make_engine

# A dashboard must answer quickly even when the database does not.
POSTGRES_CONNECT_TIMEOUT_SECONDS = 2


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class DashboardContext:
    settings: Settings
    engine: Engine
    clock: Callable[[], datetime] = field(default=_utc_now)
    buckets: ClosedBuckets = field(default_factory=ClosedBuckets)

    def now(self) -> datetime:
        return self.clock()

    def history(self, conn: Connection, model_name: str, window: Window) -> ModelHistory:
        """The model's per-bucket history over the window (final buckets memoised)."""
        return ModelHistory(self.buckets, conn, model_name, window, self.now())

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name


def make_context(
    settings: Settings, clock: Callable[[], datetime] | None = None
) -> DashboardContext:
    """Context with an engine that fails fast when PostgreSQL is unreachable."""
    kwargs: dict[str, object] = {}
    if not settings.is_sqlite:
        kwargs["connect_args"] = {"connect_timeout": POSTGRES_CONNECT_TIMEOUT_SECONDS}
    engine = make_engine(settings, **kwargs)
    return DashboardContext(settings, engine, clock or _utc_now)

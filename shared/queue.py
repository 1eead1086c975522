"""The task queue: huey on Redis when REDIS_URL is set, on a SQLite file otherwise.

Why huey: it has both a Redis and a SQLite storage (the default install needs
no server), a consumer whose graceful signal can be SIGTERM, and small, readable
code. What it does not do is redeliver a task whose consumer was killed: the
`training_jobs` table is the source of truth for job state and the drift monitor
re-sends jobs whose lease expired (see docs/LOOP.md). Messages therefore carry
only a job id, and duplicates are harmless.

Built by `make_huey(settings)`; nothing connects at import time.
"""

from __future__ import annotations

from typing import Any

from huey import RedisHuey, SqliteHuey
from huey.api import Huey
from huey.storage import RedisStorage

from shared.config import Settings
from shared.redis_client import make_connection_pool, redis_key

QUEUE_NAME = "training"
# How long a blocking Redis read waits before the consumer re-checks its stop flag.
REDIS_READ_TIMEOUT_SECONDS = 1
# Busy timeout of the SQLite queue file: several processes enqueue and dequeue.
SQLITE_TIMEOUT_SECONDS = 30


class PrefixedRedisStorage(RedisStorage):
    """huey's Redis storage with every key under the instance's REDIS_PREFIX.

    Stock huey names its keys `huey.redis.<name>` (and strips `:` from the name),
    which would put two instances sharing a Redis on one queue.
    """

    def __init__(self, name: str = QUEUE_NAME, *, key_prefix: str, **kwargs: Any) -> None:
        super().__init__(name, clean_name=False, **kwargs)
        base = f"{key_prefix}:{name}"
        self.queue_key = f"{base}:queue"
        self.schedule_key = f"{base}:schedule"
        self.result_key = f"{base}:results"
        self.counter_key = f"{base}:counters"
        self.notify_prefix = f"{base}:notify:"


class PrefixedRedisHuey(RedisHuey):
    storage_class = PrefixedRedisStorage


def queue_backend(settings: Settings) -> str:
    """ "redis" or "sqlite": which storage `make_huey` picks for these settings."""
    return "redis" if settings.redis_url else "sqlite"


def make_huey(settings: Settings, *, name: str = QUEUE_NAME) -> Huey:
    """A huey instance for this pipeline instance (no tasks registered yet).

    Results are not stored: callers read outcomes from the `training_jobs` table.
    """
    if settings.redis_url:
        return PrefixedRedisHuey(
            name,
            results=False,
            utc=True,
            key_prefix=redis_key(settings, "huey"),
            connection_pool=make_connection_pool(settings),
            blocking=True,
            read_timeout=REDIS_READ_TIMEOUT_SECONDS,
        )
    settings.queue_path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(
        name,
        results=False,
        utc=True,
        filename=str(settings.queue_path),
        timeout=SQLITE_TIMEOUT_SECONDS,
    )


def queue_depth(huey: Huey) -> int:
    """Messages waiting to be taken by a worker (not counting the ones running)."""
    return int(huey.pending_count())

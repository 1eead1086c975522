"""Redis connections built from settings, and the one rule for naming keys.

Every key of an instance lives under `settings.redis_prefix`, so several
instances can share one Redis server without seeing each other's data.
"""

from __future__ import annotations

from typing import Any

from shared.config import Settings
from shared.errors import ServiceUnavailable

# Short timeouts: a Redis that is down must make callers fail fast, not hang.
CONNECT_TIMEOUT_SECONDS = 2.0
SOCKET_TIMEOUT_SECONDS = 5.0


class RedisNotConfigured(ServiceUnavailable):
    """A Redis connection was asked for while REDIS_URL is unset."""

    code = "redis_not_configured"


def redis_key(settings: Settings, *parts: str) -> str:
    """`<REDIS_PREFIX>:part:part...`: the only way this project names a Redis key."""
    return ":".join((settings.redis_prefix, *parts))


def make_redis(settings: Settings, **options: Any) -> Any:
    """A client for REDIS_URL (a `redis.Redis`); keyword options override the defaults."""
    if not settings.redis_url:
        raise RedisNotConfigured("REDIS_URL is not set")
    import redis  # imported here: the default install never needs a Redis client

    options.setdefault("socket_connect_timeout", CONNECT_TIMEOUT_SECONDS)
    options.setdefault("socket_timeout", SOCKET_TIMEOUT_SECONDS)
    options.setdefault("health_check_interval", 30)
    return redis.Redis.from_url(settings.redis_url, **options)


def make_connection_pool(settings: Settings, **options: Any) -> Any:
    """A connection pool for REDIS_URL, for libraries that take a pool (huey)."""
    if not settings.redis_url:
        raise RedisNotConfigured("REDIS_URL is not set")
    import redis

    options.setdefault("socket_connect_timeout", CONNECT_TIMEOUT_SECONDS)
    options.setdefault("health_check_interval", 30)
    return redis.ConnectionPool.from_url(settings.redis_url, **options)

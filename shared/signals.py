"""The model-changed signal: tells every prediction-service replica that an alias moved.

Published on the Redis pub/sub channel `{REDIS_PREFIX}:model-changed` when
REDIS_URL is set, and a no-op otherwise. Pub/sub keeps nothing for a subscriber
that is not connected at that moment, so the signal only makes a reload fast;
replicas also poll the registry, which is what makes it certain.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.config import Settings

log = logging.getLogger(__name__)
CHANNEL_SUFFIX = "model-changed"


@dataclass(frozen=True)
class ModelChanged:
    """One alias move: `version` is None when the alias was removed."""

    model_name: str
    version: str | None
    alias: str = "champion"


def model_changed_channel(settings: Settings) -> str:
    return f"{settings.redis_prefix}:{CHANNEL_SUFFIX}"


def publish_model_changed(
    settings: Settings, model_name: str, version: str | None, *, alias: str = "champion"
) -> int:
    """Announce that `alias` of `model_name` now points at `version`.

    Returns how many subscribers received it (0 without Redis). Never raises:
    a promotion must not fail because Redis is away; replicas poll anyway.
    """
    if not settings.redis_url:
        return 0
    import redis

    message = json.dumps({"model_name": model_name, "version": version, "alias": alias})
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=5)
    try:
        return int(client.publish(model_changed_channel(settings), message))  # type: ignore[arg-type]
    except redis.RedisError as exc:
        log.warning("model-changed signal not sent (%s); replicas will notice by polling", exc)
        return 0
    finally:
        client.close()


class ModelChangedSubscriber:
    """A daemon thread that calls `on_change` for every signal; reconnects when Redis drops."""

    def __init__(
        self,
        settings: Settings,
        on_change: Callable[[ModelChanged], None],
        *,
        reconnect_seconds: float = 1.0,
    ) -> None:
        if not settings.redis_url:
            raise ValueError("ModelChangedSubscriber needs REDIS_URL")
        self._url = settings.redis_url
        self._channel = model_changed_channel(settings)
        self._on_change = on_change
        self._reconnect_seconds = reconnect_seconds
        self._stop = threading.Event()
        self._subscribed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="model-changed", daemon=True)

    def start(self) -> ModelChangedSubscriber:
        self._thread.start()
        return self

    def wait_subscribed(self, timeout: float) -> bool:
        """True once the channel subscription is active (tests publish only after it)."""
        return self._subscribed.wait(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        import redis

        while not self._stop.is_set():
            client = redis.Redis.from_url(self._url, socket_connect_timeout=5)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(self._channel)
                self._subscribed.set()
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=0.5)
                    if message is not None:
                        self._deliver(message)
            except redis.RedisError as exc:
                log.warning("model-changed subscription lost (%s); retrying", exc)
                self._subscribed.clear()
                self._stop.wait(self._reconnect_seconds)
            finally:
                pubsub.close()
                client.close()

    def _deliver(self, message: dict[str, Any]) -> None:
        try:
            body = json.loads(message["data"])
            event = ModelChanged(
                str(body["model_name"]), body.get("version"), body.get("alias", "champion")
            )
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring a malformed model-changed message")
            return
        try:
            self._on_change(event)
        except Exception:  # a failing handler must not end the subscription
            log.exception("model-changed handler failed")


def subscribe_model_changed(
    settings: Settings, on_change: Callable[[ModelChanged], None]
) -> ModelChangedSubscriber | None:
    """Start listening for model-changed signals; None when REDIS_URL is unset."""
    if not settings.redis_url:
        return None
    return ModelChangedSubscriber(settings, on_change).start()

"""Is each process of this instance up? HTTP pings and pid files, all with short timeouts."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psutil
import requests

from shared.config import Settings

PROBE_TIMEOUT_SECONDS = 0.3
UP, DOWN = "up", "down"


@dataclass(frozen=True)
class ServiceHealth:
    name: str
    status: str
    detail: str

    @property
    def up(self) -> bool:
        return self.status == UP


def probe_http(name: str, url: str) -> ServiceHealth:
    """Up when GET url answers 2xx within the probe timeout."""
    try:
        response = requests.get(url, timeout=PROBE_TIMEOUT_SECONDS)
    except requests.RequestException as exc:
        reason = "timed out" if isinstance(exc, requests.Timeout) else "not answering"
        return ServiceHealth(name, DOWN, f"{url} {reason}")
    if response.ok:
        return ServiceHealth(name, UP, url)
    return ServiceHealth(name, DOWN, f"{url} answered {response.status_code}")


def probe_pid_file(name: str, path: Path) -> ServiceHealth:
    """Up when the pid file names a live (non-zombie) process."""
    try:
        pid = int(path.read_text().strip())
    except FileNotFoundError:
        return ServiceHealth(name, DOWN, f"not started (no {path.name})")
    except (OSError, ValueError):
        return ServiceHealth(name, DOWN, f"unreadable {path.name}")
    try:
        alive = psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        alive = False
    if alive:
        return ServiceHealth(name, UP, f"pid {pid}")
    return ServiceHealth(name, DOWN, f"pid {pid} is gone (stale {path.name})")


def probe_redis(url: str) -> ServiceHealth:
    import redis

    client = redis.Redis.from_url(
        url, socket_timeout=PROBE_TIMEOUT_SECONDS, socket_connect_timeout=PROBE_TIMEOUT_SECONDS
    )
    try:
        client.ping()
    except redis.RedisError as exc:
        return ServiceHealth("Redis queue", DOWN, str(exc).splitlines()[0])
    finally:
        client.close()
    return ServiceHealth("Redis queue", UP, "ping ok")


def instance_health(settings: Settings) -> list[ServiceHealth]:
    """Every process of the instance, probed in parallel (worst case one timeout)."""
    host = "127.0.0.1" if settings.host in WILDCARD_HOSTS else settings.host
    base = f"http://{host}"
    http = [
        ("Ingestion API", f"{base}:{settings.ingestion_api_port}/health"),
        ("Prediction service", f"{base}:{settings.prediction_service_port}/health"),
        ("MLflow UI", f"{base}:{settings.mlflow_ui_port}/health"),
    ]
    pid_files = [
        ("Drift monitor", settings.run_dir / "drift_monitor.pid"),
        ("Retraining worker", settings.run_dir / "retraining_worker.pid"),
    ]
    with ThreadPoolExecutor(max_workers=len(http) + 1) as pool:
        futures = [pool.submit(probe_http, name, url) for name, url in http]
        if settings.redis_url:
            futures.append(pool.submit(probe_redis, settings.redis_url))
        results = [future.result() for future in futures]
    return results[:2] + [probe_pid_file(n, p) for n, p in pid_files] + results[2:]


WILDCARD_HOSTS = ("0.0.0.0", "::", "")


def browser_host(settings: Settings) -> str:
    """The host a browser should use for links: HOST, or this page's host when HOST binds all."""
    if settings.host not in WILDCARD_HOSTS:
        return settings.host
    from flask import has_request_context, request

    return request.host.rsplit(":", 1)[0] if has_request_context() else "127.0.0.1"


def mlflow_ui_url(settings: Settings) -> str:
    return f"http://{browser_host(settings)}:{settings.mlflow_ui_port}"


def mlflow_run_url(settings: Settings, experiment_id: str | None, run_id: str) -> str | None:
    """Link to a run in the MLflow UI (None without an experiment id)."""
    if not experiment_id:
        return None
    return f"{mlflow_ui_url(settings)}/#/experiments/{experiment_id}/runs/{run_id}"

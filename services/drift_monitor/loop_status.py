"""`mlpipe status`: services, champion and challenger, queue depth, the last jobs and drift events."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psutil
import requests
from sqlalchemy.engine import Engine

from ml.feature_store import active_dataset
from registry import CHALLENGER, CHAMPION, ModelRegistry
from services.drift_monitor.events import DriftEventRepository
from services.retraining_worker.jobs import JobRepository
from shared.config import Settings
from shared.errors import NoActiveModel
from shared.queue import make_huey, queue_backend, queue_depth

PROBE_TIMEOUT_SECONDS = 0.5
LOOP_PROCESSES = ("drift_monitor", "retraining_worker")  # pid files written by run_all_services.sh
JOB_FIELDS = ("id", "status", "reason", "attempts", "created_at", "finished_at",
              "champion_version", "model_version", "error")  # fmt: skip


def loop_status(
    settings: Settings, engine: Engine, registry: ModelRegistry, *, jobs_shown: int = 5
) -> dict[str, Any]:
    with ThreadPoolExecutor(max_workers=3) as pool:  # probes wait on the network, not the CPU
        services = pool.submit(service_status, settings)
        status: dict[str, Any] = {"model": _model(settings, engine, registry)}
        status["services"] = services.result()
    name = status["model"]["name"] if status["model"] else None
    jobs = JobRepository(engine)
    by_status = jobs.count_by_status(name)
    status["queue"] = {
        "backend": queue_backend(settings),
        "depth": by_status.get("queued", 0),  # jobs waiting for a worker (the table decides)
        "messages": _messages(settings),  # what the transport holds (duplicates are harmless)
        "jobs_by_status": by_status,
    }
    status["jobs"] = [
        {key: value for key, value in job.to_dict().items() if key in JOB_FIELDS}
        | {"gate": (job.gate_decision or {}).get("reason")}
        for job in jobs.latest(name, limit=jobs_shown)
    ]
    event = DriftEventRepository(engine).latest(name, limit=1) if name else []
    status["last_drift_event"] = (
        {
            "at": event[0].created_at.isoformat(),
            "version": event[0].model_version,
            "dataset_drift": event[0].dataset_drift,
            "action": event[0].action,
            "reason": event[0].reason,
            "job_id": event[0].job_id,
        }
        if event
        else None
    )
    return status


def _model(settings: Settings, engine: Engine, registry: ModelRegistry) -> dict[str, Any] | None:
    try:
        name = active_dataset(engine, settings).name
    except NoActiveModel:
        return None
    model: dict[str, Any] = {"name": name}
    for alias in (CHAMPION, CHALLENGER):
        version = registry.version_for_alias(name, alias)
        if version is None:
            model[alias] = None
            continue
        info = registry.get_version(name, version)
        model[alias] = {
            "version": version,
            "family": info.family,
            "metrics": {
                k: v for k, v in info.metrics.items() if k in ("roc_auc", "f1", "accuracy")
            },
            "registered_at": info.created_at.isoformat(),
        }
    return model


def _messages(settings: Settings) -> int | None:
    try:
        return queue_depth(make_huey(settings))
    except Exception:  # the queue's Redis is down: say so instead of failing the whole status
        return None


def service_status(settings: Settings) -> dict[str, dict[str, Any]]:
    """HTTP health of the two APIs and pid-file liveness of the loop processes."""
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    urls = {
        "ingestion_api": f"http://{host}:{settings.ingestion_api_port}/health",
        "prediction_service": f"http://{host}:{settings.prediction_service_port}/health",
    }
    with ThreadPoolExecutor(max_workers=len(urls)) as pool:
        answers = dict(zip(urls, pool.map(_probe_http, urls.values()), strict=True))
    services = {name: {"url": urls[name], "up": up} for name, up in answers.items()}
    for name in LOOP_PROCESSES:
        pid = _pid(settings, name)
        services[name] = {"pid": pid, "up": pid is not None}
    return services


def _probe_http(url: str) -> bool:
    try:
        return requests.get(url, timeout=PROBE_TIMEOUT_SECONDS).ok
    except requests.RequestException:
        return False


def _pid(settings: Settings, name: str) -> int | None:
    """The live pid in run/<name>.pid, or None (no file, stale file, zombie)."""
    try:
        pid = int((settings.run_dir / f"{name}.pid").read_text().strip())
        return pid if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE else None
    except (OSError, ValueError, psutil.Error):
        return None

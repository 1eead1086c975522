"""The prediction service as it runs in production: gunicorn, several workers, multiprocess
metrics. SIGKILL in the middle of traffic loses no answered prediction; every worker
follows an alias move; /metrics counts across workers."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from sqlalchemy.engine import Engine

from registry import CHAMPION
from shared.config import Settings
from shared.database import make_engine
from shared.migrate import upgrade
from tests.e2e.processes import REPO, free_port, instance_env
from tests.integration.ingestion_support import metric_value
from tests.integration.prediction_support import (
    init_model,
    logged_ids,
    move_alias,
    register,
    sample_records,
    service_settings,
    trained,
    wait_until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
RECORDS = sample_records(16, seed=51)


@dataclass
class Instance:
    settings: Settings
    engine: Engine
    versions: dict[str, str]


@dataclass
class Server:
    url: str
    process: subprocess.Popen

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instance]:
    home = tmp_path_factory.mktemp("home")
    settings = service_settings(home, f"sqlite:///{home / 'data' / 'pipeline.db'}")
    engine = make_engine(settings)
    upgrade(engine)
    versions = {
        "lr": init_model(settings, engine, trained()),
        "forest": register(settings, engine, trained("random_forest")),
    }
    yield Instance(settings, engine, versions)
    engine.dispose()


@pytest.fixture
def start_server(instance: Instance, tmp_path: Path) -> Iterator:
    started: list[Server] = []

    def start(workers: int = 2, threads: int = 4) -> Server:
        prometheus = tmp_path / f"prometheus-{len(started)}"
        prometheus.mkdir()
        port = free_port()
        env = instance_env(
            instance.settings.pipeline_home,
            DATABASE_URL=instance.settings.database_url,
            MLFLOW_TRACKING_URI=instance.settings.mlflow_tracking_uri,
            PROMETHEUS_MULTIPROC_DIR=str(prometheus),
            RELOAD_POLL_SECONDS="0.5",
        )
        command = [
            str(REPO / ".venv" / "bin" / "gunicorn"),
            "-c",
            "python:shared.gunicorn_conf",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "services.prediction_service.app:create_wsgi_app()",
        ]
        log = open(tmp_path / f"gunicorn-{len(started)}.log", "w")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        server = Server(f"http://127.0.0.1:{port}", process)
        started.append(server)
        assert wait_until(lambda: _all_workers_serving(server.url, workers), 120), (
            tmp_path / "gunicorn-0.log"
        ).read_text()[-3000:]
        return server

    yield start
    for server in started:
        if server.process.poll() is None:
            server.kill()


def _all_workers_serving(url: str, workers: int) -> bool:
    """Every worker has loaded its champion (each loads its own; one /ready speaks for one)."""
    try:
        metrics = requests.get(f"{url}/metrics", timeout=5).text
    except requests.RequestException:
        return False
    return metric_value(metrics, "prediction_service_model_in_service", alias="champion") >= workers


def test_sigkill_mid_traffic_loses_no_answered_prediction(instance: Instance, start_server) -> None:
    server = start_server()
    answered: list[str] = []
    stop = threading.Event()

    def client(i: int) -> None:
        with requests.Session() as session:
            while not stop.is_set():
                try:
                    r = session.post(
                        f"{server.url}/predict", json={"records": RECORDS[i : i + 3]}, timeout=30
                    )
                except requests.RequestException:
                    return  # the server is gone
                if r.status_code == 200:
                    answered.extend(p["prediction_id"] for p in r.json()["predictions"])

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    assert wait_until(lambda: len(answered) >= 600, 120)
    server.kill()  # every process of the group, no chance to flush anything
    stop.set()
    for t in threads:
        t.join()
    missing = set(answered) - logged_ids(instance.engine)
    assert len(answered) >= 600 and not missing


def test_workers_follow_the_alias_and_metrics_add_up_across_them(
    instance: Instance, start_server
) -> None:
    move_alias(instance.settings, instance.engine, CHAMPION, instance.versions["lr"])
    server = start_server(workers=2, threads=4)
    with requests.Session() as session:
        for _ in range(40):
            assert (
                session.post(
                    f"{server.url}/predict", json={"records": RECORDS[:2]}, timeout=30
                ).status_code
                == 200
            )
    metrics = requests.get(f"{server.url}/metrics").text
    served = metric_value(
        metrics,
        "prediction_service_request_seconds_count",
        endpoint="/predict",
        model_version=instance.versions["lr"],
    )
    assert served == 40  # whichever worker answered, /metrics has all of them
    in_service = metric_value(
        metrics,
        "prediction_service_model_in_service",
        alias="champion",
        model_version=instance.versions["lr"],
    )
    assert in_service == 2  # one per worker

    move_alias(instance.settings, instance.engine, CHAMPION, instance.versions["forest"])

    def in_service(version: str) -> float:
        metrics = requests.get(f"{server.url}/metrics", timeout=10).text
        return metric_value(
            metrics, "prediction_service_model_in_service", alias="champion", model_version=version
        )

    # Every worker swaps (the gauge is summed over workers), and none keeps the old one.
    assert wait_until(lambda: in_service(instance.versions["forest"]) == 2, 60)
    assert in_service(instance.versions["lr"]) == 0
    for _ in range(10):
        answer = requests.post(f"{server.url}/predict", json={"records": RECORDS[:1]}, timeout=30)
        assert answer.json()["model"]["version"] == instance.versions["forest"]
    server.process.send_signal(signal.SIGTERM)  # graceful stop commits what is queued
    assert server.process.wait(timeout=60) == 0

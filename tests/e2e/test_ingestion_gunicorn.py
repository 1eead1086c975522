"""The Ingestion API as it is deployed: gunicorn, two workers with threads,
Prometheus multiprocess mode, migrated by `mlpipe db upgrade`, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from ml.feature_store.datasets import create_dataset
from shared.config import load_settings
from shared.database import make_engine, write_transaction
from tests.e2e.processes import REPO, free_port
from tests.integration.ingestion_support import (
    lung_schema,
    metric_value,
    sample_csv,
    sample_records,
    stored_counts,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]
BIN = Path(sys.executable).parent
APP = "services.ingestion_api.app:create_wsgi_app()"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'pipeline.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def api(database: str, tmp_path: Path) -> Iterator[tuple[str, object]]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "API_KEY", "MODEL_NAME")}
    env |= {
        "PIPELINE_HOME": str(tmp_path),
        "DATABASE_URL": database,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
    }
    (tmp_path / "prometheus").mkdir()
    upgraded = subprocess.run(
        [str(BIN / "mlpipe"), "db", "upgrade"], env=env, capture_output=True, text=True, timeout=120
    )
    assert upgraded.returncode == 0, upgraded.stderr
    engine = make_engine(load_settings(pipeline_home=tmp_path, database_url=database))
    with write_transaction(engine) as conn:
        create_dataset(conn, name="lung", schema=lung_schema(), source="e2e")
    port = free_port()
    command = [
        str(BIN / "gunicorn"), "-c", "python:shared.gunicorn_conf", "--bind", f"127.0.0.1:{port}",
        "--workers", "2", "--threads", "4", "--no-control-socket", APP,
    ]  # fmt: skip
    log = (tmp_path / "gunicorn.log").open("w")
    process = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, process)
        yield base, engine
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        exit_code = process.wait(timeout=60)
        log.close()
        engine.dispose()
    assert exit_code == 0, (tmp_path / "gunicorn.log").read_text()[-2000:]


def _wait_ready(base: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "gunicorn exited during start-up"
        try:
            if requests.get(f"{base}/ready", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    pytest.fail("the Ingestion API did not become ready in 60 s")


def _concurrently(count: int, send) -> list[requests.Response]:
    barrier, answers = threading.Barrier(count), []

    def run(i: int) -> None:
        barrier.wait()
        answers.append(send(i))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_ingestion_under_gunicorn(api) -> None:
    base, engine = api
    headers = {"Content-Type": "text/csv", "Connection": "close"}
    first = requests.post(
        f"{base}/ingest/csv?batch_id=csv-1", data=sample_csv(3_000), headers=headers, timeout=120
    )
    again = requests.post(
        f"{base}/ingest/csv?batch_id=csv-1", data=sample_csv(3_000), headers=headers, timeout=120
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json() and first.json()["accepted"] == 3_000

    # The same batch from 8 clients at once, spread over both workers: stored once.
    body = {"batch_id": "race", "records": sample_records(1_000, seed=3)}
    raced = _concurrently(
        8, lambda _i: requests.post(f"{base}/ingest/batch", json=body, timeout=120)
    )
    assert sorted(r.status_code for r in raced) == [200] * 7 + [201]

    records = sample_records(40, seed=4)
    streamed = _concurrently(
        40,
        lambda i: requests.post(f"{base}/ingest/stream", json={"record": records[i]}, timeout=60),
    )
    assert {r.status_code for r in streamed} == {202}
    assert stored_counts(engine)[0] == 3_000 + 1_000 + 40

    # Counted once per row whichever worker served the request (multiprocess mode).
    text = requests.get(f"{base}/metrics", timeout=10).text
    assert metric_value(text, "ingestion_rows_total", outcome="accepted") == 4_040
    posts = metric_value(text, "ingestion_api_http_requests_total", method="POST")
    assert posts == 2 + 8 + 40

    stats = requests.get(f"{base}/stats", timeout=10).json()
    assert (
        stats["feature_store"]["rows"] == 4_040
        and stats["batches"]["by_source"]["csv"]["batches"] == 1
    )
    assert requests.get(f"{base}/docs", timeout=10).status_code == 200

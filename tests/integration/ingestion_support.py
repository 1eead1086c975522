"""Helpers of the Ingestion API tests: a real HTTP server in a thread, sample data,
and counts that show whether the database changed."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from flask import Flask
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from werkzeug.serving import make_server

from ml.data.sample import make_dataset
from ml.feature_store.datasets import Dataset, create_dataset
from ml.schema import DatasetSchema, infer_schema
from shared.config import Settings, load_settings
from shared.database import feature_store, ingestion_batches, write_transaction


@cache
def lung_schema() -> DatasetSchema:
    return infer_schema(make_dataset(400, seed=7), "Recovered")[0]


def create_lung_dataset(engine: Engine, name: str = "lung") -> Dataset:
    with write_transaction(engine) as conn:
        return create_dataset(conn, name=name, schema=lung_schema(), source="tests")


def sample_records(rows: int, seed: int = 11, *, labelled: bool = True) -> list[dict[str, Any]]:
    """JSON-ready sample records (missing values as null)."""
    frame = make_dataset(rows, seed=seed)
    if not labelled:
        frame = frame.drop(columns="Recovered")
    return json.loads(frame.to_json(orient="records"))


def sample_csv(rows: int, seed: int = 11) -> str:
    return make_dataset(rows, seed=seed).to_csv(index=False, lineterminator="\n")


def stored_counts(engine: Engine) -> tuple[int, int]:
    """(feature rows, ingestion batches): equal before and after means nothing was stored."""
    with engine.connect() as conn:
        rows = conn.execute(select(func.count()).select_from(feature_store)).scalar_one()
        batches = conn.execute(select(func.count()).select_from(ingestion_batches)).scalar_one()
    return int(rows), int(batches)


@contextmanager
def serve(app: Flask, host: str = "127.0.0.1") -> Iterator[str]:
    """Run `app` on a real HTTP server (threaded werkzeug) on a free port; yield its URL."""
    server = make_server(host, 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def non_loopback_address() -> str | None:
    """An address of this machine that is not loopback (clients from it are 'remote')."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("203.0.113.1", 9))  # no packet is sent: this only picks a route
        address = probe.getsockname()[0]
    except OSError:
        return None
    finally:
        probe.close()
    return None if address.startswith("127.") else address


def app_settings(home: Path, database_url: str, **overrides: Any) -> Settings:
    """Settings that ignore the developer's environment for what the tests depend on."""
    values: dict[str, Any] = {
        "pipeline_home": home,
        "database_url": database_url,
        "redis_url": None,
        "api_key": None,
        "model_name": None,
    }
    settings = load_settings(**(values | overrides))
    settings.ensure_dirs()
    return settings


def metric_value(exposition: str, name: str, **labels: str) -> float:
    """Sum of the samples called `name` whose labels include `labels` (0 when none)."""
    total = 0.0
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == name and labels.items() <= sample.labels.items():
                total += sample.value
    return total

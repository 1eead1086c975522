"""Ingestion throughput through the real API, against PostgreSQL COPY as the floor.

    .venv/bin/python scripts/bench_ingest.py [--rows 100000] [--repeat 3]

For each backend (a fresh PostgreSQL database, a fresh SQLite file) it starts
the Ingestion API under gunicorn, sends the same sample rows through
/ingest/csv and /ingest/batch (in chunks the endpoint accepts) and, on
PostgreSQL, COPYs the same rows into the feature_store table through psycopg2.
The paths take turns in every round and the table is emptied before each
measurement. Prints median rows/s, each path's ratio to COPY (median of the
per-round ratios; other backends against the median COPY rate) and the rounds.
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import requests
from bench_support import scratch_database
from sqlalchemy import text
from sqlalchemy.engine import Engine

from ml.data.sample import make_dataset
from ml.feature_store.datasets import create_dataset
from ml.schema import infer_schema
from shared.config import load_settings
from shared.database import make_engine, write_transaction
from shared.migrate import upgrade

REPO = Path(__file__).resolve().parents[1]
APP = "services.ingestion_api.app:create_wsgi_app()"


FLOOR = "COPY (floor)"


def main() -> None:
    args = parse_args()
    frame = make_dataset(args.rows, seed=2024)
    print(f"{args.rows:,} rows, {args.repeat} rounds, gunicorn {args.workers}x{args.threads}")
    rates: dict[str, list[float]] = defaultdict(list)
    for backend in args.backends.split(","):
        with (
            scratch_database(backend, args.admin_url, prefix="mlpipe_bench_ingest") as url,
            tempfile.TemporaryDirectory() as home,
        ):
            engine, dataset_id = prepare(url, Path(home))
            with api_server(Path(home), url, args.workers, args.threads) as base:
                runs = senders(base, frame, args.chunk)
                if backend == "postgresql":
                    runs[FLOOR] = copy_floor(engine, dataset_id, frame)
                # Rounds interleave the paths, so a burst of load from elsewhere on the
                # machine hits all of them alike instead of one path's repeats.
                for _ in range(args.repeat):
                    for path, run in runs.items():
                        empty_tables(engine)
                        rates[f"{backend} {path}"].append(args.rows / run())
            engine.dispose()
    report(rates)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=100_000, help="records per request")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--backends", default="postgresql,sqlite")
    parser.add_argument(
        "--admin-url",
        default=os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
        help="PostgreSQL URL used only to create and drop the benchmark database",
    )
    return parser.parse_args()


def prepare(url: str, home: Path) -> tuple[Engine, int]:
    """Migrate and register the sample data set's schema (what `mlpipe init` stores)."""
    engine = make_engine(load_settings(pipeline_home=home, database_url=url))
    upgrade(engine)
    schema = infer_schema(make_dataset(2_000, seed=1), "Recovered")[0]
    with write_transaction(engine) as conn:
        dataset = create_dataset(conn, name="bench", schema=schema, source="bench_ingest")
    return engine, dataset.id


@contextmanager
def api_server(home: Path, url: str, workers: int, threads: int) -> Iterator[str]:
    port = free_port()
    prometheus = home / "prometheus"
    prometheus.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "API_KEY", "MODEL_NAME")}
    env |= {
        "PIPELINE_HOME": str(home),
        "DATABASE_URL": url,
        "PROMETHEUS_MULTIPROC_DIR": str(prometheus),
        "LOG_LEVEL": "WARNING",
    }
    command = [
        str(Path(sys.executable).with_name("gunicorn")), "-c", "python:shared.gunicorn_conf",
        "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads", str(threads),
        "--log-level", "warning", "--no-control-socket", APP,
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=REPO, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(base, process)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)


def wait_until_ready(base: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}")
        try:
            if requests.get(f"{base}/ready", timeout=5).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or still importing
            pass
        time.sleep(0.2)
    raise SystemExit("the Ingestion API did not become ready")


def senders(base: str, frame: pd.DataFrame, chunk: int) -> dict[str, Callable[[], float]]:
    """Bodies are built before timing; a sender posts all of them and returns the seconds.

    Every request carries a batch_id, as an idempotent client's would (it costs the
    server a content hash); the tables are emptied between runs, so ids can repeat.
    """
    parts = [frame.iloc[i : i + chunk] for i in range(0, len(frame), chunk)]
    csv_requests = [
        (f"/ingest/csv?batch_id=csv-{i}", part.to_csv(index=False).encode())
        for i, part in enumerate(parts)
    ]
    json_requests = [
        (
            "/ingest/batch",
            f'{{"batch_id": "batch-{i}", "records": '.encode()
            + part.to_json(orient="records", double_precision=15).encode()
            + b"}",
        )
        for i, part in enumerate(parts)
    ]

    def post_all(requests_: list[tuple[str, bytes]], content_type: str) -> float:
        started = time.perf_counter()
        for path, body in requests_:
            r = requests.post(
                f"{base}{path}",
                data=body,
                # Connection: close, so no idle keep-alive holds a worker at shutdown.
                headers={"Content-Type": content_type, "Connection": "close"},
                timeout=600,
            )
            if r.status_code != 201 or r.json()["rejected"]:
                raise SystemExit(f"{path}: {r.status_code} {r.text[:300]}")
        return time.perf_counter() - started

    return {
        "/ingest/csv": lambda: post_all(csv_requests, "text/csv"),
        "/ingest/batch": lambda: post_all(json_requests, "application/json"),
    }


def copy_floor(engine: Engine, dataset_id: int, frame: pd.DataFrame) -> Callable[[], float]:
    """The floor: the same rows in COPY text format, straight into feature_store.

    The text is built once, outside the timing: the floor is the database's own speed.
    """
    features = frame.drop(columns="Recovered")
    lines = features.to_json(orient="records", lines=True, double_precision=15).splitlines()
    now = datetime.now(UTC).isoformat()
    text_rows = "".join(
        f"{dataset_id}\t{line.replace(chr(92), chr(92) * 2)}\t{label}\t{now}\t{now}\tcopy\tingested\n"
        for line, label in zip(lines, frame["Recovered"], strict=True)
    )

    def copy() -> float:
        raw = engine.raw_connection()
        try:
            started = time.perf_counter()
            cursor = raw.cursor()
            cursor.copy_expert(  # type: ignore[attr-defined]
                "COPY feature_store (dataset_id, features, label, label_at, ingested_at,"
                " batch_id, split) FROM STDIN",
                io.StringIO(text_rows),
            )
            cursor.close()
            raw.commit()
            return time.perf_counter() - started
        finally:
            raw.close()

    return copy


def empty_tables(engine: Engine) -> None:
    """TRUNCATE on PostgreSQL, so dead rows and index bloat do not carry over."""
    with write_transaction(engine) as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE feature_store, ingestion_batches"))
        else:
            conn.execute(text("DELETE FROM feature_store"))
            conn.execute(text("DELETE FROM ingestion_batches"))


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def report(rates: dict[str, list[float]]) -> None:
    """Median rows/s per path; ratio to COPY as the median of the per-round ratios."""
    floor = rates.get(f"postgresql {FLOOR}")
    print(f"{'path':<34}{'rows/s':>12}{'vs COPY':>10}   per round")
    for name, values in rates.items():
        if floor and name.startswith("postgresql"):
            ratio = statistics.median(v / f for v, f in zip(values, floor, strict=True))
        elif floor:  # another backend: against the median COPY rate
            ratio = statistics.median(values) / statistics.median(floor)
        else:
            ratio = 0.0
        rounds = " ".join(f"{v:,.0f}" for v in values)
        shown = f"{ratio:.0%}" if floor else "-"
        print(f"{name:<34}{statistics.median(values):>12,.0f}{shown:>10}   {rounds}")


if __name__ == "__main__":
    main()

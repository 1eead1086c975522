"""Benchmark the prediction service against `mlflow models serve` and the in-process floor.

Builds two Pipelines on the sample data with the real trainer (a 100-tree random
forest and a logistic regression), registers them in a fresh PIPELINE_HOME, and
measures with one and the same HTTP client (keep-alive connections, in client
processes of their own):

- this service's POST /predict under gunicorn, every prediction logged (SQLite by
  default, or --database-url), one record per request, 1 and 16 concurrent clients;
- `mlflow models serve --env-manager local` on the same version, POST /invocations;
- in-process `predict_proba` on a one-row frame and on a 10,000-row frame (the floor);
- 10,000-row batch requests (/predict/batch against /invocations);
- the time from an alias move to the first answer from the new version (polling,
  and the Redis signal with --redis-url).

Run from the repository root (about 5 minutes):

    .venv/bin/python scripts/bench_predict.py
    .venv/bin/python scripts/bench_predict.py --redis-url redis://127.0.0.1:6379/0 --json out.json
    .venv/bin/python scripts/bench_predict.py --only layouts --layouts 1x8,1x32,2x16
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
NAME = "bench"


# -- the client ---------------------------------------------------------------------
def _client_process(
    port: int, path: str, bodies: list[bytes], threads: int, seconds: float
) -> dict:
    """`threads` keep-alive clients sending bodies in turn; latencies after a 1 s warm-up."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    start = time.perf_counter()
    warm_until, stop_at = start + 1.0, start + 1.0 + seconds

    def loop(offset: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        mine: list[float] = []
        i = offset
        while True:
            t0 = time.perf_counter()
            if t0 >= stop_at:
                break
            ok = _send(conn, path, bodies[i % len(bodies)])
            t1 = time.perf_counter()
            i += 1
            if not ok:
                with lock:
                    errors[0] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            elif t0 >= warm_until:
                mine.append(t1 - t0)
        conn.close()
        with lock:
            latencies.extend(mine)

    workers = [threading.Thread(target=loop, args=(k * 7,)) for k in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return {"latencies": latencies, "errors": errors[0], "seconds": seconds}


def _send(conn: http.client.HTTPConnection, path: str, body: bytes) -> bool:
    try:
        conn.request("POST", path, body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()  # the whole answer counts; parsing it is the client's business
        return response.status == 200
    except (OSError, http.client.HTTPException):
        return False


def load(port: int, path: str, bodies: list[bytes], clients: int, seconds: float) -> dict:
    """Requests/s and latency percentiles for `clients` concurrent clients (4 per process)."""
    per_process = [min(4, clients - k) for k in range(0, clients, 4)]
    with ProcessPoolExecutor(len(per_process)) as pool:
        parts = list(
            pool.map(
                _client_process,
                *zip(*[(port, path, bodies, n, seconds) for n in per_process], strict=True),
            )
        )
    latencies = sorted(x for part in parts for x in part["latencies"])
    return {
        "clients": clients,
        "requests_per_s": len(latencies) / seconds,
        "p50_ms": _percentile(latencies, 50) * 1000,
        "p99_ms": _percentile(latencies, 99) * 1000,
        "errors": sum(part["errors"] for part in parts),
    }


def _percentile(values: list[float], q: float) -> float:
    return (
        values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]
        if values
        else float("nan")
    )


def batch_rows_per_s(
    port: int, path: str, body: bytes, rows: int, repeats: int, clients: int = 1
) -> float:
    """Rows/s of `clients` clients each sending `repeats` batch requests back to back."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    assert _send(conn, path, body), f"batch request to {path} failed"  # warm-up
    failures: list[str] = []

    def client() -> None:
        mine = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        for _ in range(repeats):
            if not _send(mine, path, body):
                failures.append(path)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, f"{len(failures)} batch requests to {path} failed"
    return rows * repeats * clients / (time.perf_counter() - started)


def post_json(port: int, path: str, body: Any) -> Any:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    return json.loads(conn.getresponse().read())


# -- the servers ----------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(port: int, path: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"nothing answered 200 on :{port}{path} within {timeout:.0f}s")


def every_worker_serving(port: int, workers: int, timeout: float) -> None:
    """Wait until each gunicorn worker has loaded the champion (one /ready says one worker)."""
    from prometheus_client.parser import text_string_to_metric_families

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode()
        serving = sum(
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == "prediction_service_model_in_service"
            and sample.labels.get("alias") == "champion"
        )
        if serving >= workers:
            return
        time.sleep(0.3)
    raise TimeoutError(f"not every worker serves a model after {timeout:.0f}s")


@contextmanager
def process(
    command: list[str], env: dict[str, str], log: Path, ready_path: str, port: int, workers: int = 0
):
    with open(log, "w") as out:
        proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_http(port, ready_path, 180)
        if workers:
            every_worker_serving(port, workers, 180)
        yield port
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def service(home: Path, env: dict[str, str], layout: str, extra: dict[str, str] | None = None):
    workers, threads = layout.split("x")
    port = free_port()
    prometheus = Path(tempfile.mkdtemp(prefix="prom-", dir=home))
    command = [str(VENV_BIN / "gunicorn"), "-c", "python:shared.gunicorn_conf", "--bind", f"127.0.0.1:{port}",
               "--workers", workers, "--threads", threads, "services.prediction_service.app:create_wsgi_app()"]  # fmt: skip
    full = {**env, "PROMETHEUS_MULTIPROC_DIR": str(prometheus), **(extra or {})}
    return process(command, full, home / f"service-{port}.log", "/ready", port, int(workers))


def mlflow_server(home: Path, env: dict[str, str], version: str):
    port = free_port()
    command = [str(VENV_BIN / "mlflow"), "models", "serve", "-m", f"models:/{NAME}/{version}",
               "--env-manager", "local", "--host", "127.0.0.1", "-p", str(port)]  # fmt: skip
    return process(command, env, home / f"mlflow-{port}.log", "/ping", port)


# -- the models -------------------------------------------------------------------------
FAMILIES = ("random_forest", "logistic_regression")


def build_models(settings: Any, engine: Any) -> dict[str, Any]:
    """Train both families on the sample data and register them; the served models."""
    from ml.feature_store.datasets import create_dataset
    from ml.schema import infer_schema, labels_as_strings, normalize_frame
    from ml.training import TrainerConfig, train
    from registry import ModelRegistry
    from services.prediction_service.served_model import ServedModel
    from shared.database import write_transaction

    data = pd.read_csv(ROOT / "data" / "lung_disease.csv")
    schema, _ = infer_schema(data, "Recovered")
    labels = labels_as_strings(data["Recovered"])
    frame = normalize_frame(schema, data)[labels.notna()]
    with write_transaction(engine) as conn:
        create_dataset(conn, name=NAME, schema=schema, source="bench", replace=True)
    registry = ModelRegistry(settings, engine)
    models = {}
    for family in FAMILIES:
        result = train(frame, labels[labels.notna()], schema, TrainerConfig(families=(family,)))
        version = registry.log_candidate(NAME, result).version
        loaded = registry.load(NAME, version)  # what the service loads
        models[family] = ServedModel.build(NAME, version, loaded.pipeline, loaded.schema)
    return models


def floor(model: Any, rows: pd.DataFrame, big: pd.DataFrame) -> dict[str, float]:
    """In-process scoring of the rows the clients send, one at a time and 10,000 at once.

    `sklearn`: the pipeline's own predict_proba (the faster of the pipeline as
    registered and its one-thread copy): the floor the goals are measured against.
    `service`: ServedModel.predict_columns on already-validated columns, the call
    the service makes (the compiled pipeline, see docs/SERVING.md).
    """
    singles = [rows.iloc[[i]] for i in range(len(rows))]
    pipelines = (model.pipeline, model.serial_pipeline)
    sklearn_one = min(_median_seconds(p.predict_proba, singles) for p in pipelines)
    sklearn_big = min(_median_seconds(p.predict_proba, [big] * 5) for p in pipelines)
    single_columns = [_columns(frame) for frame in singles]
    service_one = _median_seconds(lambda c: model.predict_columns(c, 1), single_columns)
    big_columns = _columns(big)
    service_big = _median_seconds(lambda c: model.predict_columns(c, len(big)), [big_columns] * 5)
    return {
        "sklearn_single_row_ms": sklearn_one * 1000,
        "service_single_row_ms": service_one * 1000,
        "sklearn_rows_per_s_10k": 10_000 / sklearn_big,
        "service_rows_per_s_10k": 10_000 / service_big,
    }


def _columns(frame: pd.DataFrame) -> dict[str, list[Any]]:
    """A normalised frame as the service's validated columns (None = missing)."""
    return {
        name: [None if pd.isna(v) else v for v in frame[name].tolist()] for name in frame.columns
    }


def _median_seconds(call: Any, inputs: list[Any]) -> float:
    call(inputs[0])
    times = []
    for value in inputs:
        started = time.perf_counter()
        call(value)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


# -- the measurements ---------------------------------------------------------------------
def bodies_for(records: list[dict], key: str) -> list[bytes]:
    return [json.dumps({key: [r]}).encode() for r in records]


def time_to_new_version(port: int, record: dict, move: Any) -> float:
    """Seconds from the alias move (move() returned) to the first answer from the new version."""
    before = post_json(port, "/predict", {"records": [record]})["model"]["version"]
    move()
    moved = time.perf_counter()
    while time.perf_counter() - moved < 120:
        if post_json(port, "/predict", {"records": [record]})["model"]["version"] != before:
            return time.perf_counter() - moved
        time.sleep(0.01)
    raise TimeoutError("the new version never answered")


def measure_family(
    args: argparse.Namespace, ours: int, theirs: int, model: Any, data: dict
) -> dict:
    """Rounds that alternate ours / MLflow / floor, so a noisy machine hits all alike."""
    rounds: list[dict[str, Any]] = []
    for number in range(args.rounds):
        row: dict[str, Any] = {
            "load_average": os.getloadavg()[0],
            "floor": floor(model, data["rows"], data["big_frame"]),
        }
        for clients in (1, 16):
            row[f"ours_{clients}"] = load(ours, "/predict", data["ours"], clients, args.seconds)
            row[f"mlflow_{clients}"] = load(
                theirs, "/invocations", data["mlflow"], clients, args.seconds
            )
        for clients in (1, 2):
            row[f"ours_batch_{clients}"] = batch_rows_per_s(
                ours, "/predict/batch", data["big_ours"], 10_000, args.batches, clients
            )
            row[f"mlflow_batch_{clients}"] = batch_rows_per_s(
                theirs, "/invocations", data["big_mlflow"], 10_000, args.batches, clients
            )
        print(f"  round {number + 1}: {json.dumps(row)}", flush=True)
        rounds.append(row)
    return {"rounds": rounds, "median": _medians(rounds)}


def _medians(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Median of every figure, and of the per-round ratios (each from adjacent measurements)."""
    out: dict[str, Any] = {
        "floor": {k: statistics.median(r["floor"][k] for r in rounds) for k in rounds[0]["floor"]}
    }
    for clients in (1, 16):
        for side in ("ours", "mlflow"):
            key = f"{side}_{clients}"
            out[key] = {k: statistics.median(r[key][k] for r in rounds) for k in rounds[0][key]}
        out[f"ratio_{clients}"] = statistics.median(
            r[f"ours_{clients}"]["requests_per_s"] / r[f"mlflow_{clients}"]["requests_per_s"]
            for r in rounds
        )
    for kind in ("service", "sklearn"):
        out[f"p50_minus_{kind}_floor_ms"] = statistics.median(
            r["ours_1"]["p50_ms"] - r["floor"][f"{kind}_single_row_ms"] for r in rounds
        )
    for clients in (1, 2):
        for side in ("ours", "mlflow"):
            out[f"{side}_batch_{clients}"] = statistics.median(
                r[f"{side}_batch_{clients}"] for r in rounds
            )
        for kind in ("service", "sklearn"):
            out[f"batch_{clients}_share_of_{kind}_floor"] = statistics.median(
                r[f"ours_batch_{clients}"] / r["floor"][f"{kind}_rows_per_s_10k"] for r in rounds
            )
    return out


def measure_alias_moves(
    args: argparse.Namespace,
    home: Path,
    env: dict,
    settings: Any,
    engine: Any,
    models: dict,
    record: dict,
) -> dict:
    from registry import CHAMPION, ModelRegistry
    from shared.signals import publish_model_changed

    registry = ModelRegistry(settings, engine)
    lr, forest = models["logistic_regression"].version, models["random_forest"].version
    modes = [("polling", {}, None)]
    if args.redis_url:
        modes.append(("redis signal", {"REDIS_URL": args.redis_url}, args.redis_url))
    moves: dict[str, list[float]] = {}
    for mode, extra, redis_url in modes:
        registry.set_alias(NAME, CHAMPION, lr, reason="bench", actor="bench")
        signalled = settings.model_copy(update={"redis_url": redis_url})
        with service(home, env, args.layout, extra) as port:
            for trial in range(args.moves):
                target = forest if trial % 2 == 0 else lr

                def move(target: str = target, signalled: Any = signalled) -> None:
                    registry.set_alias(NAME, CHAMPION, target, reason="bench", actor="bench")
                    publish_model_changed(signalled, NAME, target)  # a no-op without Redis

                moves.setdefault(mode, []).append(time_to_new_version(port, record, move))
        print(f"alias move -> new version ({mode}): {moves[mode]}", flush=True)
    return moves


def run(args: argparse.Namespace) -> dict[str, Any]:
    from ml.schema import normalize_frame
    from registry import CHAMPION, ModelRegistry
    from shared.config import load_settings
    from shared.database import make_engine
    from shared.migrate import upgrade

    home = Path(tempfile.mkdtemp(prefix="bench-predict-"))
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "MODEL_NAME", "API_KEY")}
    env.update(PIPELINE_HOME=str(home), PATH=f"{VENV_BIN}:{env.get('PATH', '')}", MODEL_NAME=NAME,
               DATABASE_URL=args.database_url or f"sqlite:///{home / 'data' / 'pipeline.db'}",
               MLFLOW_TRACKING_URI=f"sqlite:///{home / 'mlflow.db'}", LOG_LEVEL="WARNING")  # fmt: skip
    settings = load_settings(pipeline_home=home, database_url=env["DATABASE_URL"], mlflow_tracking_uri=env["MLFLOW_TRACKING_URI"], redis_url=None)  # fmt: skip
    settings.ensure_dirs()
    engine = make_engine(settings)
    upgrade(engine)
    print(f"home {home}; training and registering both models ...", flush=True)
    models = build_models(settings, engine)
    registry = ModelRegistry(settings, engine)
    raw = pd.read_csv(ROOT / "data" / "lung_disease.csv").drop(columns="Recovered")
    # MLflow's schema enforcement refuses missing values: complete records for everyone.
    records = [r for r in json.loads(raw.to_json(orient="records")) if None not in r.values()]
    big = (records * (10_000 // len(records) + 1))[:10_000]
    schema = models["random_forest"].schema
    data = {
        "rows": normalize_frame(schema, pd.DataFrame.from_records(records[:200])),
        "big_frame": normalize_frame(schema, pd.DataFrame.from_records(big)),
        "ours": bodies_for(records[:200], "records"),
        "mlflow": bodies_for(records[:200], "dataframe_records"),
        "big_ours": json.dumps({"records": big}).encode(),
        "big_mlflow": json.dumps({"dataframe_records": big}).encode(),
    }
    out: dict[str, Any] = {"home": str(home), "layout": args.layout, "results": {}}
    out["versions"] = {family: models[family].version for family in FAMILIES}

    if args.only == "layouts":
        registry.set_alias(
            NAME, CHAMPION, models["random_forest"].version, reason="bench", actor="bench"
        )
        for _ in range(args.rounds):
            for layout in args.layouts.split(","):
                with service(home, env, layout) as port:
                    result = load(port, "/predict", data["ours"], 16, args.seconds)
                out.setdefault("layouts", {}).setdefault(layout, []).append(result)
                print(f"layout {layout}: {result}", flush=True)
        return out

    for family in FAMILIES:
        model = models[family]
        registry.set_alias(NAME, CHAMPION, model.version, reason="bench", actor="bench")
        print(f"{family} (version {model.version}):", flush=True)
        with (
            service(home, env, args.layout) as ours,
            mlflow_server(home, env, model.version) as theirs,
        ):
            out["results"][family] = measure_family(args, ours, theirs, model, data)
    out["alias_move_seconds"] = measure_alias_moves(
        args, home, env, settings, engine, models, records[0]
    )
    return out


def report(out: dict[str, Any]) -> None:
    """Markdown tables of the medians (floors: the service's own scoring call / sklearn's)."""
    print("\n| model | measurement | this service | mlflow models serve | ours / mlflow | floor: service call / sklearn |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for family, result in out["results"].items():
        m, f = result["median"], result["median"]["floor"]
        one_row = f"{f['service_single_row_ms']:.2f} / {f['sklearn_single_row_ms']:.2f} ms per row"
        for clients in (1, 16):
            ours, theirs = m[f"ours_{clients}"], m[f"mlflow_{clients}"]
            print(f"| {family} | {clients} client(s): requests/s | {ours['requests_per_s']:.0f} | {theirs['requests_per_s']:.0f} | {m[f'ratio_{clients}']:.1f}x | |")  # fmt: skip
            print(f"| {family} | {clients} client(s): p50 / p99 ms | {ours['p50_ms']:.1f} / {ours['p99_ms']:.1f} | {theirs['p50_ms']:.1f} / {theirs['p99_ms']:.1f} | | {one_row} |")  # fmt: skip
        print(f"| {family} | sequential p50 minus the floor | {m['p50_minus_service_floor_ms']:+.1f} / {m['p50_minus_sklearn_floor_ms']:+.1f} ms | | | service call / sklearn |")  # fmt: skip
        for clients in (1, 2):
            ours, theirs = m[f"ours_batch_{clients}"], m[f"mlflow_batch_{clients}"]
            shares = f"{m[f'batch_{clients}_share_of_service_floor']:.0%} / {m[f'batch_{clients}_share_of_sklearn_floor']:.0%}"  # fmt: skip
            floors = f"{f['service_rows_per_s_10k']:,.0f} / {f['sklearn_rows_per_s_10k']:,.0f} rows/s (ours: {shares})"  # fmt: skip
            print(f"| {family} | 10,000-row batches, {clients} client(s): rows/s | {ours:,.0f} | {theirs:,.0f} | {ours / theirs:.1f}x | {floors} |")  # fmt: skip
        kinds = ("ours_1", "ours_16", "mlflow_1", "mlflow_16")
        errors = sum(r[k]["errors"] for r in result["rounds"] for k in kinds)
        loads = [round(r["load_average"], 1) for r in result["rounds"]]
        print(f"| {family} | failed requests; load average per round | {errors} | | | {loads} |")
    for mode, values in out.get("alias_move_seconds", {}).items():
        seconds = ", ".join(f"{v:.2f}s" for v in values)
        print(f"\nalias move -> first answer from the new version ({mode}): {seconds}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--layout", default="2x16", help="gunicorn WORKERSxTHREADS of this service (default 2x16)"
    )
    parser.add_argument(
        "--layouts", default="1x8,1x32,2x16,4x8", help="layouts compared by --only layouts"
    )
    parser.add_argument(
        "--only", choices=["layouts"], help="only compare gunicorn layouts (forest, 16 clients)"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternating rounds per model (medians reported)"
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per load test")
    parser.add_argument(
        "--batches", type=int, default=3, help="10,000-row requests per client per batch test"
    )
    parser.add_argument("--moves", type=int, default=3, help="alias moves per reload mode")
    parser.add_argument(
        "--database-url", help="log to this database instead of a fresh SQLite file"
    )
    parser.add_argument(
        "--redis-url", help="also measure alias moves announced by the Redis signal"
    )
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    args = parser.parse_args()
    out = run(args)
    if out.get("results"):
        report(out)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1, default=str))


if __name__ == "__main__":
    main()

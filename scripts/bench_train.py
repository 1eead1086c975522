"""Benchmark `mlpipe init` end to end and the share of it spent logging to MLflow.

    .venv/bin/python scripts/bench_train.py [--rows 2000 100000] [--peer-rows 2000]

1. For each size: a fresh PIPELINE_HOME, a generated lung-disease CSV, and the
   real `mlpipe init` in a subprocess. Its step lines are timestamped as they
   arrive, which splits the wall time into start-up, read + train, MLflow
   logging + registration, storing the reference rows, and promotion + exit.
2. Peer: the same trained Pipeline logged with MLflow's fluent
   `mlflow.sklearn.log_model(..., registered_model_name=...)` (default settings:
   pip requirements inferred) versus our `ModelRegistry.log_candidate`, each in
   a fresh process so neither warms the other's caches.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ml.data.sample import make_dataset, write_csv

MLPIPE = str(Path(sys.executable).with_name("mlpipe"))
STEPS = {  # step line prefix -> phase that starts there
    "reading": "read + train",
    "opening the MLflow store": "MLflow import + store opening",
    "logging the run": "MLflow logging + registration",
    "storing": "store reference rows",
    "making it the champion": "promote + exit",
}


def time_init(rows: int, workdir: Path) -> dict[str, float]:
    home = workdir / f"home-{rows}"
    csv = workdir / f"lung-{rows}.csv"
    write_csv(make_dataset(rows, seed=42), csv)
    env = {**os.environ, "PIPELINE_HOME": str(home), "PYTHONUNBUFFERED": "1", "MODEL_NAME": ""}
    started = time.perf_counter()
    process = subprocess.Popen(
        [MLPIPE, "init", "--data", str(csv), "--target", "Recovered", "--name", "bench"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    marks: list[tuple[str, float]] = [("start-up (imports, migrations)", 0.0)]
    assert process.stdout is not None
    for line in process.stdout:
        step = line.removeprefix("... ").strip()
        for prefix, phase in STEPS.items():
            if line.startswith("... ") and step.startswith(prefix):
                marks.append((phase, time.perf_counter() - started))
    process.wait()
    total = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"mlpipe init failed: {process.stderr}")
    phases = {
        name: (marks[i + 1][1] if i + 1 < len(marks) else total) - begin
        for i, (name, begin) in enumerate(marks)
    }
    return {"total": total, **phases}


PEER = """
import json, sys, time
from pathlib import Path
from ml.data.sample import make_dataset
from ml.schema import infer_schema, labels_as_strings, normalize_frame
from ml.training import TrainerConfig, train
from shared.config import load_settings
from shared.database import make_engine
from shared.migrate import upgrade

mode, rows, home = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
frame = make_dataset(rows, seed=42)
schema, _ = infer_schema(frame, "Recovered")
labels = labels_as_strings(frame["Recovered"])
keep = labels.notna()
result = train(normalize_frame(schema, frame)[keep], labels[keep], schema,
               TrainerConfig(families=("random_forest",)))
settings = load_settings(pipeline_home=home)
settings.ensure_dirs()
if mode == "ours":
    from registry import ModelRegistry
    engine = make_engine(settings)
    upgrade(engine)
    registry = ModelRegistry(settings, engine)
    started = time.perf_counter()
    registry.log_candidate("peer", result)
else:
    import mlflow, mlflow.sklearn
    from registry.serialization import trusted_types
    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)  # a benchmark process: global is fine
    mlflow.set_experiment("peer")
    started = time.perf_counter()
    with mlflow.start_run():
        mlflow.log_metrics(result.scalar_metrics)
        mlflow.sklearn.log_model(result.pipeline, name="model", registered_model_name="peer",
                                 input_example=result.input_example,
                                 skops_trusted_types=trusted_types(result.pipeline))
print(json.dumps({"seconds": time.perf_counter() - started}))
"""


def time_peer(mode: str, rows: int, workdir: Path) -> float:
    home = workdir / f"peer-{mode}"
    out = subprocess.run(
        [sys.executable, "-c", PEER, mode, str(rows), str(home)],
        capture_output=True,
        text=True,
        check=True,
        cwd=workdir,
    )
    return float(json.loads(out.stdout.strip().splitlines()[-1])["seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[2_000, 100_000])
    parser.add_argument("--peer-rows", type=int, default=2_000)
    args = parser.parse_args()
    print(f"host: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} (shared, noisy)")
    with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp:
        workdir = Path(tmp)
        for rows in args.rows:
            timing = time_init(rows, workdir)
            total, logging_s = timing["total"], timing["MLflow logging + registration"]
            print(f"\nmlpipe init, {rows:,} rows: {total:.1f} s wall")
            for phase, seconds in timing.items():
                if phase != "total":
                    print(f"  {phase:<32} {seconds:7.1f} s  {seconds / total:6.1%}")
            opening = timing.get("MLflow import + store opening", 0.0)
            print(
                f"  MLflow logging share: {logging_s / total:.1%} "
                f"(with MLflow's import and store opening: {(logging_s + opening) / total:.1%})"
            )
        ours = time_peer("ours", args.peer_rows, workdir)
        fluent = time_peer("fluent", args.peer_rows, workdir)
        print(f"\nlogging one random-forest model ({args.peer_rows:,} training rows):")
        print(
            f"  ModelRegistry.log_candidate (run, artifacts, plots, model, version): {ours:.2f} s"
        )
        print(
            f"  mlflow.sklearn.log_model fluent defaults (model, version):           {fluent:.2f} s"
        )
        print(f"  ratio fluent / ours: {fluent / ours:.1f}x")


if __name__ == "__main__":
    main()

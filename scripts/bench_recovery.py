"""Time to recovery: from the first drifted request to the first answer from the promoted model.

Starts a fresh instance of the loop (ingestion API, prediction service, drift
monitor, retraining worker: real processes), initialises it on the sample data
like run_all_services.sh, sends the demo's traffic (services/demo/traffic.py:
in-distribution first, then half covariate, half concept drift, 50 rows per
request with labels fed back, as `python demo.py` does) and measures

* time to recovery, split into detection, queueing, training + gate, and reload;
* accuracy on drifted traffic: of the answers before the promotion, and of the
  promoted model on a fresh drifted sample of EVAL_ROWS rows;
* the same sample scored by an oracle: the project's trainer, same settings,
  fitted offline on ORACLE_ROWS rows of the drifted distribution.

Goals: recovery under 60 s; promoted accuracy within 0.03 of the oracle's.

    .venv/bin/python scripts/bench_recovery.py                     # demo settings, SQLite
    .venv/bin/python scripts/bench_recovery.py --runs 3 --json /tmp/recovery.json
    .venv/bin/python scripts/bench_recovery.py --defaults          # the product defaults
    .venv/bin/python scripts/bench_recovery.py --set TRAINING_POLICY=cumulative
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from loop_instance import ROOT, LoopInstance
from sqlalchemy import create_engine

from ml.data.sample import TARGET, make_dataset
from ml.feature_store import active_dataset
from ml.schema import DatasetSchema, labels_as_strings, normalize_frame
from ml.training import TrainerConfig, train
from registry import ModelRegistry
from services.demo.traffic import TrafficClient, drifted_sample
from services.drift_monitor.events import DriftEventRepository
from services.retraining_worker.jobs import JobRepository
from shared.config import Settings, load_settings
from shared.database import driver_url

# What the demo should run with (docs/LOOP.md explains each choice).
DEMO_SETTINGS = {
    "MONITOR_INTERVAL_SECONDS": "10",  # a check every 10 s instead of 30
    "DRIFT_PERSISTENCE_K": "2",  # drift in 2 consecutive checks: ~1,500 drifted labelled rows
    "DRIFT_PERSISTENCE_M": "2",  # at the demo's pace, enough for a model near the oracle
    "TRAINING_POLICY": "sliding",  # train on what came after the drift began
    "RETRAIN_COOLDOWN_SECONDS": "30",  # a candidate the gate kept out gets another go soon
    "RELOAD_POLL_SECONDS": "1",
}
BATCH, PAUSE = 50, 0.5  # the demo's request size and pace
EVAL_ROWS, ORACLE_ROWS = 1000, 2000


def drifted(scenario: str, rows: int, seed: int) -> pd.DataFrame:
    """The demo's mixture (half covariate, half concept) or one make_dataset scenario."""
    if scenario == "demo":
        return drifted_sample(rows, seed)
    return make_dataset(rows, scenario, seed=seed)


def run_once(variables: dict[str, str], scenario: str, seed: int, timeout: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-recovery-") as tmp:
        instance = LoopInstance.create(Path(tmp) / "home", **variables)
        instance.mlpipe(
            "init", "--data", str(ROOT / "data" / "lung_disease.csv"), "--target", "Recovered"
        )
        instance.start()
        try:
            return _measure(instance, scenario, seed, timeout)
        finally:
            instance.stop()


def _measure(instance: LoopInstance, scenario: str, seed: int, timeout: float) -> dict[str, Any]:
    fields = Settings.model_fields
    settings = load_settings(
        **{k.lower(): v for k, v in instance.env.items() if k.lower() in fields}
    )
    engine = create_engine(driver_url(settings.database_url))
    client = TrafficClient(settings)
    start_version = str(client.model()["version"])
    client.send(make_dataset(400, "none", seed=seed))  # the demo's in-distribution phase
    time.sleep(settings.monitor_interval_seconds + 2)

    drift_began = datetime.now(UTC)
    first_request = time.monotonic()
    correct = total = 0
    new_version, batch_seed = None, seed + 100
    while time.monotonic() - first_request < timeout:
        result = client.send(drifted(scenario, BATCH, batch_seed))
        batch_seed += 1
        if result.versions[0] != start_version:
            new_version = result.versions[0]
            break
        correct, total = correct + result.correct, total + result.total
        time.sleep(PAUSE)
    recovered_after = time.monotonic() - first_request
    if new_version is None:
        jobs = JobRepository(engine).latest(limit=20)
        return {
            "recovered": False,
            "timeout_s": timeout,
            "drifted_rows_sent": total,
            **_timeline(engine, drift_began),
            "jobs": [
                (j.status, j.reason, (j.gate_decision or {}).get("reason"), j.error) for j in jobs
            ],
        }

    evaluation = drifted(scenario, EVAL_ROWS, seed + 999)
    after = client.send(evaluation, feedback=False)
    timeline = _timeline(engine, drift_began, new_version)
    schema = active_dataset(engine, settings).schema
    oracle = _oracle_accuracy(
        settings, schema, drifted(scenario, ORACLE_ROWS, seed + 500), evaluation
    )
    old = ModelRegistry(settings, engine).load(schema_name(engine, settings), start_version)
    old_on_eval = _accuracy(old.pipeline, schema, evaluation)
    engine.dispose()
    return {
        "recovered": True,
        "time_to_recovery_s": round(recovered_after, 1),
        **timeline,
        "drifted_rows_before_promotion": total,
        "accuracy_before": round(correct / total, 3) if total else None,
        "accuracy_old_champion_on_eval": round(old_on_eval, 3),
        "accuracy_after": round(after.accuracy, 3),
        "accuracy_oracle": round(oracle, 3),
        "gap_to_oracle": round(oracle - after.accuracy, 3),
        "versions": [start_version, new_version],
    }


def _timeline(engine: Any, since: datetime, version: str | None = None) -> dict[str, Any]:
    """Seconds after the first drifted request: drift detected, job queued/started/finished
    (the job that made `version`, else the first that succeeded)."""
    event = next((e for e in reversed(DriftEventRepository(engine).latest(limit=200))
                  if e.created_at >= since and e.dataset_drift), None)  # fmt: skip
    jobs = [j for j in reversed(JobRepository(engine).latest(limit=50))
            if j.created_at >= since and j.status == "succeeded"]  # fmt: skip
    job = next((j for j in jobs if j.model_version == version), jobs[0] if jobs else None)

    def offset(moment: datetime | None) -> float | None:
        return round((moment - since).total_seconds(), 1) if moment else None

    return {
        "first_drift_event_s": offset(event.created_at if event else None),
        "first_drift_reason": event.reason if event else None,
        "job_queued_s": offset(job.created_at if job else None),
        "job_started_s": offset(job.started_at if job else None),
        "job_finished_s": offset(job.finished_at if job else None),
        "job_reason": job.reason if job else None,
        "jobs_before_recovery": len(jobs),
        "gate": (job.gate_decision or {}).get("reason") if job else None,
    }


def _oracle_accuracy(
    settings: Settings, schema: DatasetSchema, frame: pd.DataFrame, evaluation: pd.DataFrame
) -> float:
    """The same trainer and settings, fitted offline on `frame` from the drifted distribution."""
    result = train(normalize_frame(schema, frame), labels_as_strings(frame[TARGET]), schema,
                   TrainerConfig.from_settings(settings))  # fmt: skip
    return _accuracy(result.pipeline, schema, evaluation)


def _accuracy(pipeline: Any, schema: DatasetSchema, evaluation: pd.DataFrame) -> float:
    predicted = pipeline.predict(normalize_frame(schema, evaluation))
    return float((predicted == labels_as_strings(evaluation[TARGET]).to_numpy()).mean())


def schema_name(engine: Any, settings: Settings) -> str:
    return active_dataset(engine, settings).name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--defaults", action="store_true", help="product defaults, not the demo's")
    parser.add_argument("--scenario", default="demo", choices=["demo", "concept", "covariate"],
                        help="drifted traffic: the demo's mixture or one scenario")  # fmt: skip
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    variables = {} if args.defaults else dict(DEMO_SETTINGS)
    variables.update(item.split("=", 1) for item in args.set)
    print(f"settings: {variables or 'product defaults'}")
    results = []
    for run in range(args.runs):
        result = run_once(variables, args.scenario, args.seed + 1000 * run, args.timeout)
        print(json.dumps(result, indent=1))
        results.append(result)
    done = [r for r in results if r["recovered"]]
    if done:
        for key in (
            "time_to_recovery_s",
            "accuracy_before",
            "accuracy_after",
            "accuracy_oracle",
            "gap_to_oracle",
        ):
            values = [r[key] for r in done if r[key] is not None]
            print(
                f"{key:>20}: median {statistics.median(values):.3f}  min {min(values):.3f}  max {max(values):.3f}"
            )
    if args.json:
        summary = {"settings": variables, "scenario": args.scenario, "runs": results}
        args.json.write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()

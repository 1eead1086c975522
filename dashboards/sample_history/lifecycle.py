"""The dataset, training jobs, registry versions, alias moves and ingested batches
of the story (small tables: plain inserts)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.engine import Engine

from dashboards.sample_history.story import JOB_CHALLENGER, JOB_DEAD, JOB_DELAY, JOB_PROMOTED, Story
from shared.database import (
    alias_history,
    datasets,
    drift_events,
    ingestion_batches,
    model_registry,
    training_jobs,
    write_transaction,
)

METRICS = {  # (roc_auc, accuracy, f1_macro, log_loss) as the trainer would log them
    "1": (0.874, 0.861, 0.858, 0.342),
    "2": (0.912, 0.884, 0.881, 0.301),
    "3": (0.914, 0.879, 0.876, 0.305),
}
DEAD_ERROR = (
    "MlflowException: API request to http://127.0.0.1:5000/api/2.0/mlflow/runs/create "
    "failed with exception ConnectionError: connection refused (after 3 attempts)"
)


def plan_jobs() -> dict[str, float]:
    """Job ids of the story, each with the fraction of the span it is planned at."""
    return {str(uuid.uuid4()): fraction for fraction in (JOB_DEAD, JOB_PROMOTED, JOB_CHALLENGER)}


def write_dataset(engine: Engine, name: str, created_at: datetime) -> int:
    schema = {"target": "Recovered", "features": []}
    with write_transaction(engine) as conn:
        return int(
            conn.execute(
                datasets.insert().returning(datasets.c.id),
                {
                    "name": name,
                    "target": "Recovered",
                    "task": "binary",
                    "schema": schema,
                    "source": "data/lung_disease.csv",
                    "n_rows": 2000,
                    "is_active": True,
                    "created_at": created_at,
                },
            ).scalar_one()
        )


# The gate on the recent labelled holdout: (candidate, champion) roc_auc, as the worker records it.
GATE_SCORES = {"2": (0.912, 0.861, "1"), "3": (0.914, 0.911, "2")}
MIN_IMPROVEMENT = 0.005
HOLDOUT_ROWS = 420


def _gate(version: str) -> dict:
    candidate, champion, champion_version = GATE_SCORES[version]
    gain = candidate - champion
    passed = gain >= MIN_IMPROVEMENT
    headline = (
        f"roc_auc {candidate:.4f} vs champion {champion:.4f} ({gain:+.4f}) on {HOLDOUT_ROWS} rows"
    )
    return {
        "outcome": "promote" if passed else "challenger",
        "passed": passed,
        "reason": f"{headline}, guardrails held"
        if passed
        else f"{headline}: below the required +{MIN_IMPROVEMENT:g}",
        "primary_metric": "roc_auc",
        "candidate": {"roc_auc": candidate},
        "champion": {"roc_auc": champion},
        "improvement": round(gain, 4),
        "holdout_rows": HOLDOUT_ROWS,
        "guardrails": [],
        "champion_version": champion_version,
        "candidate_version": version,
    }


def write_jobs_and_registry(
    engine: Engine, story: Story, model_name: str, jobs: dict[str, float]
) -> None:
    """Three jobs (dead, promoted, kept as challenger), three versions, their alias moves."""
    dead, promoted, challenger = jobs
    runs = {v: uuid.uuid4().hex for v in METRICS}
    job_rows: list[dict] = []
    versions: dict[str, tuple[datetime, str | None]] = {
        "1": (story.start - timedelta(days=1), None)
    }
    with write_transaction(engine) as conn:
        for job_id, fraction in jobs.items():
            event_id = conn.execute(
                select(drift_events.c.id).where(drift_events.c.job_id == job_id)
            ).scalar_one_or_none()
            created = story.trigger_time(fraction) + JOB_DELAY
            finished = story.job_finished(fraction)
            version = {promoted: "2", challenger: "3"}.get(job_id)
            if version:
                versions[version] = (finished, job_id)
            job_rows.append(
                {
                    "id": job_id,
                    "model_name": model_name,
                    "reason": "drift",
                    "trigger_event_id": event_id,
                    "status": "dead" if job_id == dead else "succeeded",
                    "attempts": 3 if job_id == dead else 1,
                    "max_attempts": 3,
                    "worker": "worker-1",
                    "heartbeat_at": finished,
                    "created_at": created,
                    "started_at": created + timedelta(seconds=1),
                    "finished_at": finished,
                    "champion_version": "1" if fraction < JOB_PROMOTED + 0.01 else "2",
                    "model_version": version,
                    "run_id": runs[version] if version else None,
                    "gate_decision": _gate(version) if version else None,
                    "error": DEAD_ERROR if job_id == dead else None,
                }
            )
        conn.execute(training_jobs.insert(), job_rows)
        conn.execute(
            model_registry.insert(),
            [
                {
                    "model_name": model_name,
                    "version": v,
                    "run_id": runs[v],
                    "experiment_id": "1",
                    "family": "random_forest" if v == "1" else "hist_gradient_boosting",
                    "metrics": dict(
                        zip(
                            ("roc_auc", "accuracy", "f1_macro", "log_loss"), METRICS[v], strict=True
                        )
                    ),
                    "aliases": {"2": ["champion"], "3": ["challenger"]}.get(v, []),
                    "job_id": job,
                    "created_at": at,
                }
                for v, (at, job) in versions.items()
            ],
        )
        moves = [  # alias, version, previous, action, actor, reason
            ("champion", "1", None, "set", "mlpipe init", "first model of mlpipe init"),
            ("champion", "2", "1", "promote", "retraining-worker", _gate("2")["reason"]),
            ("challenger", "3", None, "set", "retraining-worker", _gate("3")["reason"]),
        ]
        conn.execute(
            alias_history.insert(),
            [
                {
                    "model_name": model_name,
                    "alias": alias,
                    "version": version,
                    "previous_version": previous,
                    "action": action,
                    "actor": actor,
                    "reason": reason,
                    "created_at": versions[version][0],
                }
                for alias, version, previous, action, actor, reason in moves
            ],
        )


def write_batches(
    engine: Engine, story: Story, dataset_id: int, n_batches: int, rng: np.random.Generator
) -> None:
    """Batches through the ingestion API; more rejections while drift B brings new values."""
    step = story.span / max(n_batches, 1)
    rows = []
    for i in range(n_batches):
        at = story.start + step * (i + rng.uniform(0.1, 0.9))
        size = int(rng.integers(150, 400))
        reject_rate = 0.01 + 0.08 * float(story.shift_b(story.fraction(at)))
        rejected = int(rng.binomial(size, reject_rate))
        accepted = size - rejected
        labelled = int(rng.binomial(accepted, 0.65))
        batch_id = f"batch-{i:05d}-{uuid.uuid4().hex[:6]}"
        rows.append(
            {
                "batch_id": batch_id,
                "dataset_id": dataset_id,
                "body_hash": hashlib.sha256(batch_id.encode()).hexdigest(),
                "source": "csv" if i % 3 == 0 else "batch",
                "accepted": accepted,
                "rejected": rejected,
                "labelled": labelled,
                "received_at": at,
                "result": {
                    "batch_id": batch_id,
                    "accepted": accepted,
                    "rejected": rejected,
                    "errors": [],
                },
            }
        )
    for start in range(0, len(rows), 5000):
        with write_transaction(engine) as conn:
            conn.execute(ingestion_batches.insert(), rows[start : start + 5000])

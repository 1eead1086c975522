"""Lineage of a retrained version: which job, which trigger, which data, which code.

Written as MLflow run tags (searchable: the worker finds a job's earlier run by
`mlpipe.job_id` before training again) and the data window as run parameters.
"""

from __future__ import annotations

import functools
import subprocess
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from mlflow import MlflowClient
from mlflow.entities import Run

from services.retraining_worker.jobs import Job
from shared.config import REPO_ROOT

JOB_TAG = "mlpipe.job_id"


@functools.cache
def code_version() -> str:
    """The git commit of the running code (+ "-dirty"), else the installed package version."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=REPO_ROOT, capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_ROOT, capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()  # fmt: skip
        return f"{sha}-dirty" if dirty else sha
    except (OSError, subprocess.SubprocessError):
        try:
            return f"ml-pipeline {version('ml-pipeline')}"
        except PackageNotFoundError:
            return "unknown"


def run_tags(job: Job, *, champion_version: str | None, data: dict[str, Any]) -> dict[str, str]:
    """Tags of the candidate run (the registry adds `mlpipe.job_id` itself)."""
    tags = {
        "mlpipe.reason": job.reason,
        "mlpipe.trigger_event_id": str(job.trigger_event_id or ""),
        "mlpipe.attempt": str(job.attempts),
        "mlpipe.compared_with": str(champion_version or ""),
        "mlpipe.training_policy": str(data.get("policy", "")),
        "mlpipe.data_hash": str(data.get("data_hash", "")),
        "mlpipe.data_window_start": str(data.get("window_start") or ""),
        "mlpipe.data_window_end": str(data.get("window_end") or ""),
        "mlpipe.code_version": code_version(),
    }
    return tags


def runs_of_job(client: MlflowClient, experiment_name: str, job_id: str) -> list[Run]:
    """Every MLflow run an attempt of `job_id` started, newest first."""
    experiment = client.get_experiment_by_name(experiment_name)
    if experiment is None:
        return []
    found = client.search_runs(
        [experiment.experiment_id],
        filter_string=f"tags.`{JOB_TAG}` = '{job_id}'",
        order_by=["attribute.start_time DESC"],
    )
    return list(found)

"""`mlpipe drift`, `mlpipe train`, `mlpipe status`: look at the loop and feed it jobs.

`train` enqueues the same gated job the drift monitor enqueues; `--wait` blocks
until it ends. If no retraining worker of this instance is running, or none takes
the job within WORKER_GRACE_SECONDS, `--wait` runs it in this process (the claim
in the table keeps that exclusive), so the command also works on its own.
"""

from __future__ import annotations

import json
import time
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from services.cli.context import CliContext
from services.cli.model_commands import _active_name, _registry
from shared.errors import PipelineError

WORKER_GRACE_SECONDS = 10.0
POLL_SECONDS = 0.5


class JobDidNotSucceed(PipelineError):
    """`mlpipe train --wait`: the job failed, died, or did not end in time (exit 1)."""


@click.command("drift")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--last", type=click.IntRange(min=1), default=None,
              help="Compare the last N predictions [default: DRIFT_WINDOW_SIZE].")  # fmt: skip
@click.pass_obj
def drift(obj: CliContext, as_json: bool, last: int | None) -> None:
    """Compare the newest logged predictions with the champion's reference profile (read-only)."""
    from services.drift_monitor.drift_look import drift_look

    name = _active_name(obj)
    look = drift_look(obj.settings, obj.engine, _registry(obj), last=last)
    if as_json:
        click.echo(json.dumps(look, indent=2, default=str))
        return
    verdict = {True: "DRIFT", False: "no drift", None: "not testable"}[look["dataset_drift"]]
    click.echo(f"{name} v{look['model']['version']}: {verdict} ({look['n_current']} predictions)")
    click.echo(look["reason"])
    table = Table(show_edge=False)
    for column in ("feature", "test", "p (adjusted)", "effect size", "verdict"):
        table.add_column(column)
    for feature, values in look["features"].items():
        table.add_row(feature, values["test"] or "-", _number(values["p_adjusted"]),
                      _number(values["effect_size"]), values["verdict"])  # fmt: skip
    Console(width=120 if not Console().is_terminal else None).print(table)


@click.command("train")
@click.option("--wait", is_flag=True, help="Block until the job ends and print the gate decision.")
@click.option("--timeout", type=click.FloatRange(min=1), default=None,
              help="With --wait: give up after this many seconds (exit 1).")  # fmt: skip
@click.pass_obj
def train(obj: CliContext, wait: bool, timeout: float | None) -> None:
    """Enqueue a gated retraining job for the active model (the job the drift monitor runs)."""
    from services.retraining_worker.job_queue import TrainingQueue
    from services.retraining_worker.jobs import JobAlreadyActive

    name = _active_name(obj)
    queue = TrainingQueue(obj.settings, obj.engine)
    try:
        job = queue.submit(name, "manual")
        click.echo(f"queued training job {job.id} for {name}")
    except JobAlreadyActive as exc:
        job = exc.job
        click.echo(f"{name} already has a {job.status} training job {job.id}; following it")
    if not wait:
        click.echo("`mlpipe status` shows its progress; `mlpipe train --wait` waits for it")
        return
    finished = _wait(obj, queue, job.id, timeout)
    decision = finished.gate_decision or {}
    click.echo(f"job {finished.id}: {finished.status} after {finished.attempts} attempt(s)")
    if finished.status != "succeeded":
        raise JobDidNotSucceed(f"training job {finished.id} {finished.status}: {finished.error}")
    version, before = finished.model_version, finished.champion_version
    click.echo(f"gate: {decision.get('outcome')}: {decision.get('reason')}")
    if decision.get("outcome") == "promote":
        click.echo(f"registered {name} version {version} as champion (was version {before})")
    else:
        click.echo(f"registered {name} version {version} as challenger (run {finished.run_id})")
        if before is not None:
            click.echo(f"champion is still version {before}; `mlpipe promote {version}` to switch")


def _wait(obj: CliContext, queue: Any, job_id: str, timeout: float | None) -> Any:
    """Poll the job until it ends; run it here if no worker has taken it in time."""
    from services.drift_monitor.loop_status import service_status
    from services.retraining_worker.retrain import Retrainer
    from services.retraining_worker.runner import JobRunner, worker_name

    # With a worker of this instance running, leave the job to it for a while.
    worker_up = service_status(obj.settings)["retraining_worker"]["up"]
    grace = WORKER_GRACE_SECONDS if worker_up else 0.0
    started = time.monotonic()
    last_status = None
    while True:
        job = queue.jobs.get(job_id)
        if job.status != last_status:
            click.echo(f"... {job.status}" + (f" (attempt {job.attempts})" if job.attempts else ""))
            last_status = job.status
        if job.is_finished:
            return job
        waited = time.monotonic() - started
        if timeout is not None and waited > timeout:
            raise JobDidNotSucceed(
                f"training job {job_id} is still {job.status} after {timeout:g}s"
            )
        if job.status == "queued" and waited >= grace:
            click.echo("... no retraining worker took it: running it in this process")
            retrainer = Retrainer(obj.settings, obj.engine, _registry(obj))
            JobRunner(obj.settings, queue, retrainer, worker=f"mlpipe-cli:{worker_name()}").run(
                job_id
            )
            continue
        time.sleep(POLL_SECONDS)


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.pass_obj
def status(obj: CliContext, as_json: bool) -> None:
    """Services, champion and challenger, queue depth, the last jobs and drift event."""
    from services.drift_monitor.loop_status import loop_status

    report = loop_status(obj.settings, obj.engine, _registry(obj))
    if as_json:
        click.echo(json.dumps(report, indent=2, default=str))
        return
    for name, service in report["services"].items():
        where = service.get("url") or (f"pid {service['pid']}" if service.get("pid") else "")
        click.echo(f"{name:<20} {'up' if service['up'] else 'down':<5} {where}")
    model = report["model"]
    if model is None:
        click.echo("no active model: run `mlpipe init --data CSV --target COLUMN`")
    else:
        for alias in ("champion", "challenger"):
            info = model[alias]
            text = (
                f"v{info['version']} {info['family']} {_metrics(info['metrics'])}" if info else "-"
            )
            click.echo(f"{model['name']} {alias:<11} {text}")
    queue = report["queue"]
    click.echo(
        f"queue ({queue['backend']}): {queue['depth']} waiting; jobs {queue['jobs_by_status']}"
    )
    for job in report["jobs"]:
        version = f"-> v{job['model_version']}" if job["model_version"] else ""
        click.echo(
            f"  {job['created_at'][:19]} {job['id'][:8]} {job['reason']:<17} {job['status']:<9} {version} {job['gate'] or job['error'] or ''}"
        )
    event = report["last_drift_event"]
    if event:
        click.echo(
            f"last drift check {event['at'][:19]}: drift={event['dataset_drift']} action={event['action']}"
        )


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def _metrics(metrics: dict[str, float]) -> str:
    return " ".join(f"{key}={value:.3f}" for key, value in metrics.items())

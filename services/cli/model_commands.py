"""`mlpipe init`, `models`, `promote`, `rollback`: thin commands over the registry.

The work happens in services.retraining_worker.initial_model and registry; this
module only parses options, shows progress and prints results. (`mlpipe train`,
the gated job, lives in loop_commands and reuses `_active_name` and `_registry`.)
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

from services.cli.context import CliContext
from shared.errors import InputError, NoActiveModel

if TYPE_CHECKING:
    from ml.training import Progress, TrainingResult
    from registry import ModelRegistry

CLI_ACTOR = "mlpipe cli"
SHOWN_METRICS = ("roc_auc", "f1", "accuracy", "balanced_accuracy", "log_loss")


@click.command("init")
@click.option(
    "--data",
    "csv_path",
    type=click.Path(path_type=Path),
    required=True,
    help="Training CSV (UTF-8, header row).",
)
@click.option("--target", required=True, help="Column to predict.")
@click.option("--name", default=None, help="Model name [default: the CSV's file stem].")
@click.option("--force", is_flag=True, help="Replace a model that is already initialised.")
@click.option(
    "--if-missing", is_flag=True, help="Do nothing when there is already an active model."
)
@click.pass_obj
def init(
    obj: CliContext, csv_path: Path, target: str, name: str | None, force: bool, if_missing: bool
) -> None:
    """Infer the schema, store the rows, train, register and make the model champion."""
    from ml.feature_store.datasets import active_dataset
    from services.retraining_worker.initial_model import plan_initial_model, register_initial_model

    _prepare_home(obj, migrate=True)
    if if_missing:
        try:
            active = active_dataset(obj.engine, obj.settings)
        except NoActiveModel:
            pass
        else:
            click.echo(f"active model {active.name!r} exists; nothing to initialise")
            return
    with _progress() as progress:
        # Input problems surface before any MLflow store is opened or written.
        plan = plan_initial_model(
            obj.settings, obj.engine, csv_path=csv_path, target=target, name=name,
            force=force, progress=progress,
        )  # fmt: skip
        progress("opening the MLflow store")
        outcome = register_initial_model(obj.engine, _registry(obj), plan, progress)
    data, schema = outcome.data, outcome.data.schema
    click.echo(f"read {len(data.features):,} rows from {csv_path}")
    click.echo(
        f"schema: {len(schema.features)} features ({len(schema.numeric)} numeric, "
        f"{len(schema.categorical)} categorical), {schema.task} target {schema.target!r} "
        f"with classes {', '.join(schema.classes)}"
    )
    for column, why in schema.dropped.items():
        click.echo(f"dropped column {column!r}: {why}")
    if data.missing_target:
        click.echo(f"{data.missing_target:,} rows without a target: stored, not trained on")
    _echo_result(outcome.result)
    verb = "replaced; registered" if outcome.replaced else "registered"
    click.echo(
        f"{verb} {outcome.dataset.name} version {outcome.version} as champion (run {outcome.run_id})"
    )


@click.command("models")
@click.option("--name", default=None, help="Model name [default: the active model].")
@click.pass_obj
def models(obj: CliContext, name: str | None) -> None:
    """List the versions of a model with their holdout metrics and aliases."""
    name = name or _active_name(obj)
    registry = _registry(obj)
    versions = registry.list_versions(name)
    if not versions:
        raise InputError(f"model {name!r} has no registered versions; run `mlpipe init`")
    table = Table(title=f"{name}: {len(versions)} version(s)", title_justify="left")
    for column in ("version", "aliases", "family", *SHOWN_METRICS, "created (UTC)"):
        table.add_column(column, justify="right" if column in SHOWN_METRICS else "left")
    for info in versions:
        metrics = [_number(info.metrics.get(key)) for key in SHOWN_METRICS]
        created = info.created_at.strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(
            info.version, ", ".join(info.aliases) or "-", info.family or "?", *metrics, created
        )
    Console(width=160 if not Console().is_terminal else None).print(table)


@click.command("promote")
@click.argument("version")
@click.option("--name", default=None, help="Model name [default: the active model].")
@click.option("--reason", default="promoted by hand", show_default=True)
@click.pass_obj
def promote(obj: CliContext, version: str, name: str | None, reason: str) -> None:
    """Make VERSION the champion (the current one is remembered for rollback)."""
    if not version.isdigit():
        raise InputError(f"VERSION must be a version number, got {version!r}")
    name = name or _active_name(obj)
    registry = _registry(obj)
    move = registry.promote(name, version, reason=reason, actor=CLI_ACTOR)
    assert move is not None  # unconditional
    before = f"version {move.previous_version}" if move.previous_version else "none"
    click.echo(f"{name}: champion {before} -> version {version}")


@click.command("rollback")
@click.option("--name", default=None, help="Model name [default: the active model].")
@click.option("--reason", default="rolled back by hand", show_default=True)
@click.pass_obj
def rollback(obj: CliContext, name: str | None, reason: str) -> None:
    """Make the previous champion the champion again."""
    name = name or _active_name(obj)
    registry = _registry(obj)
    move = registry.rollback(name, reason=reason, actor=CLI_ACTOR)
    click.echo(
        f"{name}: champion version {move.previous_version} -> version {move.version} (rolled back)"
    )


def _prepare_home(obj: CliContext, *, migrate: bool = False) -> None:
    """`init` may be the first command on a fresh home, so it migrates; the others need a model."""
    from shared.migrate import current_revision, is_up_to_date, upgrade

    # Their INFO lines (and MLflow's retry warnings) would bury the command's own output.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    obj.settings.ensure_dirs()
    if migrate and not is_up_to_date(obj.engine):
        upgrade(obj.engine)
    elif not migrate and current_revision(obj.engine) is None:
        raise InputError("no models yet: run `mlpipe init --data CSV --target COLUMN` first")


def _registry(obj: CliContext) -> ModelRegistry:
    _prepare_home(obj)
    from registry import ModelRegistry  # imports MLflow (seconds): only once the home is usable

    return ModelRegistry(obj.settings, obj.engine)


def _active_name(obj: CliContext) -> str:
    from ml.feature_store import active_dataset

    _prepare_home(obj)
    try:
        return active_dataset(obj.engine, obj.settings).name
    except NoActiveModel as exc:  # for the CLI a missing model is a usage mistake: exit 2
        raise InputError(exc.message) from None


@contextmanager
def _progress() -> Iterator[Progress]:
    """A spinner with the current step on a terminal; plain step lines otherwise.

    Step lines go to stdout so that stderr holds nothing but a failure's one line.
    """
    console = Console(stderr=True)
    if not console.is_terminal:
        yield lambda message: click.echo(f"... {message}")
        return
    with console.status("starting") as status:
        yield lambda message: status.update(message)


def _echo_result(result: TrainingResult) -> None:
    ranked = sorted(result.cv_scores.items(), key=lambda item: item[1]["mean"], reverse=True)
    scores = ", ".join(f"{family} {score['mean']:.3f}" for family, score in ranked)
    click.echo(f"cross-validated {result.primary_metric}: {scores}")
    metrics = "  ".join(f"{key} {_number(result.metrics.get(key))}" for key in SHOWN_METRICS)
    click.echo(f"selected {result.family}; holdout ({result.n_holdout:,} rows): {metrics}")


def _number(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, int | float) else "-"

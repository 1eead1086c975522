"""`mlpipe db upgrade` and `mlpipe make-data`."""

from __future__ import annotations

from pathlib import Path

import click

from ml.data.sample import SCENARIOS, make_dataset, write_csv
from services.cli.context import CliContext


@click.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(obj: CliContext) -> None:
    """Create or upgrade the schema to the newest migration (safe to repeat)."""
    from shared.migrate import current_revision, upgrade

    obj.settings.ensure_dirs()
    before = current_revision(obj.engine)
    upgrade(obj.engine)
    after = current_revision(obj.engine)
    state = "already up to date" if before == after else f"upgraded {before or 'empty'} -> {after}"
    click.echo(f"database {obj.engine.url.render_as_string(hide_password=True)}: {state}")


@click.command("make-data")
@click.option("--rows", type=click.IntRange(min=1), required=True, help="Number of rows.")
@click.option("--scenario", type=click.Choice(list(SCENARIOS)), default="none", show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def make_data(rows: int, scenario: str, seed: int, out: Path) -> None:
    """Write a synthetic lung-disease CSV (see docs/DATA.md for the model and scenarios)."""
    frame = make_dataset(rows, scenario=scenario, seed=seed)
    write_csv(frame, out)
    click.echo(f"wrote {rows} rows ({scenario}: {SCENARIOS[scenario]}) to {out}")

"""`mlpipe`: the command line. Each command group lives in its own module."""

from __future__ import annotations

import gc
import sys

import click

from services.cli.config_commands import config
from services.cli.context import CliContext, PipelineGroup
from services.cli.data_commands import db, make_data
from services.cli.loop_commands import drift, status, train
from services.cli.model_commands import init, models, promote, rollback


@click.group(cls=PipelineGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Self-hosted ML service for tabular data: train, serve, watch for drift, retrain."""
    ctx.obj = CliContext.from_environment()


cli.add_command(config)
cli.add_command(db)
cli.add_command(make_data)
cli.add_command(init)
cli.add_command(train)
cli.add_command(models)
cli.add_command(promote)
cli.add_command(rollback)
cli.add_command(drift)
cli.add_command(status)


def main() -> None:
    try:
        sys.exit(cli.main(prog_name="mlpipe", standalone_mode=True))
    finally:
        # The last garbage collection at exit walks MLflow's object graph: ~3 s on a busy
        # 2-core host for commands that imported it; frozen objects are skipped.
        gc.freeze()


if __name__ == "__main__":
    main()

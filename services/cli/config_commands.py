"""`mlpipe config`: the resolved settings, for people and for the run scripts."""

from __future__ import annotations

import json
import shlex

import click

from services.cli.context import CliContext

# What the shell scripts need, by the environment variable name they use.
SHELL_VARIABLES = (
    "pipeline_home",
    "database_url",
    "redis_url",
    "redis_prefix",
    "mlflow_tracking_uri",
    "mlflow_artifact_root",
    "host",
    "ingestion_api_port",
    "prediction_service_port",
    "dashboard_port",
    "mlflow_ui_port",
    "model_name",
    "api_key",
)


@click.command("config")
@click.option("--shell", "as_shell", is_flag=True, help="Print NAME=value lines a shell can eval.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def config(obj: CliContext, as_shell: bool, as_json: bool) -> None:
    """Show the configuration in force (environment, .env and defaults); API_KEY is masked."""
    values = obj.settings.model_dump(mode="json")
    if as_shell:
        for name in SHELL_VARIABLES:
            value = values.get(name)
            click.echo(f"{name.upper()}={shlex.quote('' if value is None else str(value))}")
        return
    if values.get("api_key"):
        values["api_key"] = "***"
    if as_json:
        click.echo(json.dumps(values, indent=2))
        return
    width = max(map(len, values))
    for name, value in values.items():
        click.echo(f"{name.upper():<{width}}  {value}")

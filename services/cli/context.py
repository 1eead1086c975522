"""What every CLI command shares: settings, a lazily built engine, and error handling."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import click
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from shared.config import Settings, SettingsError, load_settings
from shared.errors import PipelineError


@dataclass
class CliContext:
    settings: Settings
    _engine: Engine | None = field(default=None, repr=False)

    @classmethod
    def from_environment(cls) -> CliContext:
        try:
            return cls(load_settings())
        except SettingsError as exc:
            _fail(f"configuration: {exc}", 2)
            raise  # unreachable; _fail exits

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from shared.database import make_engine

            self._engine = make_engine(self.settings)
        return self._engine


class PipelineGroup(click.Group):
    """Turns the project's named errors into one line on stderr: 2 for bad input, 1 otherwise."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except SettingsError as exc:
            _fail(f"configuration: {exc}", 2)
        except PipelineError as exc:
            _fail(exc.message, 2 if exc.status < 500 else 1)
        except OperationalError as exc:
            _fail(f"database unavailable: {exc.orig}".splitlines()[0], 1)


def _fail(message: str, code: int) -> None:
    click.echo(f"mlpipe: error: {message}", err=True)
    raise click.exceptions.Exit(code)

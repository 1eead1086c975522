"""Callbacks keep showing their last data while the database is away; the status
banner (see shell) says why. No traceback ever reaches the browser."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from dash.exceptions import PreventUpdate

from dashboards.queries.status import DATABASE_ERRORS, first_line

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


def keep_on_database_error(func: F) -> F:
    """Turn a database failure into 'no update' (HTTP 204) instead of a 500."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except DATABASE_ERRORS as exc:
            log.warning("%s skipped: database unavailable: %s", func.__name__, first_line(exc))
            raise PreventUpdate from exc

    return wrapper  # type: ignore[return-value]

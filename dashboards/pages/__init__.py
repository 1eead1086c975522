"""One module per page: `layout(settings)` builds the static skeleton, `update(...)` is
the work of its callbacks (callable directly: tests and the benchmark do), and
`register(app, ctx)` wires the callbacks to the app."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from dashboards.pages import data, drift, jobs, models, overview, predictions


@dataclass(frozen=True)
class Page:
    path: str
    title: str
    module: ModuleType

    @property
    def layout(self) -> Callable[..., Any]:
        return self.module.layout

    @property
    def register(self) -> Callable[..., None]:
        return self.module.register


PAGES: tuple[Page, ...] = (
    Page("/", "Overview", overview),
    Page("/predictions", "Predictions", predictions),
    Page("/drift", "Drift", drift),
    Page("/models", "Models", models),
    Page("/jobs", "Jobs", jobs),
    Page("/data", "Data", data),
)


def page_for(path: str | None) -> Page | None:
    wanted = (path or "/").rstrip("/") or "/"
    return next((page for page in PAGES if page.path == wanted), None)

"""Fill a migrated database with the story at a chosen scale."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy.engine import Engine

from dashboards.sample_history.events import write_drift_events
from dashboards.sample_history.lifecycle import (
    plan_jobs,
    write_batches,
    write_dataset,
    write_jobs_and_registry,
)
from dashboards.sample_history.story import MODEL_NAME, Story
from dashboards.sample_history.traffic import write_traffic


@dataclass(frozen=True)
class HistorySpec:
    """How much history, over how long. The defaults make a 50-minute demo."""

    span: timedelta = timedelta(minutes=50)
    predictions: int = 3_000
    drift_checks: int = 20
    batches: int = 25
    label_share: float = 0.35
    window_size: int = 500
    model_name: str = MODEL_NAME
    seed: int = 7


@dataclass(frozen=True)
class HistorySummary:
    start: datetime
    end: datetime
    predictions: int
    labels: int
    drift_checks: int


def seed_history(
    engine: Engine, spec: HistorySpec = HistorySpec(), end: datetime | None = None
) -> HistorySummary:
    """Write the whole story ending at `end` (default: now) into an empty, migrated database."""
    end = end or datetime.now(UTC)
    story = Story(end - spec.span, spec.span, spec.drift_checks)
    rng = np.random.default_rng(spec.seed)
    dataset_id = write_dataset(engine, spec.model_name, story.start - timedelta(days=1))
    jobs = plan_jobs()
    checks = write_drift_events(
        engine, story, spec.model_name, spec.window_size, spec.label_share, jobs, rng
    )
    write_jobs_and_registry(engine, story, spec.model_name, jobs)
    write_batches(engine, story, dataset_id, spec.batches, rng)
    labels = write_traffic(
        engine, story, spec.model_name, spec.predictions, spec.label_share, end, rng
    )
    return HistorySummary(story.start, end, spec.predictions, labels, checks)

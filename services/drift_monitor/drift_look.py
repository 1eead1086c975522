"""`mlpipe drift`: a read-only look at the newest traffic against the champion's profile.

Unlike a monitor cycle it records nothing and triggers nothing: it takes the last
N logged predictions of the active model, whichever version made them, and
compares their features with the champion's reference profile. Prediction drift
and realised performance are included only when the champion made every row
(another version's outputs say nothing about this one).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine

from ml.evaluation import DriftDetector, ReferenceProfile
from ml.feature_store import active_dataset
from registry import CHAMPION, ModelRegistry
from services.drift_monitor.prediction_log import PredictionLog
from shared.config import Settings
from shared.errors import NoActiveModel


def drift_look(
    settings: Settings, engine: Engine, registry: ModelRegistry, *, last: int | None = None
) -> dict[str, Any]:
    """The DESIGN.md `mlpipe drift --json` document for the newest `last` predictions."""
    dataset = active_dataset(engine, settings)
    version = registry.version_for_alias(dataset.name, CHAMPION)
    if version is None:
        raise NoActiveModel(f"model {dataset.name!r} has no champion")
    model = registry.load(dataset.name, version)
    profile = ReferenceProfile.from_dict(model.profile)
    size = last or settings.drift_window_size
    window = PredictionLog(engine).latest(dataset.name, model.schema, limit=size)
    same_model = window.versions is not None and bool((window.versions == version).all())
    labelled = same_model and bool(window.labels.notna().any())
    report = DriftDetector().compare(
        profile,
        window.frame,
        predictions=window.predictions if same_model else None,
        probabilities=window.probabilities if same_model else None,
        labels=window.labels if labelled else None,
    )
    if window.n == 0:
        report.reason = f"no logged predictions of {dataset.name!r} yet; {report.reason}"
    summary = report.summary()
    summary["model"] = {"name": dataset.name, "version": version}
    return summary

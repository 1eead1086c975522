"""The training set and the gate holdout of one job, chosen by the training policy.

Labelled data comes from three places: the reference rows stored by `mlpipe
init`, labelled rows ingested since (feature store), and labels fed back on
logged predictions. Every live row is timed by when its label arrived.

* Holdout: the newest HOLDOUT_FRACTION of the live rows the policy uses. Neither
  model trained on them (the champion predates them, the candidate leaves them
  out), so champion and candidate are compared on equal terms, on the data that
  matters now.
* `cumulative` policy: train on the reference rows plus every older live row.
  Right when old labels still hold (covariate shift, more data).
* `sliding` policy: train on the live rows of the last TRAINING_WINDOW_HOURS,
  and, for a job a drift event triggered, none from before that drift began;
  the newest reference rows only top it up to SLIDING_MIN_ROWS. Right when the
  relation between features and label changed (concept drift): older labels
  would teach the old concept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from ml.feature_store import REFERENCE_SPLIT, FeatureStore
from ml.schema import DatasetSchema
from ml.training.fingerprint import content_hash
from services.drift_monitor.prediction_log import PredictionLog
from shared.config import Settings

LIVE_SPLITS = ("ingested", "stream")  # feature-store splits written after `mlpipe init`
SLIDING_MIN_ROWS = 200
MAX_FEEDBACK_ROWS = 200_000  # newest fed-back labels read per job


@dataclass
class TrainingData:
    """Rows of one job: `holdout` marks the gate rows (True) among `frame`'s rows."""

    frame: pd.DataFrame
    labels: pd.Series
    times: pd.Series
    holdout: pd.Series
    policy: str
    counts: dict[str, int]

    @property
    def train_rows(self) -> int:
        return int((~self.holdout).sum())

    @property
    def holdout_rows(self) -> int:
        return int(self.holdout.sum())

    def holdout_frame(self) -> tuple[pd.DataFrame, pd.Series]:
        return self.frame[self.holdout], self.labels[self.holdout]

    def lineage(self) -> dict[str, Any]:
        """What to tag the MLflow run with: the data window, its hash and the policy."""
        train_times = self.times[~self.holdout]
        return {
            "policy": self.policy,
            "train_rows": self.train_rows,
            "holdout_rows": self.holdout_rows,
            "window_start": _iso(train_times.min()),
            "window_end": _iso(self.times.max()),
            "holdout_start": _iso(self.times[self.holdout].min()),
            "data_hash": content_hash(self.frame, self.labels),
            **{f"rows_{source}": n for source, n in self.counts.items()},
        }


def assemble(
    settings: Settings,
    store: FeatureStore,
    log: PredictionLog,
    *,
    dataset_id: int,
    model_name: str,
    schema: DatasetSchema,
    now: datetime,
    drift_onset: datetime | None = None,
) -> TrainingData:
    """Gather labelled rows, hold out the newest live ones, and apply the policy."""
    reference = _frame(*store.training_frame(dataset_id, splits=[REFERENCE_SPLIT]), "reference")
    ingested = _frame(*store.training_frame(dataset_id, splits=list(LIVE_SPLITS)), "ingested")
    feedback_window = log.labelled(model_name, schema, until=now, limit=MAX_FEEDBACK_ROWS)
    feedback = _frame(
        feedback_window.frame, feedback_window.labels, feedback_window.times, "feedback"
    )
    live = pd.concat([ingested, feedback], ignore_index=True).sort_values("_at", kind="stable")
    if settings.training_policy == "sliding":
        start = now - timedelta(hours=settings.training_window_hours)
        live = live[live["_at"] >= pd.Timestamp(max(start, drift_onset) if drift_onset else start)]
    n_holdout = math.ceil(settings.holdout_fraction * len(live))
    holdout = live.iloc[len(live) - n_holdout :]
    train = live.iloc[: len(live) - n_holdout]
    if settings.training_policy == "sliding":
        missing = SLIDING_MIN_ROWS - len(train)
        if missing > 0:
            train = pd.concat([reference.iloc[max(len(reference) - missing, 0) :], train])
    else:
        train = pd.concat([reference, train])
    rows = pd.concat([train, holdout], ignore_index=True)
    counts = {"reference": len(reference), "ingested": len(ingested), "feedback": len(feedback)}
    return TrainingData(
        frame=rows[schema.feature_names],
        labels=rows["_label"].astype(object),
        times=rows["_at"],
        holdout=pd.Series([False] * len(train) + [True] * len(holdout), index=rows.index),
        policy=settings.training_policy,
        counts=counts,
    )


def _frame(frame: pd.DataFrame, labels: pd.Series, times: pd.Series, source: str) -> pd.DataFrame:
    out = frame.reset_index(drop=True).copy()
    out["_label"] = labels.reset_index(drop=True).astype(object)
    out["_at"] = pd.to_datetime(times.reset_index(drop=True), utc=True)
    out["_source"] = source
    return out[out["_label"].notna()]


def _iso(value: Any) -> str | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).isoformat()

"""The windows of one monitor cycle and the drift report made from them.

Two windows, each "since the last check" with its own cursor:
* data window: predictions the champion made since the last data window (feature
  drift and prediction drift), taken once at least DRIFT_MIN_SAMPLES are there;
* label window: labels that arrived since the last label window, on predictions
  the champion made (POST /feedback) and on ingested labelled rows, which the
  champion scores here; taken once at least PERFORMANCE_MIN_LABELS are there.
Both keep the newest DRIFT_WINDOW_SIZE rows when more have accumulated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sklearn.pipeline import Pipeline

from ml.evaluation import DriftDetector, DriftReport, DriftThresholds, ReferenceProfile
from ml.evaluation.decision import dataset_verdict
from ml.feature_store import FeatureStore
from ml.schema import DatasetSchema
from ml.training.metrics import predict_with_probabilities
from services.drift_monitor.prediction_log import PredictionLog, Window
from shared.config import Settings

LIVE_SPLITS = ["ingested", "stream"]  # feature-store rows stored after `mlpipe init`


@dataclass
class Cursor:
    """Where the last data and label windows of one champion version ended."""

    data_since: datetime | None = None
    label_since: datetime | None = None


@dataclass
class Windows:
    data: Window | None
    labels: Window | None
    until: datetime

    @property
    def empty(self) -> bool:
        return self.data is None and self.labels is None


class WindowCollector:
    def __init__(self, settings: Settings, log: PredictionLog, store: FeatureStore) -> None:
        self.settings, self.log, self.store = settings, log, store

    def collect(
        self,
        model_name: str,
        version: str,
        dataset_id: int,
        schema: DatasetSchema,
        pipeline: Pipeline,
        cursor: Cursor,
        until: datetime,
    ) -> Windows:
        size = self.settings.drift_window_size
        data = None
        made = self.log.count_made(model_name, version, since=cursor.data_since, until=until)
        if made >= self.settings.drift_min_samples:
            data = self.log.made(
                model_name, version, schema, since=cursor.data_since, until=until, limit=size
            )
        fed_back = self.log.labelled(
            model_name, schema, version=version, since=cursor.label_since, until=until, limit=size
        )
        ingested = self._scored_ingested(dataset_id, schema, pipeline, cursor.label_since, until)
        labelled = _newest(_concat(fed_back, ingested), size)
        enough = labelled.n >= self.settings.performance_min_labels
        return Windows(data, labelled if enough else None, until)

    def _scored_ingested(
        self,
        dataset_id: int,
        schema: DatasetSchema,
        pipeline: Pipeline,
        since: datetime | None,
        until: datetime,
    ) -> Window | None:
        """Labelled rows ingested in the window, with the champion's outputs on them."""
        if since is None:
            return None  # a fresh champion starts from its own predictions, not old uploads
        frame, labels, times = self.store.training_frame(
            dataset_id, since=since, until=until, splits=LIVE_SPLITS
        )
        if frame.empty:
            return None
        predicted, probabilities = predict_with_probabilities(pipeline, frame, schema.classes)
        return Window(frame, predicted, probabilities, labels.astype(object), times)


def compare(
    detector: DriftDetector, profile: ReferenceProfile, windows: Windows
) -> tuple[DriftReport, int]:
    """One report for the cycle (+ how many labelled rows it judged performance on)."""
    labelled = windows.labels
    perf = None
    if labelled is not None:
        perf = detector.compare(
            profile,
            labelled.frame,
            predictions=labelled.predictions,
            labels=labelled.labels,
            probabilities=labelled.probabilities,
        )
    if windows.data is None:
        assert perf is not None and labelled is not None
        return perf, labelled.n
    data = windows.data
    report = detector.compare(
        profile, data.frame, predictions=data.predictions, probabilities=data.probabilities
    )
    if perf is None:
        return report, 0
    report.performance, report.label_drift = perf.performance, perf.label_drift
    dataset_verdict(report, profile.importances, detector.thresholds or DriftThresholds())
    assert labelled is not None
    return report, labelled.n


def _concat(first: Window, second: Window | None) -> Window:
    if second is None or second.n == 0:
        return first
    if first.n == 0:
        return second
    probabilities = None
    if first.probabilities is not None and second.probabilities is not None:
        probabilities = pd.concat([first.probabilities, second.probabilities], ignore_index=True)
    merged = Window(
        frame=pd.concat([first.frame, second.frame], ignore_index=True),
        predictions=pd.concat([first.predictions, second.predictions], ignore_index=True),
        probabilities=probabilities,
        labels=pd.concat([first.labels, second.labels], ignore_index=True),
        times=pd.concat([first.times, second.times], ignore_index=True),
    )
    order = merged.times.sort_values(kind="stable").index
    return _take(merged, order)


def _newest(window: Window, size: int) -> Window:
    return window if window.n <= size else _take(window, window.frame.index[-size:])


def _take(window: Window, index: pd.Index) -> Window:
    pick = list(index)
    probabilities = None
    if window.probabilities is not None:
        probabilities = window.probabilities.loc[pick].reset_index(drop=True)
    return Window(
        frame=window.frame.loc[pick].reset_index(drop=True),
        predictions=window.predictions.loc[pick].reset_index(drop=True),
        probabilities=probabilities,
        labels=window.labels.loc[pick].reset_index(drop=True),
        times=window.times.loc[pick].reset_index(drop=True),
    )

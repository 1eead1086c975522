"""The reference profile: everything drift detection needs from the training data, in a few KB."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ml.evaluation.outputs import class_order, score_values
from ml.evaluation.performance import realised_metrics
from ml.evaluation.sketch import DEFAULT_QUANTILES, CategoryCounts, NumericSketch

PROFILE_FORMAT_VERSION = 1


@dataclass
class ReferenceProfile:
    """Per-feature sketches plus output, label and performance summaries of the reference data."""

    numeric: dict[str, NumericSketch]
    categorical: dict[str, CategoryCounts]
    n_rows: int
    predictions: CategoryCounts | None = None
    scores: NumericSketch | None = None
    score_name: str | None = None
    labels: CategoryCounts | None = None
    classes: list[str] = field(default_factory=list)
    reference_metrics: dict[str, float] = field(default_factory=dict)
    importances: dict[str, float] = field(default_factory=dict)

    @classmethod
    def fit(
        cls,
        frame: pd.DataFrame,
        *,
        numeric: list[str],
        categorical: list[str],
        predictions: pd.Series | None = None,
        probabilities: np.ndarray | pd.DataFrame | None = None,
        labels: pd.Series | None = None,
        reference_metrics: dict[str, float] | None = None,
        importances: dict[str, float] | None = None,
        n_quantiles: int = DEFAULT_QUANTILES,
    ) -> ReferenceProfile:
        """Summarise `frame` (training or holdout data) and, optionally, the model's outputs on it.

        Probability columns follow the sorted class order (scikit-learn's `classes_`) unless
        `probabilities` is a DataFrame whose columns name the classes.
        """
        absent = [name for name in [*numeric, *categorical] if name not in frame.columns]
        if absent:
            raise ValueError(f"reference frame lacks column(s): {', '.join(absent)}")
        overlap = set(numeric) & set(categorical)
        if overlap:
            raise ValueError(
                f"column(s) both numeric and categorical: {', '.join(sorted(overlap))}"
            )
        classes = class_order(labels, predictions, probabilities)
        scores, score_name = score_values(probabilities, classes)
        metrics = dict(reference_metrics or {})
        if not metrics and labels is not None and predictions is not None:
            realised = realised_metrics(labels, predictions, scores, classes)
            metrics = {
                name: check.realised
                for name, check in realised.items()
                if check.realised is not None
            }
        return cls(
            numeric={name: NumericSketch.fit(frame[name], n_quantiles) for name in numeric},
            categorical={name: CategoryCounts.fit(frame[name]) for name in categorical},
            n_rows=len(frame),
            predictions=CategoryCounts.fit(predictions) if predictions is not None else None,
            scores=NumericSketch.fit(scores, n_quantiles) if scores is not None else None,
            score_name=score_name,
            labels=CategoryCounts.fit(labels) if labels is not None else None,
            classes=classes,
            reference_metrics={key: float(value) for key, value in metrics.items()},
            importances={key: float(value) for key, value in (importances or {}).items()},
        )

    @property
    def features(self) -> list[str]:
        return [*self.numeric, *self.categorical]

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form; its size depends on the number of features, not of rows."""
        return {
            "format_version": PROFILE_FORMAT_VERSION,
            "n_rows": self.n_rows,
            "numeric": {name: sketch.to_dict() for name, sketch in self.numeric.items()},
            "categorical": {name: counts.to_dict() for name, counts in self.categorical.items()},
            "predictions": self.predictions.to_dict() if self.predictions else None,
            "scores": self.scores.to_dict() if self.scores else None,
            "score_name": self.score_name,
            "labels": self.labels.to_dict() if self.labels else None,
            "classes": list(self.classes),
            "reference_metrics": dict(self.reference_metrics),
            "importances": dict(self.importances),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReferenceProfile:
        """Inverse of `to_dict`; refuses profiles written by a newer format."""
        version = data.get("format_version")
        if version != PROFILE_FORMAT_VERSION:
            raise ValueError(f"unsupported reference profile format_version {version!r}")
        return cls(
            numeric={name: NumericSketch.from_dict(raw) for name, raw in data["numeric"].items()},
            categorical={
                name: CategoryCounts.from_dict(raw) for name, raw in data["categorical"].items()
            },
            n_rows=int(data["n_rows"]),
            predictions=_optional(CategoryCounts, data.get("predictions")),
            scores=_optional(NumericSketch, data.get("scores")),
            score_name=data.get("score_name"),
            labels=_optional(CategoryCounts, data.get("labels")),
            classes=list(data.get("classes", [])),
            reference_metrics=dict(data.get("reference_metrics", {})),
            importances=dict(data.get("importances", {})),
        )


def _optional(kind: Any, raw: dict[str, Any] | None) -> Any:
    return kind.from_dict(raw) if raw else None

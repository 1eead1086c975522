"""DriftDetector: compare a window with a reference profile and decide, in layers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.evaluation.columns import compare_categorical, compare_numeric
from ml.evaluation.decision import dataset_verdict
from ml.evaluation.outputs import Probabilities, output_checks, output_verdict, score_values
from ml.evaluation.performance import compare_performance
from ml.evaluation.profile import ReferenceProfile
from ml.evaluation.report import DriftReport, FeatureDrift, OutputDrift
from ml.evaluation.significance import benjamini_hochberg
from ml.evaluation.thresholds import DriftThresholds, ResolvedThresholds
from ml.evaluation.verdicts import decide_feature

_P_FIELDS = (
    ("p_value", "p_adjusted"),
    ("missing_p_value", "missing_p_adjusted"),
    ("unseen_p_value", "unseen_p_adjusted"),
)


class DriftDetector:
    """Layered drift detection: significance after Benjamini-Hochberg AND a practical effect size."""

    def __init__(self, thresholds: DriftThresholds | None = None) -> None:
        self.thresholds = thresholds

    def compare(
        self,
        profile: ReferenceProfile,
        current: pd.DataFrame,
        *,
        predictions: pd.Series | None = None,
        labels: pd.Series | None = None,
        probabilities: Probabilities | None = None,
    ) -> DriftReport:
        """Compare the window `current` (plus optional outputs and labels) with `profile`."""
        limits = self.thresholds or DriftThresholds()
        features = self._feature_checks(profile, current, limits)
        scores, _ = score_values(probabilities, profile.classes)
        prediction_checks = output_checks(
            "prediction",
            profile.predictions,
            predictions,
            profile.scores,
            scores,
            limits.min_samples,
        )
        label_checks = output_checks(
            "label", profile.labels, labels, None, None, limits.min_samples
        )
        family = [*features.values(), *prediction_checks, *label_checks]
        _adjust(family)
        for feature in features.values():
            decide_feature(feature, limits.for_feature(feature.name, feature.kind), limits.alpha)
            feature.importance = profile.importances.get(feature.name)
        prediction_drift = _output(prediction_checks, limits, limits.prediction_drift)
        label_drift = _output(label_checks, limits, limits.label_drift)
        performance = None
        if labels is not None:
            performance = compare_performance(
                profile.reference_metrics,
                labels,
                predictions,
                scores,
                profile.classes,
                threshold=limits.performance_drop,
                alpha=limits.alpha,
                min_samples=limits.min_samples,
            )
        report = DriftReport(
            dataset_drift=None,
            reason="",
            n_current=len(current),
            n_reference=profile.n_rows,
            features=features,
            prediction_drift=prediction_drift,
            label_drift=label_drift,
            performance=performance,
            thresholds=limits.to_dict(),
        )
        dataset_verdict(report, profile.importances, limits)
        return report

    @staticmethod
    def _feature_checks(
        profile: ReferenceProfile, current: pd.DataFrame, limits: DriftThresholds
    ) -> dict[str, FeatureDrift]:
        features: dict[str, FeatureDrift] = {}
        for name, sketch in profile.numeric.items():
            minimum = limits.for_feature(name, "numeric").min_samples
            column = current[name] if name in current.columns else None
            features[name] = compare_numeric(name, sketch, column, minimum)
        for name, counts in profile.categorical.items():
            minimum = limits.for_feature(name, "categorical").min_samples
            column = current[name] if name in current.columns else None
            features[name] = compare_categorical(name, counts, column, minimum)
        return features


def _adjust(family: list[FeatureDrift | None]) -> None:
    """Benjamini-Hochberg over every p-value of the window (features, outputs, labels)."""
    slots = [
        (check, raw, adjusted)
        for check in family
        if check is not None
        for raw, adjusted in _P_FIELDS
        if getattr(check, raw) is not None
    ]
    raw_values = [getattr(check, raw) for check, raw, _ in slots]
    for (check, _, adjusted), value in zip(slots, benjamini_hochberg(raw_values), strict=True):
        setattr(check, adjusted, value)


def _output(
    checks: tuple[FeatureDrift | None, FeatureDrift | None], limits: DriftThresholds, effect: float
) -> OutputDrift | None:
    classes, scores = checks
    if classes is None and scores is None:
        return None
    class_limits = ResolvedThresholds(effect, np.inf, limits.unseen_share, limits.min_samples)
    score_limits = ResolvedThresholds(limits.numeric_effect, np.inf, np.inf, limits.min_samples)
    return output_verdict(classes, scores, class_limits, score_limits, limits.alpha)

"""The data-set decision: importance-weighted drifted share, prediction, label and performance."""

from __future__ import annotations

from ml.evaluation.report import DRIFT, NOT_TESTABLE, DriftReport, FeatureDrift
from ml.evaluation.thresholds import DriftThresholds

TOP_FEATURES = 5


def feature_weights(names: list[str], importances: dict[str, float]) -> dict[str, float]:
    """Importance weights; uniform when no importance names a feature (e.g. none were given)."""
    known = {name: max(float(importances.get(name, 0.0)), 0.0) for name in names}
    if sum(known.values()) <= 0:
        return dict.fromkeys(names, 1.0)
    return known


def dataset_verdict(
    report: DriftReport, importances: dict[str, float], limits: DriftThresholds
) -> None:
    """Fill the data-set level fields of `report` from its per-feature and output checks."""
    features = report.features
    weights = feature_weights(list(features), importances)
    report.drifted_features = [name for name, f in features.items() if f.verdict == DRIFT]
    report.not_testable_features = [
        name for name, f in features.items() if f.verdict == NOT_TESTABLE
    ]
    report.top_features = _top_features(features, weights)
    testable_weight = sum(
        weights[name] for name, f in features.items() if f.verdict != NOT_TESTABLE
    )
    drifted_weight = sum(weights[name] for name in report.drifted_features)
    report.drifted_share = drifted_weight / testable_weight if testable_weight > 0 else None

    if report.n_current < limits.min_samples:
        report.dataset_drift = None
        report.reason = f"window has {report.n_current} rows (at least {limits.min_samples} needed)"
        return
    signals, checked = [], report.drifted_share is not None
    share = report.drifted_share or 0.0
    if report.drifted_features and share >= limits.drift_share:
        signals.append(
            f"{len(report.drifted_features)} of {len(features)} features drifted"
            f" (weighted share {share:.2f} >= {limits.drift_share:g}):"
            f" {', '.join(report.drifted_features)}"
        )
    for label, output in (
        ("prediction drift", report.prediction_drift),
        ("label drift", report.label_drift),
    ):
        if output is not None and output.drifted is not None:
            checked = True
            if output.drifted:
                signals.append(f"{label}: {output.reason}")
    if report.performance is not None and report.performance.degraded is not None:
        checked = True
        if report.performance.degraded:
            signals.append(f"performance: {report.performance.reason}")

    untested = _untested_note(features, report.not_testable_features)
    if signals:
        report.dataset_drift, report.reason = True, "; ".join(signals) + untested
    elif not checked:
        report.dataset_drift = None
        report.reason = "nothing could be tested" + untested
    else:
        report.dataset_drift = False
        report.reason = (
            f"no drift: {len(report.drifted_features)} of {len(features)} features"
            f" drifted (weighted share {share:.2f} < {limits.drift_share:g})" + untested
        )


def _top_features(features: dict[str, FeatureDrift], weights: dict[str, float]) -> list[str]:
    """Features that contribute most: drifted first, then by weight times effect over threshold."""

    def contribution(name: str) -> tuple[bool, float]:
        feature = features[name]
        ratio = (feature.effect_size or 0.0) / (feature.effect_threshold or 1.0)
        return feature.verdict == DRIFT, weights[name] * ratio

    testable = [name for name, f in features.items() if f.verdict != NOT_TESTABLE]
    return sorted(testable, key=contribution, reverse=True)[:TOP_FEATURES]


def _untested_note(features: dict[str, FeatureDrift], names: list[str]) -> str:
    if not names:
        return ""
    details = ", ".join(f"{name} ({features[name].reason})" for name in names)
    return f"; not testable: {details}"

"""The layered per-feature decision: drift only when significant after BH AND practically large."""

from __future__ import annotations

from ml.evaluation.report import DRIFT, NO_DRIFT, NOT_TESTABLE, FeatureDrift
from ml.evaluation.thresholds import ResolvedThresholds

EFFECT_NAMES = {
    "wasserstein_norm": "normalised Wasserstein",
    "jensen_shannon": "Jensen-Shannon distance",
    "total_variation": "total variation distance",
}


def decide_feature(feature: FeatureDrift, limits: ResolvedThresholds, alpha: float) -> None:
    """Set `verdict` and `reason` from the adjusted p-values and the effect sizes."""
    feature.effect_threshold = limits.effect_size
    drift_reasons = [
        reason
        for reason in (
            _distribution_drift(feature, limits, alpha),
            _missing_drift(feature, limits, alpha),
            _unseen_drift(feature, limits, alpha),
        )
        if reason
    ]
    if drift_reasons:
        feature.verdict, feature.reason = DRIFT, "; ".join(drift_reasons)
    elif feature.p_adjusted is None or feature.effect_size is None:
        feature.verdict = NOT_TESTABLE
        feature.reason = feature.reason or "not testable"
    else:
        feature.verdict, feature.reason = NO_DRIFT, _no_drift_reason(feature, limits, alpha)


def _distribution_drift(feature: FeatureDrift, limits: ResolvedThresholds, alpha: float) -> str:
    if feature.p_adjusted is None or feature.effect_size is None:
        return ""
    if feature.p_adjusted <= alpha and feature.effect_size >= limits.effect_size:
        return (
            f"{_effect_name(feature)} {feature.effect_size:.3f} >= {limits.effect_size:g}"
            f" ({feature.test} p_adj {feature.p_adjusted:.2g})"
        )
    return ""


def _missing_drift(feature: FeatureDrift, limits: ResolvedThresholds, alpha: float) -> str:
    if feature.missing_p_adjusted is None or feature.missing_p_adjusted > alpha:
        return ""
    before, after = invalid_rate(feature, "ref"), invalid_rate(feature, "cur")
    if abs(after - before) < limits.missing_rate_change:
        return ""
    return (
        f"missing/non-finite rate {before:.1%} -> {after:.1%}"
        f" (change >= {limits.missing_rate_change:.1%}, p_adj {feature.missing_p_adjusted:.2g})"
    )


def _unseen_drift(feature: FeatureDrift, limits: ResolvedThresholds, alpha: float) -> str:
    if feature.unseen_p_adjusted is None or feature.unseen_p_adjusted > alpha:
        return ""
    excess = (feature.unseen_share or 0.0) - (feature.unseen_share_ref or 0.0)
    if excess < limits.unseen_share:
        return ""
    examples = ", ".join(feature.unseen_categories[:3])
    return (
        f"unseen categories in {feature.unseen_share:.1%} of values ({examples})"
        f" >= {limits.unseen_share:.1%} (p_adj {feature.unseen_p_adjusted:.2g})"
    )


def _no_drift_reason(feature: FeatureDrift, limits: ResolvedThresholds, alpha: float) -> str:
    assert feature.p_adjusted is not None and feature.effect_size is not None
    effect = f"{_effect_name(feature)} {feature.effect_size:.3f}"
    if feature.p_adjusted <= alpha:
        return (
            f"significant ({feature.test} p_adj {feature.p_adjusted:.2g}) but too small:"
            f" {effect} < {limits.effect_size:g}"
        )
    return f"no significant change ({feature.test} p_adj {feature.p_adjusted:.2g}; {effect})"


def invalid_rate(feature: FeatureDrift, side: str) -> float:
    """Share of missing plus non-finite values on one side ("ref" or "cur")."""
    missing = getattr(feature, f"missing_rate_{side}") or 0.0
    nonfinite = getattr(feature, f"nonfinite_rate_{side}") or 0.0
    return float(missing + nonfinite)


def _effect_name(feature: FeatureDrift) -> str:
    return EFFECT_NAMES.get(feature.effect_metric or "", feature.effect_metric or "effect")

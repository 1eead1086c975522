"""Drift checks as the monitor records them: a report per window in the shape of
`DriftReport.to_dict()` (per-feature test, p-values, effect size, verdict, histogram)."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency, ks_2samp, wasserstein_distance

from dashboards.sample_history.features import CATEGORIES, NUMERIC, sample_columns

ALPHA, EFFECT_THRESHOLD = 0.05, 0.1
DISPLAY_BINS = 20


def _numeric(name: str, ref: np.ndarray, cur: np.ndarray, n_tests: int) -> dict[str, Any]:
    statistic, p_value = ks_2samp(ref, cur)
    effect = wasserstein_distance(ref, cur) / (ref.std() or 1.0)
    low, high = np.percentile(ref, [1, 99])
    edges = np.linspace(float(low), float(high), DISPLAY_BINS + 1)
    inner = edges[1:-1]
    reference = np.bincount(np.searchsorted(inner, ref), minlength=DISPLAY_BINS)
    current = np.bincount(np.searchsorted(inner, cur), minlength=DISPLAY_BINS)
    histogram = {
        "bins": edges.round(4).tolist(),
        "reference": reference.tolist(),
        "current": current.tolist(),
    }
    return _feature(
        name,
        "numeric",
        "ks",
        "wasserstein_norm",
        float(statistic),
        float(p_value),
        float(effect),
        n_tests,
        len(ref),
        len(cur),
        histogram,
    )


def _categorical(name: str, ref: np.ndarray, cur: np.ndarray, n_tests: int) -> dict[str, Any]:
    categories = list(CATEGORIES[name][0])
    reference = np.array([(ref == c).sum() for c in categories])
    current = np.array([(cur == c).sum() for c in categories])
    statistic, p_value, _, _ = chi2_contingency(np.vstack([reference, current]) + 0.5)
    effect = float(jensenshannon(reference / reference.sum(), current / current.sum(), base=2))
    histogram = {
        "categories": categories,
        "reference": reference.tolist(),
        "current": current.tolist(),
    }
    return _feature(
        name,
        "categorical",
        "chi2",
        "jensen_shannon",
        float(statistic),
        float(p_value),
        effect,
        n_tests,
        len(ref),
        len(cur),
        histogram,
    )


def _feature(
    name: str,
    kind: str,
    test: str,
    metric: str,
    statistic: float,
    p_value: float,
    effect: float,
    n_tests: int,
    n_ref: int,
    n_cur: int,
    histogram: dict[str, list],
) -> dict[str, Any]:
    p_adjusted = min(1.0, p_value * n_tests)
    drifted = p_adjusted < ALPHA and effect >= EFFECT_THRESHOLD
    return {
        "name": name,
        "kind": kind,
        "verdict": "drift" if drifted else "no_drift",
        "reason": (
            f"{test} p={p_adjusted:.2g} (Bonferroni) and {metric} {effect:.3f} "
            f"{'≥' if effect >= EFFECT_THRESHOLD else '<'} {EFFECT_THRESHOLD}"
        ),
        "test": test,
        "statistic": round(statistic, 5),
        "p_value": p_value,
        "p_adjusted": p_adjusted,
        "effect_size": round(effect, 5),
        "effect_metric": metric,
        "effect_threshold": EFFECT_THRESHOLD,
        "n_reference": n_ref,
        "n_current": n_cur,
        "missing_rate_ref": 0.0,
        "missing_rate_cur": 0.0,
        "histogram": histogram,
    }


def drift_report(
    rng: np.random.Generator,
    reference: dict[str, np.ndarray],
    n_current: int,
    shift_a: float,
    shift_b: float,
    accuracy: float,
    n_labelled: int,
) -> dict[str, Any]:
    """A full report for one window whose data moved by (shift_a, shift_b)."""
    current = sample_columns(rng, np.full(n_current, shift_a), np.full(n_current, shift_b))
    n_tests = len(NUMERIC) + len(CATEGORIES)
    features = {name: _numeric(name, reference[name], current[name], n_tests) for name in NUMERIC}
    features |= {
        name: _categorical(name, reference[name], current[name], n_tests) for name in CATEGORIES
    }
    drifted = [name for name, f in features.items() if f["verdict"] == "drift"]
    top = sorted(features, key=lambda name: -features[name]["effect_size"])
    if drifted:
        reason = f"{len(drifted)} of {n_tests} features drifted: {', '.join(drifted)}"
    else:
        reason = (
            f"no feature drifted (largest effect: {top[0]} {features[top[0]]['effect_size']:.3f})"
        )
    drop = 0.86 - accuracy
    return {
        "dataset_drift": bool(drifted),
        "reason": reason,
        "n_current": n_current,
        "n_reference": len(next(iter(reference.values()))),
        "drifted_features": drifted,
        "not_testable_features": [],
        "drifted_share": len(drifted) / n_tests,
        "features": features,
        "prediction_drift": None,
        "label_drift": None,
        "performance": {
            "degraded": drop > 0.05,
            "reason": f"accuracy {accuracy:.3f} on {n_labelled} labels",
            "n_labeled": n_labelled,
            "threshold": 0.05,
            "metrics": {
                "accuracy": {
                    "name": "accuracy",
                    "realised": accuracy,
                    "ci_low": accuracy - 0.04,
                    "ci_high": accuracy + 0.04,
                    "reference": 0.86,
                    "drop": drop,
                    "degraded": drop > 0.05,
                }
            },
        },
        "top_features": top[:5],
        "thresholds": {"alpha": ALPHA, "effect": EFFECT_THRESHOLD, "correction": "bonferroni"},
        "format_version": 1,
    }


def untestable_report(n_current: int, minimum: int) -> dict[str, Any]:
    return {
        "dataset_drift": None,
        "n_current": n_current,
        "drifted_features": [],
        "reason": f"only {n_current} predictions in the window; at least {minimum} needed",
        "features": {},
        "not_testable_features": [],
        "format_version": 1,
    }

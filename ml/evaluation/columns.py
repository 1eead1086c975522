"""Per-column statistics of a window against its reference summary (verdicts come later)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.evaluation.effects import (
    jensen_shannon,
    numeric_distance,
    population_stability_index,
    total_variation,
)
from ml.evaluation.histograms import categorical_histogram, numeric_histogram
from ml.evaluation.report import FeatureDrift
from ml.evaluation.significance import chi2_homogeneity, ks_p_value, two_proportion_p_value
from ml.evaluation.sketch import CategoryCounts, NumericSketch, count_categories, sorted_numeric

ABSENT = "column absent from the window"
_CATEGORICAL_EFFECTS = {"jensen_shannon": jensen_shannon, "total_variation": total_variation}


def compare_numeric(
    name: str, sketch: NumericSketch, current: pd.Series | np.ndarray | None, min_samples: int
) -> FeatureDrift:
    """KS test, normalised Wasserstein, missing-rate change and histogram for a numeric column."""
    feature = FeatureDrift(
        name, "numeric", test="ks", effect_metric="wasserstein_norm", n_reference=sketch.n_valid
    )
    feature.missing_rate_ref = _rate(sketch.n_missing, sketch.n_rows)
    feature.nonfinite_rate_ref = _rate(sketch.n_nonfinite, sketch.n_rows)
    if current is None:
        feature.reason = ABSENT
        feature.histogram = numeric_histogram(sketch, None, 0)
        return feature
    column = sorted_numeric(current)
    feature.n_current = column.finite.size
    feature.missing_rate_cur = _rate(column.n_missing, column.n_rows)
    feature.nonfinite_rate_cur = _rate(column.n_nonfinite, column.n_rows)
    if column.n_rows >= min_samples:
        feature.missing_p_value = two_proportion_p_value(
            sketch.n_missing + sketch.n_nonfinite,
            sketch.n_rows,
            column.n_missing + column.n_nonfinite,
            column.n_rows,
        )
    untestable = _numeric_untestable(sketch, column.finite.size, min_samples)
    if untestable:
        feature.reason = untestable
        feature.histogram = numeric_histogram(sketch, None, 0)
        return feature
    distance = numeric_distance(sketch, column.finite)
    feature.statistic = distance.ks_statistic
    feature.p_value = ks_p_value(distance.ks_statistic, sketch.n_valid, column.finite.size)
    feature.effect_size = distance.wasserstein
    feature.histogram = numeric_histogram(sketch, distance.cumulative_current, column.finite.size)
    feature.psi = population_stability_index(
        np.asarray(feature.histogram["reference"]), np.asarray(feature.histogram["current"])
    )
    return feature


def _numeric_untestable(sketch: NumericSketch, n_current: int, min_samples: int) -> str | None:
    if sketch.n_valid < min_samples:
        return f"reference has {sketch.n_valid} usable values (at least {min_samples} needed)"
    if not sketch.std > 0:
        return f"constant in the reference (always {sketch.edges[0]:g})"
    if n_current < min_samples:
        return f"window has {n_current} usable values (at least {min_samples} needed)"
    return None


def compare_categorical(
    name: str,
    reference: CategoryCounts,
    current: pd.Series | None,
    min_samples: int,
    effect_metric: str = "jensen_shannon",
) -> FeatureDrift:
    """Chi-square test, an effect size, missing-rate change and unseen share for a categorical column."""
    feature = FeatureDrift(
        name, "categorical", test="chi2", effect_metric=effect_metric, n_reference=reference.n_valid
    )
    feature.missing_rate_ref = _rate(reference.n_missing, reference.n_rows)
    feature.unseen_share_ref = _rate(reference.n_other, reference.n_valid)
    if current is None:
        feature.reason = ABSENT
        feature.histogram = categorical_histogram(reference, None)
        return feature
    counts, n_missing = count_categories(current)
    n_rows = len(current)
    n_valid = sum(counts.values())
    unseen = {key: count for key, count in counts.items() if key not in reference.counts}
    n_unseen = sum(unseen.values())
    feature.n_current = n_valid
    feature.missing_rate_cur = _rate(n_missing, n_rows)
    feature.unseen_share = _rate(n_unseen, n_valid)
    feature.unseen_categories = sorted(unseen, key=lambda key: -unseen[key])[:10]
    feature.histogram = categorical_histogram(reference, counts)
    if n_rows >= min_samples:
        feature.missing_p_value = two_proportion_p_value(
            reference.n_missing, reference.n_rows, n_missing, n_rows
        )
    untestable = _categorical_untestable(reference, n_valid, min_samples)
    if untestable:
        feature.reason = untestable
        return feature
    feature.unseen_p_value = two_proportion_p_value(
        reference.n_other, reference.n_valid, n_unseen, n_valid
    )
    reference_vector = np.array([*reference.counts.values(), reference.n_other])
    current_vector = np.array([*(counts.get(key, 0) for key in reference.counts), n_unseen])
    tested = chi2_homogeneity(reference_vector, current_vector)
    if tested is None:
        feature.reason = "fewer than two categories with enough data to test"
        return feature
    feature.statistic, feature.p_value = tested
    feature.effect_size = _CATEGORICAL_EFFECTS[effect_metric](reference_vector, current_vector)
    feature.psi = population_stability_index(reference_vector, current_vector)
    return feature


def _categorical_untestable(
    reference: CategoryCounts, n_current: int, min_samples: int
) -> str | None:
    if reference.n_valid < min_samples:
        return f"reference has {reference.n_valid} usable values (at least {min_samples} needed)"
    if n_current < min_samples:
        return f"window has {n_current} usable values (at least {min_samples} needed)"
    return None


def _rate(count: int, total: int) -> float | None:
    return count / total if total else None

"""The drift statistics agree with scipy's reference implementations."""

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from ml.evaluation.effects import (
    jensen_shannon,
    numeric_distance,
    population_stability_index,
    total_variation,
)
from ml.evaluation.significance import (
    benjamini_hochberg,
    chi2_homogeneity,
    ks_p_value,
    two_proportion_p_value,
)
from ml.evaluation.sketch import NumericSketch, sorted_numeric


def test_sketch_of_small_data_gives_exact_ks_and_wasserstein():
    rng = np.random.default_rng(0)
    reference, current = rng.normal(0, 1, 800), rng.normal(0.3, 1.2, 600)
    sketch = NumericSketch.fit(reference)
    assert sketch.edges.size == 800  # fewer values than quantiles: every value is an edge

    distance = numeric_distance(sketch, np.sort(current))

    expected = stats.ks_2samp(reference, current)
    assert distance.ks_statistic == pytest.approx(expected.statistic, abs=1e-12)
    p_value = ks_p_value(distance.ks_statistic, reference.size, current.size)
    assert p_value == pytest.approx(stats.ks_2samp(reference, current, method="asymp").pvalue)
    wasserstein = stats.wasserstein_distance(reference, current) / reference.std()
    assert distance.wasserstein == pytest.approx(wasserstein, rel=0.02)


def test_sketch_of_large_data_stays_close_to_exact_statistics():
    rng = np.random.default_rng(1)
    reference, current = rng.gamma(2.0, 1.0, 200_000), rng.gamma(2.2, 1.0, 50_000)
    sketch = NumericSketch.fit(reference)

    distance = numeric_distance(sketch, np.sort(current))

    assert sketch.edges.size == 1001
    assert distance.ks_statistic == pytest.approx(
        stats.ks_2samp(reference, current).statistic, abs=1e-3
    )
    wasserstein = stats.wasserstein_distance(reference, current) / reference.std()
    assert distance.wasserstein == pytest.approx(wasserstein, rel=0.02)


@pytest.mark.parametrize("n_effective", [1_001, 20_000])
@pytest.mark.parametrize("z", [0.6, 1.5, 2.5])
def test_large_sample_ks_p_values_agree_with_the_exact_distribution(n_effective, z):
    statistic = z / np.sqrt(n_effective)

    p_value = ks_p_value(statistic, 2 * n_effective, 2 * n_effective)

    assert p_value == pytest.approx(stats.kstwo.sf(statistic, n_effective), rel=0.04)


def test_discrete_values_keep_exact_ties():
    reference = np.repeat([0.0, 1.0, 2.0, 5.0], [400, 300, 200, 100])
    current = np.repeat([0.0, 1.0, 2.0, 5.0, 7.0], [100, 300, 300, 200, 100])
    sketch = NumericSketch.fit(reference)

    distance = numeric_distance(sketch, np.sort(current))

    assert sketch.edges.tolist() == [0.0, 1.0, 2.0, 5.0]
    assert sketch.ties.tolist() == [400, 300, 200, 100]
    assert distance.ks_statistic == pytest.approx(stats.ks_2samp(reference, current).statistic)
    wasserstein = stats.wasserstein_distance(reference, current) / reference.std()
    assert distance.wasserstein == pytest.approx(wasserstein)


def test_values_off_the_reference_support_give_the_true_wasserstein():
    """Integers shifted by 0.04 move off every edge; the distance must stay 0.04 / sd."""
    rng = np.random.default_rng(2)
    reference = rng.poisson(4, 100_000).astype(float)
    current = rng.poisson(4, 100_000) + 0.04

    distance = numeric_distance(NumericSketch.fit(reference), np.sort(current))

    assert distance.ks_statistic > 0.15  # nearly a whole category's mass moved past an edge
    expected = stats.wasserstein_distance(reference, current) / reference.std()
    assert distance.wasserstein == pytest.approx(expected, rel=0.05)
    assert distance.wasserstein < 0.03


def test_sorted_numeric_separates_missing_and_non_finite():
    column = sorted_numeric(np.array([np.nan, 3.0, -np.inf, 1.0, np.inf, np.nan, 2.0]))

    assert column.finite.tolist() == [1.0, 2.0, 3.0]
    assert (column.n_rows, column.n_missing, column.n_nonfinite) == (7, 2, 2)


def test_chi2_homogeneity_matches_chi2_contingency():
    reference, current = np.array([500, 300, 200]), np.array([40, 35, 25])

    statistic, p_value = chi2_homogeneity(reference, current)

    expected = stats.chi2_contingency(np.vstack([reference, current]), correction=False)
    assert statistic == pytest.approx(expected.statistic)
    assert p_value == pytest.approx(expected.pvalue)


def test_chi2_pools_rare_categories_and_refuses_a_single_category():
    pooled = chi2_homogeneity(np.array([900, 90, 5, 5]), np.array([50, 5, 0, 1]))
    expected = stats.chi2_contingency(np.array([[900, 90, 10], [50, 5, 1]]), correction=False)

    assert pooled == pytest.approx((expected.statistic, expected.pvalue))
    assert chi2_homogeneity(np.array([100, 0]), np.array([50, 0])) is None
    assert chi2_homogeneity(np.array([100, 10]), np.array([0, 0])) is None


@pytest.mark.parametrize(
    "table", [(2500, 50_000, 6, 30), (3, 10, 0, 5), (0, 100, 100, 100), (50, 1000, 40, 1000)]
)
def test_small_proportion_tests_are_fishers_exact_test(table):
    k_ref, n_ref, k_cur, n_cur = table
    expected = stats.fisher_exact([[k_ref, n_ref - k_ref], [k_cur, n_cur - k_cur]]).pvalue

    assert two_proportion_p_value(*table) == pytest.approx(expected, rel=1e-6, abs=1e-300)


def test_large_proportion_tests_use_the_z_test_and_handle_degenerate_tables():
    p_value = two_proportion_p_value(50_000, 1_000_000, 51_500, 1_000_000)
    z = (0.0515 - 0.05) / np.sqrt(0.05075 * 0.94925 * 2e-6)

    assert p_value == pytest.approx(2 * stats.norm.sf(z))
    assert two_proportion_p_value(0, 1000, 0, 10) == 1.0
    assert two_proportion_p_value(0, 0, 1, 10) is None


def test_benjamini_hochberg_matches_scipy():
    p_values = [0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216]

    adjusted = benjamini_hochberg(p_values)

    assert adjusted == pytest.approx(stats.false_discovery_control(p_values).tolist())
    assert benjamini_hochberg([]) == []


def test_categorical_effect_sizes():
    reference, current = np.array([45, 30, 25, 0]), np.array([30, 30, 30, 10])

    assert jensen_shannon(reference, current) == pytest.approx(
        jensenshannon(reference / 100, current / 100, base=2)
    )
    assert jensen_shannon(reference, reference * 3) == pytest.approx(0.0, abs=1e-7)
    assert total_variation(reference, current) == pytest.approx(0.15)
    assert population_stability_index(reference, reference) == pytest.approx(0.0)
    assert population_stability_index(reference, current) > 0.1

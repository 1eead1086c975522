"""P-values of the drift checks and the Benjamini-Hochberg correction across them."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import special, stats

MIN_EXPECTED_COUNT = 5.0
EXACT_SUPPORT_LIMIT = 20_000
EXACT_KS_LIMIT = 1_000


def ks_p_value(statistic: float, n_reference: int, n_current: int) -> float:
    """Two-sample Kolmogorov-Smirnov p-value for the effective sample size.

    scipy's exact-distribution `kstwo` up to 1,000 effective samples; beyond that Stephens'
    corrected asymptotic form, which agrees within about 1% and stays fast (`kstwo` can take
    close to a second per column at 500,000).
    """
    n_effective = max(1, round(n_reference * n_current / (n_reference + n_current)))
    if n_effective <= EXACT_KS_LIMIT:
        return float(stats.kstwo.sf(statistic, n_effective))
    root = np.sqrt(n_effective)
    return float(special.kolmogorov((root + 0.12 + 0.11 / root) * statistic))


def chi2_homogeneity(reference: np.ndarray, current: np.ndarray) -> tuple[float, float] | None:
    """Chi-square test that two count vectors come from one distribution, or None if untestable.

    Categories whose expected current count is below 5 are pooled so the chi-square
    approximation holds; fewer than two categories after pooling cannot be tested.
    """
    reference = np.asarray(reference, dtype=np.float64)
    current = np.asarray(current, dtype=np.float64)
    n_reference, n_current = reference.sum(), current.sum()
    if n_reference == 0 or n_current == 0:
        return None
    expected_current = (reference + current) * n_current / (n_reference + n_current)
    rare = expected_current < MIN_EXPECTED_COUNT
    if rare.any():
        reference = np.append(reference[~rare], reference[rare].sum())
        current = np.append(current[~rare], current[rare].sum())
    keep = (reference + current) > 0
    reference, current = reference[keep], current[keep]
    if reference.size < 2:
        return None
    table = np.vstack([reference, current])
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0) / table.sum()
    statistic = float(((table - expected) ** 2 / expected).sum())
    return statistic, float(stats.chi2.sf(statistic, reference.size - 1))


def two_proportion_p_value(
    k_reference: int, n_reference: int, k_current: int, n_current: int
) -> float | None:
    """Two-sided test that two proportions are equal, or None when either sample is empty.

    Fisher's exact test while its support is small (where the normal approximation
    is too liberal); the pooled z-test beyond that, where the two agree.
    """
    if n_reference == 0 or n_current == 0:
        return None
    successes = k_reference + k_current
    failures = n_reference + n_current - successes
    if successes == 0 or failures == 0:
        return 1.0
    if min(successes, failures, n_reference, n_current) <= EXACT_SUPPORT_LIMIT:
        return _fisher_exact(k_reference, n_reference, successes, n_reference + n_current)
    pooled = successes / (n_reference + n_current)
    spread = np.sqrt(pooled * (1 - pooled) * (1 / n_reference + 1 / n_current))
    z = (k_current / n_current - k_reference / n_reference) / spread
    return float(2 * stats.norm.sf(abs(z)))


def _fisher_exact(k_first: int, n_first: int, successes: int, total: int) -> float:
    """Fisher's two-sided p: mass of the tables no more likely than the observed one."""
    low, high = max(0, successes - (total - n_first)), min(successes, n_first)
    x = np.arange(low, high + 1, dtype=np.float64)
    log_pmf = (
        -special.gammaln(x + 1)
        - special.gammaln(successes - x + 1)
        - special.gammaln(n_first - x + 1)
        - special.gammaln(total - successes - n_first + x + 1)
    )
    relative = np.exp(log_pmf - log_pmf.max())
    observed = relative[k_first - low]
    return float(min(1.0, relative[relative <= observed * (1 + 1e-7)].sum() / relative.sum()))


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Adjusted p-values controlling the false-discovery rate (Benjamini-Hochberg step-up)."""
    p = np.asarray(p_values, dtype=np.float64)
    if p.size == 0:
        return []
    order = np.argsort(p)
    scaled = p[order] * p.size / np.arange(1, p.size + 1)
    adjusted_sorted = np.minimum.accumulate(scaled[::-1])[::-1]
    adjusted = np.empty_like(p)
    adjusted[order] = np.minimum(adjusted_sorted, 1.0)
    return adjusted.tolist()

"""Scenario suite on `make_dataset` data: false alarms, negligible shifts and real drift.

Windows of one scenario are cut from one large draw: make_dataset's rows are independent,
so consecutive slices are independent windows and the generator runs once per scenario.
"""

import numpy as np
import pandas as pd
import pytest

from ml.data.sample import CATEGORICAL, NUMERIC, TARGET, make_dataset
from ml.evaluation import DriftDetector, ReferenceProfile

MAX_FALSE_ALARMS = 2  # 1% of 200 windows
MIN_DETECTED = 95  # 95% of 100 windows


@pytest.fixture(scope="module")
def profile() -> ReferenceProfile:
    reference = make_dataset(50_000, "none", seed=2024)
    return ReferenceProfile.fit(
        reference, numeric=NUMERIC, categorical=CATEGORICAL, labels=reference[TARGET]
    )


def windows(scenario: str, rows: int, count: int, seed: int) -> list[pd.DataFrame]:
    draw = make_dataset(rows * count, scenario, seed=seed)
    return [draw.iloc[i * rows : (i + 1) * rows] for i in range(count)]


def test_false_alarm_rate_at_500_rows(profile):
    detector = DriftDetector()

    reports = [detector.compare(profile, w) for w in windows("none", 500, 200, seed=1)]

    assert sum(bool(r.dataset_drift) for r in reports) <= MAX_FALSE_ALARMS
    assert all(r.dataset_drift is not None for r in reports)


@pytest.mark.slow
def test_false_alarm_rate_at_100k_rows(profile):
    """200 windows of 100,000 rows resampled from a 300,000-row draw of the same generator.

    Resampling a finite draw adds that draw's own sampling error to every window, which
    makes this harder, not easier, than fresh draws; it keeps the test within seconds.
    """
    pool = make_dataset(300_000, "none", seed=2).astype({c: "category" for c in CATEGORICAL})
    rng = np.random.default_rng(3)
    detector = DriftDetector()

    alarms = 0
    for _ in range(200):
        window = pool.take(rng.integers(0, len(pool), 100_000))
        alarms += bool(detector.compare(profile, window).dataset_drift)

    assert alarms <= MAX_FALSE_ALARMS


@pytest.mark.slow
def test_tiny_shift_is_not_flagged_at_100k_rows(profile):
    detector = DriftDetector()

    for window in windows("tiny", 100_000, 2, seed=4):
        report = detector.compare(profile, window)
        assert report.dataset_drift is False, report.reason
        assert report.features["Age"].verdict == "no_drift"


# Hospital Visits depends on age and on the disease in the generator, so it moves with
# them; every other feature must stay unflagged.
EXPECTED = {
    "covariate": ({"Age", "Lung Capacity", "Smoking Status"}, {"Hospital Visits"}),
    "new_category": ({"Disease Type"}, {"Hospital Visits"}),
    "missing": ({"Lung Capacity", "Smoking Status"}, set()),
}


@pytest.mark.parametrize("scenario", sorted(EXPECTED))
def test_scenario_is_detected_on_the_features_it_changed(profile, scenario):
    required, allowed = EXPECTED[scenario]
    detector = DriftDetector()

    right = 0
    for window in windows(scenario, 1_000, 100, seed=5):
        report = detector.compare(profile, window)
        flagged = set(report.drifted_features)
        right += bool(report.dataset_drift) and required <= flagged <= required | allowed

    assert right >= MIN_DETECTED


def test_new_category_is_reported_as_unseen(profile):
    report = DriftDetector().compare(profile, make_dataset(1_000, "new_category", seed=6))

    disease = report.features["Disease Type"]
    assert disease.unseen_categories == ["Tuberculosis"]
    assert disease.unseen_share == pytest.approx(0.25, abs=0.05)


def test_prior_shift_is_invisible_in_features_but_detected_from_labels(profile):
    detector = DriftDetector()

    detected_from_labels = 0
    for window in windows("prior", 1_000, 100, seed=7):
        unlabeled = detector.compare(profile, window.drop(columns=[TARGET]))
        labeled = detector.compare(profile, window, labels=window[TARGET])
        assert unlabeled.drifted_features == labeled.drifted_features
        detected_from_labels += bool(labeled.dataset_drift and labeled.label_drift.drifted)

    assert detected_from_labels >= MIN_DETECTED


def test_scenario_windows_with_nan_inf_empty_and_single_rows(profile):
    detector = DriftDetector()
    window = make_dataset(1_000, "none", seed=8)
    window.loc[window.index[:5], "Age"] = np.inf

    assert detector.compare(profile, window).dataset_drift is False
    assert detector.compare(profile, window.head(0)).dataset_drift is None
    single = detector.compare(profile, window.head(1), labels=window[TARGET].head(1))
    assert single.dataset_drift is None
    assert single.performance is not None and single.performance.degraded is None

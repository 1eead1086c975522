"""DriftDetector on synthetic columns: layered verdicts, robustness, not-testable cases, reports."""

import json

import numpy as np
import pandas as pd
import pytest

from ml.evaluation import (
    DRIFT,
    NO_DRIFT,
    NOT_TESTABLE,
    DriftDetector,
    DriftReport,
    DriftThresholds,
    ReferenceProfile,
)

NUMERIC, CATEGORICAL = ["a", "b", "c"], ["colour", "size"]


def synthetic(rows: int, seed: int, shift: float = 0.0, colours=(0.5, 0.3, 0.2)) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "a": rng.normal(10 + shift * 2, 2, rows),
            "b": rng.gamma(2.0, 1.0, rows) + shift,
            "c": rng.poisson(3, rows).astype(float),
            "colour": rng.choice(["red", "green", "blue"], rows, p=list(colours)),
            "size": rng.choice(["S", "M", "L"], rows),
        }
    )


@pytest.fixture(scope="module")
def profile() -> ReferenceProfile:
    return ReferenceProfile.fit(synthetic(20_000, seed=1), numeric=NUMERIC, categorical=CATEGORICAL)


def compare(profile, frame, **kwargs):
    return DriftDetector(kwargs.pop("thresholds", None)).compare(profile, frame, **kwargs)


def test_same_distribution_is_not_drift(profile):
    report = compare(profile, synthetic(2_000, seed=2))

    assert report.dataset_drift is False
    assert report.drifted_features == []
    assert all(f.verdict == NO_DRIFT for f in report.features.values())


def test_a_real_shift_is_flagged_on_exactly_the_changed_features(profile):
    frame = synthetic(1_000, seed=3, colours=(0.2, 0.3, 0.5))
    frame["a"] += 1.0  # half a standard deviation

    report = compare(profile, frame)

    assert report.dataset_drift is True
    assert report.drifted_features == ["a", "colour"]
    assert report.top_features[:2] == ["a", "colour"]
    assert report.features["a"].effect_size == pytest.approx(0.5, abs=0.1)
    assert "Wasserstein" in report.features["a"].reason


@pytest.mark.parametrize("rows", [1_000, 100_000])
def test_verdicts_do_not_depend_on_window_size(profile, rows):
    tiny = synthetic(rows, seed=4, shift=0.02)  # 0.02 standard deviations
    large = synthetic(rows, seed=5, shift=0.5)

    tiny_report, large_report = compare(profile, tiny), compare(profile, large)

    assert tiny_report.dataset_drift is False
    assert large_report.dataset_drift is True
    assert set(large_report.drifted_features) == {"a", "b"}


def test_negligible_shift_at_100k_is_significant_but_not_practically_large(profile):
    report = compare(profile, synthetic(100_000, seed=6, shift=0.03))

    feature = report.features["a"]
    assert feature.p_adjusted < 0.01  # a p-value-only detector would flag it
    assert feature.verdict == NO_DRIFT
    assert "too small" in feature.reason


def test_missing_spike_is_drift_even_when_values_look_alike(profile):
    frame = synthetic(1_000, seed=7)
    frame.loc[frame.index[:300], "b"] = np.nan
    frame.loc[frame.index[:300], "size"] = None

    report = compare(profile, frame)

    assert report.drifted_features == ["b", "size"]
    assert report.features["b"].missing_rate_cur == pytest.approx(0.3)
    assert "missing" in report.features["size"].reason


def test_unseen_categories_are_counted_and_flagged(profile):
    frame = synthetic(1_000, seed=8)
    frame.loc[frame.index[:100], "colour"] = "purple"

    feature = compare(profile, frame).features["colour"]

    assert feature.verdict == DRIFT
    assert feature.unseen_share == pytest.approx(0.1)
    assert feature.unseen_categories == ["purple"]
    assert feature.histogram["categories"][-1] == "(unseen)"
    assert feature.histogram["current"][-1] == 100


def test_non_finite_values_are_reported_not_crashing(profile):
    frame = synthetic(1_000, seed=9)
    frame.loc[frame.index[:200], "a"] = np.inf
    frame.loc[frame.index[200:210], "c"] = -np.inf

    report = compare(profile, frame)

    assert report.features["a"].verdict == DRIFT
    assert report.features["a"].nonfinite_rate_cur == pytest.approx(0.2)
    assert report.features["c"].verdict == NO_DRIFT  # 1% non-finite is below the 5% threshold
    json.dumps(report.to_dict(), allow_nan=False)


def test_absent_column_is_not_testable_with_a_reason(profile):
    report = compare(profile, synthetic(1_000, seed=10).drop(columns=["b", "size"]))

    assert report.not_testable_features == ["b", "size"]
    assert report.features["b"].reason == "column absent from the window"
    assert report.dataset_drift is False
    assert "not testable: b (column absent from the window)" in report.reason


def test_constant_or_all_missing_reference_is_not_testable():
    reference = synthetic(1_000, seed=11).assign(a=5.0, b=np.nan, colour="red")
    profile = ReferenceProfile.fit(reference, numeric=NUMERIC, categorical=CATEGORICAL)
    window = synthetic(1_000, seed=12).assign(a=5.0, b=np.nan, colour="red")

    report = compare(profile, window)

    assert report.features["a"].verdict == NOT_TESTABLE
    assert "constant in the reference" in report.features["a"].reason
    assert report.features["b"].verdict == NOT_TESTABLE
    assert "reference has 0 usable values" in report.features["b"].reason
    assert report.features["colour"].verdict == NOT_TESTABLE
    assert report.features["c"].verdict == NO_DRIFT


def test_all_missing_window_column_is_drift_through_its_missing_rate(profile):
    window = synthetic(1_000, seed=13).assign(c=np.nan)

    feature = compare(profile, window).features["c"]

    assert feature.verdict == DRIFT
    assert feature.p_value is None  # the distribution itself could not be tested
    assert "missing/non-finite rate 0.0% -> 100.0%" in feature.reason


@pytest.mark.parametrize("rows", [0, 1, 29])
def test_empty_and_tiny_windows_are_not_testable(profile, rows):
    report = compare(profile, synthetic(max(rows, 1), seed=14).head(rows))

    assert report.dataset_drift is None
    assert report.reason == f"window has {rows} rows (at least 30 needed)"
    assert all(f.verdict == NOT_TESTABLE for f in report.features.values())
    json.dumps(report.to_dict(), allow_nan=False)


def test_window_without_any_columns_is_not_testable(profile):
    report = compare(profile, pd.DataFrame(index=range(100)))

    assert report.dataset_drift is None
    assert report.reason.startswith("nothing could be tested")


def test_text_in_numeric_columns_counts_as_missing(profile):
    window = synthetic(500, seed=15)
    window["c"] = window["c"].astype(object)
    window.loc[window.index[:5], "c"] = "n/a"
    window["a"] = window["a"].astype(str)

    report = compare(profile, window)

    assert report.features["c"].missing_rate_cur == pytest.approx(0.01)
    assert report.features["a"].verdict == NO_DRIFT


def test_per_feature_overrides_change_only_that_feature(profile):
    frame = synthetic(1_000, seed=16)
    frame["a"] += 0.4  # 0.2 standard deviations
    lenient = DriftThresholds(per_feature={"a": {"effect_size": 0.3}})

    assert compare(profile, frame).features["a"].verdict == DRIFT
    assert compare(profile, frame, thresholds=lenient).features["a"].verdict == NO_DRIFT
    assert lenient.for_feature("b", "numeric").effect_size == 0.1


def test_importance_weights_decide_whether_one_drifted_feature_is_enough(profile):
    frame = synthetic(1_000, seed=17)
    frame["c"] += 2.0
    unimportant = ReferenceProfile.from_dict(
        {**profile.to_dict(), "importances": {"a": 0.5, "b": 0.3, "colour": 0.15, "c": 0.05}}
    )

    assert compare(profile, frame).dataset_drift is True  # uniform: 1 of 5 = 0.2 >= 0.1
    report = compare(unimportant, frame)
    assert report.drifted_features == ["c"]
    assert report.drifted_share == pytest.approx(0.05)
    assert report.dataset_drift is False


def test_report_round_trips_and_summarises_for_the_cli(profile):
    frame = synthetic(1_000, seed=18)
    frame["a"] += 2.0
    report = compare(profile, frame)

    restored = DriftReport.from_dict(json.loads(json.dumps(report.to_dict(), allow_nan=False)))
    summary = report.summary()

    assert restored == report
    assert set(summary) == {"dataset_drift", "reason", "n_current", "drifted_features", "features"}
    assert set(summary["features"]["a"]) == {
        "test",
        "p_value",
        "p_adjusted",
        "effect_size",
        "verdict",
    }
    assert summary["features"]["a"]["verdict"] == DRIFT
    histogram = report.features["a"].histogram
    assert sum(histogram["reference"]) == 20_000
    assert sum(histogram["current"]) == 1_000
    assert len(histogram["bins"]) == len(histogram["current"]) + 1


def test_thresholds_serialise_and_reject_typos():
    thresholds = DriftThresholds(alpha=0.05, per_feature={"a": {"min_samples": 100}})

    assert DriftThresholds.from_dict(thresholds.to_dict()) == thresholds
    with pytest.raises(ValueError, match="unknown drift threshold"):
        DriftThresholds.from_dict({"alhpa": 0.05})
    with pytest.raises(ValueError, match="alpha"):
        DriftThresholds(alpha=1.5)


def test_detector_only_stores_its_parameters():
    thresholds = DriftThresholds(numeric_effect=0.2)

    assert DriftDetector(thresholds).thresholds is thresholds
    assert DriftDetector().thresholds is None

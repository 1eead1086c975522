"""Prediction drift, label drift and realised performance with confidence intervals."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from ml.evaluation import DriftDetector, ReferenceProfile
from ml.evaluation.performance import realised_metrics


def scored(rows: int, seed: int, positive_rate: float = 0.4, skill: float = 2.0):
    """Features, labels and a model's probabilities whose separation grows with `skill`."""
    rng = np.random.default_rng(seed)
    labels = rng.random(rows) < positive_rate
    logit = skill * (labels - 0.5) * 2 + rng.normal(0, 1.5, rows)
    p_yes = 1 / (1 + np.exp(-logit))
    frame = pd.DataFrame({"x": rng.normal(0, 1, rows), "kind": rng.choice(["u", "v"], rows)})
    return (
        frame,
        pd.Series(np.where(labels, "Yes", "No")),
        pd.Series(np.where(p_yes > 0.5, "Yes", "No")),
        np.column_stack([1 - p_yes, p_yes]),
    )


@pytest.fixture(scope="module")
def profile() -> ReferenceProfile:
    frame, labels, predictions, probabilities = scored(20_000, seed=1)
    return ReferenceProfile.fit(
        frame,
        numeric=["x"],
        categorical=["kind"],
        predictions=predictions,
        probabilities=probabilities,
        labels=labels,
    )


def compare(profile, data, with_labels=True):
    frame, labels, predictions, probabilities = data
    return DriftDetector().compare(
        profile,
        frame,
        predictions=predictions,
        probabilities=probabilities,
        labels=labels if with_labels else None,
    )


def test_stable_outputs_and_performance_are_not_drift(profile):
    report = compare(profile, scored(2_000, seed=2))

    assert report.dataset_drift is False
    assert report.prediction_drift.drifted is False
    assert report.label_drift.drifted is False
    assert report.performance.degraded is False
    accuracy = report.performance.metrics["accuracy"]
    assert accuracy.ci_low < profile.reference_metrics["accuracy"] < accuracy.ci_high


def test_prior_shift_is_seen_in_labels_and_predictions(profile):
    report = compare(profile, scored(1_000, seed=3, positive_rate=0.7))

    assert report.drifted_features == []
    assert report.label_drift.drifted is True
    assert report.label_drift.distribution.effect_metric == "total_variation"
    assert report.label_drift.distribution.effect_size == pytest.approx(0.3, abs=0.05)
    assert report.prediction_drift.drifted is True
    assert report.dataset_drift is True
    assert "label drift" in report.reason


def test_performance_drop_is_detected_with_an_interval(profile):
    report = compare(profile, scored(1_000, seed=4, skill=0.5))

    performance = report.performance
    assert performance.degraded is True
    for name in ("accuracy", "roc_auc"):
        check = performance.metrics[name]
        assert check.drop >= 0.05
        assert check.ci_high < check.reference
    assert report.dataset_drift is True
    assert "performance" in report.reason


def test_probability_scores_drift_without_class_changes(profile):
    frame, labels, predictions, probabilities = scored(1_000, seed=5)
    squeezed = 0.5 + (probabilities - 0.5) * 0.3  # same classes, far less confident

    report = DriftDetector().compare(
        profile, frame, predictions=predictions, probabilities=squeezed
    )

    assert report.prediction_drift.distribution.verdict == "no_drift"
    assert report.prediction_drift.score.verdict == "drift"
    assert report.prediction_drift.drifted is True


def test_labels_arriving_late_are_scored_on_the_labelled_rows_only(profile):
    frame, labels, predictions, probabilities = scored(1_000, seed=6)
    partial = labels.where(np.arange(1_000) < 400)

    report = DriftDetector().compare(
        profile, frame, predictions=predictions, probabilities=probabilities, labels=partial
    )

    assert report.performance.n_labeled == 400
    assert report.label_drift.distribution.n_current == 400
    assert report.label_drift.distribution.missing_p_value is None
    assert report.dataset_drift is False


def test_too_few_labels_is_not_testable_rather_than_fine(profile):
    frame, labels, predictions, probabilities = scored(1_000, seed=7)
    few = labels.where(np.arange(1_000) < 10)

    report = DriftDetector().compare(
        profile, frame, predictions=predictions, probabilities=probabilities, labels=few
    )

    assert report.performance.degraded is None
    assert report.performance.reason == "10 labelled rows (at least 30 needed)"
    assert report.label_drift.drifted is None


def test_realised_auc_matches_scikit_learn():
    _, labels, predictions, probabilities = scored(3_000, seed=8)

    metrics = realised_metrics(labels, predictions, probabilities[:, 1], ["No", "Yes"])

    expected = roc_auc_score(labels == "Yes", probabilities[:, 1])
    assert metrics["roc_auc"].realised == pytest.approx(expected)
    assert metrics["roc_auc"].ci_low < expected < metrics["roc_auc"].ci_high
    assert metrics["accuracy"].realised == pytest.approx(float((labels == predictions).mean()))

"""The trainer on plain data: model quality, data shapes, reproducibility, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.data.sample import make_dataset
from ml.evaluation import ReferenceProfile
from ml.schema import infer_schema, labels_as_strings, normalize_frame
from ml.training import FAMILIES, TrainerConfig, TrainingResult, evaluate, train
from shared.errors import InputError

FAST = TrainerConfig(families=("logistic_regression", "hist_gradient_boosting"))


def prepared(frame: pd.DataFrame, target: str) -> tuple:
    schema, _ = infer_schema(frame, target)
    labels = labels_as_strings(frame[target])
    keep = labels.notna()
    return normalize_frame(schema, frame)[keep], labels[keep], schema


@pytest.fixture(scope="module")
def lung() -> tuple:
    return prepared(make_dataset(2_000, seed=42), "Recovered")


@pytest.fixture(scope="module")
def lung_result(lung: tuple) -> TrainingResult:
    frame, labels, schema = lung
    return train(frame, labels, schema, TrainerConfig())


def test_selected_model_is_within_a_hair_of_the_best_family(lung: tuple, lung_result) -> None:
    frame, labels, schema = lung
    holdout_auc = {
        family: train(frame, labels, schema, TrainerConfig(families=(family,))).metrics["roc_auc"]
        for family in FAMILIES
    }
    assert lung_result.metrics["roc_auc"] >= max(holdout_auc.values()) - 0.01
    assert set(lung_result.cv_scores) == set(FAMILIES)
    assert lung_result.family in FAMILIES and lung_result.primary_metric == "roc_auc"


def test_beats_the_majority_baseline_by_a_wide_margin(lung: tuple, lung_result) -> None:
    _, labels, _ = lung
    holdout_labels = labels.loc[lung_result.holdout_index]
    majority_accuracy = holdout_labels.value_counts(normalize=True).max()
    metrics = lung_result.metrics
    assert metrics["accuracy"] > majority_accuracy + 0.15
    assert metrics["roc_auc"] > 0.75  # a constant score has AUC 0.5
    assert metrics["balanced_accuracy"] > 0.65
    assert sum(map(sum, metrics["confusion_matrix"])) == lung_result.n_holdout


def test_result_carries_profile_importances_and_fingerprint(lung: tuple, lung_result) -> None:
    frame, _, schema = lung
    profile = ReferenceProfile.from_dict(lung_result.reference_profile)
    assert set(profile.features) == set(schema.feature_names)
    assert profile.n_rows == len(frame) and profile.classes == ["No", "Yes"]
    assert profile.reference_metrics["roc_auc"] == pytest.approx(lung_result.metrics["roc_auc"])
    importances = lung_result.feature_importances
    assert set(importances) == set(schema.feature_names)
    assert sum(importances.values()) == pytest.approx(1.0)
    assert max(importances, key=importances.get) in {
        "Disease Type",
        "Treatment Type",
        "Lung Capacity",
    }
    fingerprint = lung_result.fingerprint
    assert fingerprint["rows"] == len(frame) and len(fingerprint["content_hash"]) == 64
    assert lung_result.n_train + lung_result.n_holdout == len(frame)


def test_same_seed_same_model_different_seed_different_split(lung: tuple) -> None:
    frame, labels, schema = lung
    sample = frame.index[:600]
    first = train(frame.loc[sample], labels.loc[sample], schema, FAST)
    again = train(frame.loc[sample], labels.loc[sample], schema, FAST)
    other = train(
        frame.loc[sample], labels.loc[sample], schema, TrainerConfig(seed=7, families=FAST.families)
    )
    assert first.metrics == again.metrics
    for family in FAST.families:
        assert first.cv_scores[family]["folds"] == again.cv_scores[family]["folds"]
    proba = first.pipeline.predict_proba(frame.head(50))
    np.testing.assert_array_equal(proba, again.pipeline.predict_proba(frame.head(50)))
    assert not first.holdout_index.equals(other.holdout_index)


def test_evaluate_matches_training_metrics_on_the_holdout(lung: tuple, lung_result) -> None:
    frame, labels, schema = lung
    index = lung_result.holdout_index
    scored = evaluate(lung_result.pipeline, frame.loc[index], labels.loc[index], schema)
    assert scored["roc_auc"] == pytest.approx(lung_result.metrics["roc_auc"])
    one_class = labels.loc[index] == "Yes"
    partial = evaluate(
        lung_result.pipeline, frame.loc[index][one_class], labels.loc[index][one_class], schema
    )
    assert partial["roc_auc"] is None and partial["accuracy"] > 0


def test_pipeline_takes_raw_records_with_unseen_categories_and_gaps(lung_result) -> None:
    records = pd.DataFrame(
        [
            {
                "Age": 50,
                "Gender": "Other",
                "Smoking Status": None,
                "Lung Capacity": None,
                "Disease Type": "Tuberculosis",
                "Treatment Type": "Surgery",
                "Hospital Visits": 2,
            },
        ]
    )
    frame = normalize_frame(lung_result.schema, records)
    proba = lung_result.pipeline.predict_proba(frame)
    assert proba.shape == (1, 2) and np.isfinite(proba).all()


def _synthetic(
    rows: int, *, numeric: int, categorical: int, classes: int, seed: int
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=rows)
    columns: dict[str, object] = {}
    for i in range(numeric):
        columns[f"x{i}"] = signal * (i + 1) + rng.normal(scale=1.0, size=rows)
    for i in range(categorical):
        bins = np.digitize(signal + rng.normal(scale=0.7, size=rows), [-0.5, 0.5])
        columns[f"c{i}"] = np.array(["low", "mid", "high"])[bins]
    cuts = np.quantile(signal, np.linspace(0, 1, classes + 1)[1:-1])
    columns["y"] = np.array([f"class_{k}" for k in range(classes)])[np.digitize(signal, cuts)]
    return pd.DataFrame(columns)


@pytest.mark.parametrize(
    ("numeric", "categorical", "classes"),
    [(3, 0, 2), (0, 3, 2), (2, 2, 3)],
    ids=["numeric-only", "categorical-only", "multiclass"],
)
def test_other_shapes_of_data(numeric: int, categorical: int, classes: int) -> None:
    frame, labels, schema = prepared(
        _synthetic(400, numeric=numeric, categorical=categorical, classes=classes, seed=1), "y"
    )
    result = train(frame, labels, schema, FAST)
    assert result.primary_metric == ("roc_auc" if classes == 2 else "f1")
    assert result.metrics["accuracy"] > 1 / classes + 0.2
    assert len(result.metrics["confusion_matrix"]) == classes
    proba = result.pipeline.predict_proba(frame.head(3))
    assert proba.shape == (3, classes)


def test_missing_values_everywhere_still_train() -> None:
    raw = _synthetic(400, numeric=2, categorical=2, classes=2, seed=2)
    rng = np.random.default_rng(0)
    for column in ["x0", "x1", "c0", "c1"]:
        raw[column] = raw[column].astype(object).mask(rng.random(len(raw)) < 0.3)
    frame, labels, schema = prepared(raw, "y")
    result = train(frame, labels, schema, FAST)
    assert frame.isna().mean().min() > 0.2
    assert result.metrics["roc_auc"] > 0.75


def test_imbalanced_target_is_weighted_and_the_minority_is_found() -> None:
    rng = np.random.default_rng(3)
    rows = 1_500
    x = rng.normal(size=rows)
    rare = (x + rng.normal(scale=0.5, size=rows)) > 1.9  # about 5% positives
    raw = pd.DataFrame({"x": x, "noise": rng.normal(size=rows), "y": np.where(rare, "fraud", "ok")})
    frame, labels, schema = prepared(raw, "y")
    result = train(frame, labels, schema, FAST)
    assert result.class_weighting == "balanced"
    cm = np.array(result.metrics["confusion_matrix"])  # rows: truth in class order fraud, ok
    assert cm[0, 0] / cm[0].sum() > 0.6  # most of the minority is caught
    assert result.metrics["balanced_accuracy"] > 0.75
    unweighted = train(
        frame, labels, schema, TrainerConfig(families=FAST.families, class_weighting="none")
    )
    assert unweighted.class_weighting is None


def test_too_few_rows_single_class_and_bad_config_are_input_errors(lung: tuple) -> None:
    frame, labels, schema = lung
    with pytest.raises(InputError, match="at least 30"):
        train(frame.head(20), labels.head(20), schema, FAST)
    rare = pd.concat(
        [labels.head(100).replace("No", "Yes"), pd.Series(["No"] * 3)], ignore_index=True
    )
    rows = pd.concat([frame.head(103)], ignore_index=True)
    with pytest.raises(InputError, match="too few rows for class 'No'"):
        train(rows, rare, schema, FAST)
    with pytest.raises(InputError, match="single class"):
        train(frame.head(100), labels.head(100).replace("No", "Yes"), schema, FAST)
    with pytest.raises(InputError, match="unknown model families"):
        TrainerConfig(families=("svm",))
    with pytest.raises(InputError, match="unknown metric"):
        TrainerConfig(primary_metric="r2")


def test_explicit_holdout_and_primary_metric(lung: tuple) -> None:
    frame, labels, schema = lung
    rows = frame.index[:600]
    holdout = pd.Series(False, index=rows)
    holdout.iloc[-150:] = True
    config = TrainerConfig(families=("logistic_regression",), primary_metric="log_loss")
    result = train(frame.loc[rows], labels.loc[rows], schema, config, holdout=holdout)
    assert result.holdout_index.equals(rows[-150:])
    assert result.primary_metric == "log_loss"
    assert result.cv_scores["logistic_regression"]["mean"] > 0  # the loss, not its negative

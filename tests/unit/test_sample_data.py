from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from ml.data.sample import CATEGORICAL, NUMERIC, SCENARIOS, TARGET, make_dataset, write_csv


def test_same_seed_same_bytes(tmp_path) -> None:
    write_csv(make_dataset(500, "covariate", seed=3), tmp_path / "a.csv")
    write_csv(make_dataset(500, "covariate", seed=3), tmp_path / "b.csv")
    write_csv(make_dataset(500, "covariate", seed=4), tmp_path / "c.csv")
    a, b, c = ((tmp_path / n).read_bytes() for n in ("a.csv", "b.csv", "c.csv"))
    assert a == b and a != c


def test_committed_sample_matches_generator(tmp_path) -> None:
    write_csv(make_dataset(2000, "none", seed=42), tmp_path / "lung.csv")
    assert (tmp_path / "lung.csv").read_bytes() == Path("data/lung_disease.csv").read_bytes()


def test_shape_and_missing_values() -> None:
    frame = make_dataset(4000, "none", seed=1)
    assert list(frame.columns) == NUMERIC[:1] + ["Gender", "Smoking Status"] + [
        "Lung Capacity",
        "Disease Type",
        "Treatment Type",
        "Hospital Visits",
        TARGET,
    ]
    missing = frame.drop(columns=TARGET).isna().mean()
    assert ((missing > 0.03) & (missing < 0.07)).all()
    assert frame[TARGET].notna().all() and set(frame[TARGET]) == {"Yes", "No"}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_scenario_generates(scenario: str) -> None:
    frame = make_dataset(300, scenario, seed=5)
    assert len(frame) == 300


def test_scenarios_change_what_they_say() -> None:
    base = make_dataset(20_000, "none", seed=1)
    cov = make_dataset(20_000, "covariate", seed=2)
    assert cov["Age"].mean() > base["Age"].mean() + 8
    assert (cov["Smoking Status"] == "Current").mean() > (
        base["Smoking Status"] == "Current"
    ).mean() + 0.1
    prior = make_dataset(20_000, "prior", seed=3)
    assert (prior[TARGET] == "Yes").mean() < (base[TARGET] == "Yes").mean() - 0.15
    assert "Tuberculosis" in set(make_dataset(2_000, "new_category", seed=4)["Disease Type"])
    assert make_dataset(20_000, "missing", seed=5)["Lung Capacity"].isna().mean() > 0.3
    tiny = make_dataset(20_000, "tiny", seed=6)
    assert abs(tiny["Age"].mean() - base["Age"].mean()) < 1.0


def _auc(model, frame: pd.DataFrame) -> float:
    return roc_auc_score(
        frame[TARGET].eq("Yes"), model.predict_proba(frame.drop(columns=TARGET))[:, 1]
    )


def test_signal_is_real_and_concept_drift_hurts() -> None:
    pre = ColumnTransformer(
        [
            ("num", SimpleImputer(strategy="median"), NUMERIC),
            (
                "cat",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value="missing"),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                CATEGORICAL,
            ),
        ]
    )
    train = make_dataset(2000, "none", seed=42)
    model = make_pipeline(
        pre, RandomForestClassifier(200, min_samples_leaf=3, random_state=0, n_jobs=1)
    )
    model.fit(train.drop(columns=TARGET), train[TARGET].eq("Yes"))
    auc_none = _auc(model, make_dataset(4000, "none", seed=7))
    auc_concept = _auc(model, make_dataset(4000, "concept", seed=8))
    assert auc_none >= 0.80
    assert auc_none - auc_concept >= 0.05
    assert np.isfinite(auc_concept)

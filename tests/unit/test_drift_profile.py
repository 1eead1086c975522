"""ReferenceProfile: what it keeps, how it serialises, and that its size does not grow with rows."""

import json

import numpy as np
import pandas as pd
import pytest

from ml.evaluation import PROFILE_FORMAT_VERSION, ReferenceProfile


def continuous_frame(rows: int, columns: int = 10, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data = {f"x{i}": rng.normal(i, 1 + i, rows) for i in range(columns)}
    data["colour"] = rng.choice(["red", "green", "blue"], rows)
    return pd.DataFrame(data)


def serialised(profile: ReferenceProfile) -> str:
    return json.dumps(profile.to_dict(), allow_nan=False)


def test_profile_round_trips_through_json():
    frame = continuous_frame(5_000)
    frame.loc[::10, "x1"] = np.nan
    frame.loc[::25, "x2"] = np.inf
    frame.loc[::7, "colour"] = None
    predictions = pd.Series(np.where(frame["x0"] > 0, "yes", "no"))
    labels = pd.Series(np.where(frame["x0"] + frame["x3"] / 10 > 0.3, "yes", "no"))
    probabilities = np.column_stack([1 - (frame["x0"] > 0) * 0.8, (frame["x0"] > 0) * 0.8])

    profile = ReferenceProfile.fit(
        frame,
        numeric=[f"x{i}" for i in range(10)],
        categorical=["colour"],
        predictions=predictions,
        probabilities=probabilities,
        labels=labels,
        importances={"x0": 0.7, "colour": 0.3},
    )
    restored = ReferenceProfile.from_dict(json.loads(serialised(profile)))

    assert restored.to_dict() == profile.to_dict()
    assert profile.to_dict()["format_version"] == PROFILE_FORMAT_VERSION
    assert profile.numeric["x1"].n_missing == 500
    assert profile.numeric["x2"].n_nonfinite == 200
    assert profile.categorical["colour"].n_missing == 715
    assert profile.classes == ["no", "yes"]
    assert profile.score_name == "P(yes)"
    assert profile.reference_metrics["accuracy"] == pytest.approx(
        float((labels == predictions).mean())
    )
    assert 0.5 < profile.reference_metrics["roc_auc"] <= 1.0


def test_profile_size_depends_on_features_not_rows():
    small = len(serialised(fit_continuous(continuous_frame(20_000))))
    large = len(serialised(fit_continuous(continuous_frame(400_000, seed=1))))

    assert large < 200_000  # ten continuous features plus one categorical
    assert abs(large - small) / small < 0.1


def fit_continuous(frame: pd.DataFrame) -> ReferenceProfile:
    return ReferenceProfile.fit(frame, numeric=[f"x{i}" for i in range(10)], categorical=["colour"])


def test_many_categories_are_capped_and_pooled():
    values = pd.Series([f"id-{i}" for i in range(5_000)] + ["common"] * 500)

    profile = ReferenceProfile.fit(values.to_frame("id"), numeric=[], categorical=["id"])

    counts = profile.categorical["id"]
    assert len(counts.counts) == 100
    assert counts.counts["common"] == 500
    assert counts.n_other == 5_000 - 99
    assert len(serialised(profile)) < 5_000


def test_categories_compare_as_strings():
    values = pd.Series([1, "1", 1.0, 2, None], dtype=object)

    profile = ReferenceProfile.fit(values.to_frame("code"), numeric=[], categorical=["code"])

    assert profile.categorical["code"].counts == {"1": 3, "2": 1}


def test_numeric_class_names_sort_numerically():
    labels = pd.Series([2, 10, 10, 2])

    profile = ReferenceProfile.fit(labels.to_frame("y"), numeric=[], categorical=[], labels=labels)

    assert profile.classes == ["2", "10"]


def test_fit_refuses_absent_or_doubly_typed_columns():
    frame = continuous_frame(100)

    with pytest.raises(ValueError, match="lacks column"):
        ReferenceProfile.fit(frame, numeric=["nope"], categorical=[])
    with pytest.raises(ValueError, match="both numeric and categorical"):
        ReferenceProfile.fit(frame, numeric=["x0"], categorical=["x0"])


def test_unknown_format_version_is_refused():
    data = fit_continuous(continuous_frame(100)).to_dict()
    data["format_version"] = PROFILE_FORMAT_VERSION + 1

    with pytest.raises(ValueError, match="format_version"):
        ReferenceProfile.from_dict(data)

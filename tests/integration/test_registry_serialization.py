"""skops serialization with our own allowlist: every family round-trips, foreign types are refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import skops.io
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import Pipeline

from ml.data.sample import make_dataset
from ml.schema import infer_schema, labels_as_strings, normalize_frame
from ml.training import FAMILIES
from ml.training.families import build_pipeline
from registry.serialization import MODEL_FILE, UntrustedModelError, load_pipeline, trusted_types


class Sneaky(BaseEstimator, TransformerMixin):
    """A transformer from outside the allowlist (it could run anything when rebuilt)."""

    def fit(self, x: object, y: object = None) -> Sneaky:
        return self

    def transform(self, x: object) -> object:
        return x


@pytest.fixture(scope="module")
def lung() -> tuple:
    frame = make_dataset(300, seed=11)
    schema, _ = infer_schema(frame, "Recovered")
    labels = labels_as_strings(frame["Recovered"])
    keep = labels.notna()
    return normalize_frame(schema, frame)[keep], labels[keep], schema


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_round_trips(family: str, lung: tuple, tmp_path: Path) -> None:
    frame, labels, schema = lung
    pipeline = build_pipeline(family, schema, seed=0, class_weight=None).fit(frame, labels)
    trusted = trusted_types(pipeline)
    assert all(name.startswith(("sklearn.", "numpy.", "functools.")) for name in trusted)
    skops.io.dump(pipeline, tmp_path / MODEL_FILE)
    loaded = load_pipeline(tmp_path)
    np.testing.assert_array_equal(loaded.predict_proba(frame), pipeline.predict_proba(frame))


def test_a_foreign_type_is_refused_on_save_and_on_load(lung: tuple, tmp_path: Path) -> None:
    frame, labels, schema = lung
    inner = build_pipeline("logistic_regression", schema, seed=0, class_weight=None)
    pipeline = Pipeline([("sneaky", Sneaky()), *inner.steps]).fit(frame, labels)
    with pytest.raises(UntrustedModelError, match="Sneaky"):
        trusted_types(pipeline)
    # A model file swapped in the artifact store is refused too, whatever MLmodel says.
    skops.io.dump(pipeline, tmp_path / MODEL_FILE)
    with pytest.raises(UntrustedModelError, match="outside the allowlist"):
        load_pipeline(tmp_path)

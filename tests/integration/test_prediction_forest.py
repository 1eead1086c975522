"""The forest shortcut gives exactly the pipeline's own probabilities, and is used only
for forests."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from ml.schema import normalize_frame
from services.prediction_service.forest_shortcut import forest_shortcut, verified
from services.prediction_service.served_model import PARALLEL_MIN_ROWS, ServedModel
from tests.integration.prediction_support import sample_records, trained


def frame_of(records: list[dict]) -> pd.DataFrame:
    return normalize_frame(trained("random_forest").schema, pd.DataFrame.from_records(records))


@pytest.mark.parametrize("rows", [1, 16, 300])
def test_shortcut_equals_the_forests_predict_proba(rows: int) -> None:
    result = trained("random_forest")
    records = sample_records(rows, seed=rows)  # missing values included
    records[0]["Disease Type"] = "Tuberculosis"  # unseen category
    frame = frame_of(records)
    model = ServedModel.build("m", "1", result.pipeline, result.schema)
    assert model.small_frame_predict is not None
    expected = result.pipeline.predict_proba(frame)
    assert np.array_equal(model.predict_proba(frame), expected)  # bit for bit (n_jobs=1)


def test_a_multi_threaded_forest_agrees_too() -> None:
    pipeline = copy.deepcopy(trained("random_forest").pipeline)
    pipeline.set_params(model__n_jobs=2)
    frame = frame_of(sample_records(50, seed=3))
    shortcut = verified(forest_shortcut(pipeline), pipeline, frame)
    assert shortcut is not None
    assert np.allclose(shortcut(frame), pipeline.predict_proba(frame), rtol=0, atol=1e-12)


def test_other_models_use_sklearns_own_path() -> None:
    result = trained()  # logistic regression
    assert forest_shortcut(result.pipeline) is None
    assert ServedModel.build("m", "1", result.pipeline, result.schema).small_frame_predict is None


def test_a_shortcut_that_disagrees_is_not_used() -> None:
    pipeline = trained("random_forest").pipeline
    frame = frame_of(sample_records(5, seed=4))
    assert verified(lambda f: np.zeros((len(f), 2)), pipeline, frame) is None


def test_large_frames_go_through_sklearn() -> None:
    result = trained("random_forest")
    model = ServedModel.build("m", "1", result.pipeline, result.schema)
    calls: list[int] = []
    shortcut = model.small_frame_predict
    assert shortcut is not None
    spy = ServedModel(
        **{**model.__dict__, "small_frame_predict": lambda f: calls.append(len(f)) or shortcut(f)}
    )
    records = sample_records(100, seed=6) * (PARALLEL_MIN_ROWS // 100 + 1)
    spy.predict_proba(frame_of(records[:10]))
    spy.predict_proba(frame_of(records))
    assert calls == [10]

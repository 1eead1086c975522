"""The compiled pipeline gives exactly the pipeline's own numbers, for every family the
trainer builds, and anything it does not understand is served by scikit-learn."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import FunctionTransformer

from ml.schema import normalize_frame
from services.prediction_service.compiled_pipeline import (
    CompiledPipeline,
    compile_pipeline,
    verified,
)
from services.prediction_service.served_model import PARALLEL_MIN_ROWS, ServedModel
from tests.integration.prediction_support import sample_records, trained

FAMILIES = ("random_forest", "logistic_regression", "hist_gradient_boosting")


def frame_and_columns(family: str, records: list[dict]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The pipeline's frame and the same rows as the service's validated columns."""
    schema = trained(family).schema
    frame = normalize_frame(schema, pd.DataFrame.from_records(records))
    columns = {
        name: [None if pd.isna(v) else v for v in frame[name].tolist()]
        for name in schema.feature_names
    }
    return frame, columns


def awkward_records(rows: int, seed: int) -> list[dict]:
    records = sample_records(rows, seed=seed)  # missing values included
    records[0]["Disease Type"] = "Tuberculosis"  # never seen in training
    records[-1]["Age"] = None
    records[-1]["Gender"] = None
    return records


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("rows", [1, 16, 300, PARALLEL_MIN_ROWS + 500])
def test_compiled_equals_the_pipelines_predict_proba(family: str, rows: int) -> None:
    result = trained(family)
    frame, columns = frame_and_columns(family, awkward_records(rows, seed=rows))
    model = ServedModel.build("m", "1", result.pipeline, result.schema)
    assert model.compiled is not None
    expected = result.pipeline.predict_proba(frame)
    # Bit for bit: the same operations in the same order (the forest trained with n_jobs=1).
    assert np.array_equal(model.predict_columns(columns, rows), expected)
    assert np.array_equal(
        model.compiled.transform(columns, rows),
        result.pipeline[0].transform(frame),
        equal_nan=True,
    )


def test_a_multi_threaded_forest_agrees_too() -> None:
    pipeline = copy.deepcopy(trained("random_forest").pipeline)
    pipeline.set_params(model__n_jobs=2)
    frame, columns = frame_and_columns("random_forest", sample_records(50, seed=3))
    compiled = verified(
        compile_pipeline(pipeline, trained("random_forest").schema), pipeline, columns, frame
    )
    assert compiled is not None
    assert np.allclose(
        compiled.predict_proba(columns, 50), pipeline.predict_proba(frame), rtol=0, atol=1e-12
    )


def test_unknown_steps_are_left_to_scikit_learn() -> None:
    result = trained()
    pipeline = copy.deepcopy(result.pipeline)
    numeric = pipeline[0].transformers_[0][1]
    numeric.steps.append(("squash", FunctionTransformer(np.tanh)))  # no compiled form
    assert compile_pipeline(pipeline, result.schema) is None
    model = ServedModel.build("m", "1", pipeline, result.schema)
    assert model.compiled is None
    frame, columns = frame_and_columns("logistic_regression", sample_records(20, seed=8))
    assert np.array_equal(model.predict_columns(columns, 20), pipeline.predict_proba(frame))


def test_a_compiled_pipeline_that_disagrees_is_not_used() -> None:
    result = trained("random_forest")
    frame, columns = frame_and_columns("random_forest", sample_records(5, seed=4))
    wrong = CompiledPipeline(
        [lambda cols, size: np.zeros((size, 3))], lambda x: np.zeros((len(x), 2))
    )
    assert verified(wrong, result.pipeline, columns, frame) is None


def test_a_failing_compiled_pipeline_is_not_used() -> None:
    result = trained()
    frame, columns = frame_and_columns("logistic_regression", sample_records(5, seed=4))

    def broken(cols: Any, size: int) -> np.ndarray:
        raise KeyError("internals changed")

    assert verified(CompiledPipeline([broken], np.asarray), result.pipeline, columns, frame) is None

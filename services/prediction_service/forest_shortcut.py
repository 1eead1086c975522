"""predict_proba of a random forest without sklearn's per-call overhead, same numbers.

For a few rows `RandomForestClassifier.predict_proba` spends ~7 ms on input
validation and one joblib dispatch per tree, while the 100 trees themselves take
~0.3 ms. This calls the pipeline's own preprocessing, then each fitted tree's
`tree_.predict`, and averages exactly as sklearn does with n_jobs=1: the same
float32 input, the same per-tree values, summed in the same order and divided
once. It is only used after `verified` finds it equal to the pipeline's own
predict_proba (see ServedModel.warm_up), and only for small frames.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.pipeline import Pipeline

Predict = Callable[[pd.DataFrame], np.ndarray]


def forest_shortcut(pipeline: Any) -> Predict | None:
    """A faster predict_proba for Pipeline(..., forest); None for any other model."""
    if not isinstance(pipeline, Pipeline) or len(pipeline.steps) < 2:
        return None
    forest = pipeline.steps[-1][1]
    if type(forest) not in (RandomForestClassifier, ExtraTreesClassifier):
        return None
    if forest.n_outputs_ != 1:
        return None
    preprocess = pipeline[:-1]
    trees = [estimator.tree_ for estimator in forest.estimators_]
    n_classes = int(forest.n_classes_)

    def predict_proba(frame: pd.DataFrame) -> np.ndarray:
        features = np.ascontiguousarray(preprocess.transform(frame), dtype=np.float32)
        total = np.zeros((features.shape[0], n_classes), dtype=np.float64)
        for tree in trees:
            total += tree.predict(features)[:, :n_classes]
        total /= len(trees)
        return total

    return predict_proba


def verified(shortcut: Predict | None, pipeline: Any, frame: pd.DataFrame) -> Predict | None:
    """`shortcut` if it reproduces the pipeline's predict_proba on `frame`, else None."""
    if shortcut is None:
        return None
    try:
        same = np.allclose(shortcut(frame), pipeline.predict_proba(frame), rtol=0, atol=1e-12)
    except Exception:  # any surprise in the internals: use sklearn's own path
        return None
    return shortcut if same else None

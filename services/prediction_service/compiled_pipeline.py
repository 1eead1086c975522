"""predict_proba of a served pipeline without scikit-learn's per-call overhead, same numbers.

scikit-learn spends milliseconds per `predict_proba` call before any arithmetic:
input validation, a DataFrame column selection and feature-name checks in every
step of the ColumnTransformer, and for a forest one joblib dispatch per tree. On
one row that is ~4 ms of a ~4.2 ms call, whatever the model. This module turns a
fitted pipeline of the shapes our trainer builds into plain numpy over the
validated columns (feature -> values, None = missing), no DataFrame involved:

- a categorical encoder (OneHotEncoder, OrdinalEncoder) becomes one lookup table
  per feature, filled at load time by the fitted encoder itself transforming
  every known category, a missing value and an unseen one: a table row *is*
  scikit-learn's output for that value (each feature is encoded on its own);
- numeric SimpleImputer and StandardScaler steps are the operations scikit-learn
  performs (fill NaNs with the statistics, append the missing indicator,
  subtract the mean, divide by the scale), in the same float64 order;
- a random forest sums each tree's `tree_.predict` in the order and precision of
  scikit-learn with n_jobs=1; large inputs are split by rows over threads (the
  trees release the GIL), which keeps every row's sum in that same order. Any
  other final estimator gets the transformed array through its own predict_proba.

Anything else compiles to None and the pipeline serves itself. A compiled
pipeline is only used once it reproduces the pipeline's own transform and
predict_proba on probe rows at load time (see `verified`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder, StandardScaler

from ml.schema import DatasetSchema

Columns = Mapping[str, Sequence[Any]]
Block = Callable[[Columns, int], np.ndarray]  # one transformer's output for `size` rows
Head = Callable[[np.ndarray], np.ndarray]  # transformed rows -> class probabilities
ArrayStep = Callable[[np.ndarray], np.ndarray]

# Rows per thread below which splitting a forest's work costs more than it saves.
ROWS_PER_THREAD = 1_000


class CompiledPipeline:
    """The pipeline's transform and predict_proba as numpy over validated columns."""

    def __init__(self, blocks: list[Block], head: Head) -> None:
        self._blocks = blocks
        self._head = head

    def transform(self, columns: Columns, size: int) -> np.ndarray:
        parts = [block(columns, size) for block in self._blocks]
        return parts[0] if len(parts) == 1 else np.hstack(parts)

    def predict_proba(self, columns: Columns, size: int) -> np.ndarray:
        return self._head(self.transform(columns, size))


def compile_pipeline(
    pipeline: Any, schema: DatasetSchema, *, threads: int | None = None
) -> CompiledPipeline | None:
    """Pipeline([ColumnTransformer, classifier]) compiled; None for any other shape."""
    if type(pipeline) is not Pipeline or len(pipeline.steps) != 2:
        return None
    preprocess, estimator = pipeline.steps[0][1], pipeline.steps[1][1]
    blocks = _column_blocks(preprocess, schema)
    if blocks is None:
        return None
    head = _forest_head(estimator, threads or _usable_cores())
    if head is None:
        head = _estimator_head(estimator)
    return CompiledPipeline(blocks, head)


def verified(
    compiled: CompiledPipeline | None, pipeline: Any, columns: Columns, frame: pd.DataFrame
) -> CompiledPipeline | None:
    """`compiled` if it reproduces the pipeline on `columns` (= `frame`), else None.

    The transform must be identical; the probabilities equal to 1e-12 (a forest
    trained with n_jobs > 1 sums its trees in a thread-dependent order).
    """
    if compiled is None:
        return None
    try:
        size = len(frame)
        same_input = np.array_equal(
            compiled.transform(columns, size),
            pipeline.steps[0][1].transform(frame),
            equal_nan=True,
        )
        same_output = np.allclose(
            compiled.predict_proba(columns, size),
            pipeline.predict_proba(frame),
            rtol=0,
            atol=1e-12,
        )
    except Exception:  # any surprise in the internals: use scikit-learn's own path
        return None
    return compiled if same_input and same_output else None


# -- the ColumnTransformer ------------------------------------------------------------
def _column_blocks(transformer: Any, schema: DatasetSchema) -> list[Block] | None:
    if type(transformer) is not ColumnTransformer or transformer.sparse_output_:
        return None
    if _output_config(transformer) != "default":
        return None  # set_output(transform="pandas"): the estimator expects a frame
    kinds = {spec.name: spec.kind for spec in schema.features}
    blocks: list[Block] = []
    for _name, step, names in transformer.transformers_:
        if isinstance(step, str) and step == "drop":
            continue
        if not _is_name_list(names) or not all(n in kinds for n in names):
            return None
        if not names:
            continue  # ColumnTransformer skips empty selections
        if all(kinds[n] == "numeric" for n in names):
            block = _numeric_block(step, list(names))
        elif all(kinds[n] == "categorical" for n in names):
            block = _encoder_block(step, list(names))
        else:
            block = None
        if block is None:
            return None
        blocks.append(block)
    return blocks or None


def _output_config(estimator: Any) -> str:
    config = getattr(estimator, "_sklearn_output_config", {})
    return str(config.get("transform", "default"))


def _is_name_list(names: Any) -> bool:
    return isinstance(names, list | tuple) and all(isinstance(n, str) for n in names)


# -- numeric columns ------------------------------------------------------------------
def _numeric_block(step: Any, names: list[str]) -> Block | None:
    steps = step.steps if type(step) is Pipeline else [("only", step)]
    ops: list[ArrayStep] = []
    for _name, part in steps:
        op = _numeric_op(part)
        if op is None:
            return None
        ops.append(op)

    def block(columns: Columns, size: int) -> np.ndarray:
        values = np.array([columns[n] for n in names], dtype=np.float64).T
        for op in ops:
            values = op(values)
        return values

    return block


def _numeric_op(part: Any) -> ArrayStep | None:
    if (isinstance(part, str) and part == "passthrough") or _is_identity(part):
        return lambda values: values
    if type(part) is SimpleImputer:
        return _imputer_op(part)
    if type(part) is StandardScaler:
        return _scaler_op(part)
    return None


def _is_identity(part: Any) -> bool:
    """ColumnTransformer's stand-in for "passthrough" (a FunctionTransformer without func)."""
    return type(part) is FunctionTransformer and part.func is None


def _imputer_op(imputer: SimpleImputer) -> ArrayStep | None:
    missing = imputer.missing_values
    if not (isinstance(missing, float) and math.isnan(missing)):
        return None
    statistics = np.asarray(imputer.statistics_, dtype=np.float64)
    if np.isnan(statistics).any():
        return None  # scikit-learn drops (or zero-fills) features it never saw a value of
    indicated = imputer.indicator_.features_ if imputer.add_indicator else None

    def impute(values: np.ndarray) -> np.ndarray:
        mask = np.isnan(values)
        filled = np.where(mask, statistics, values)
        if indicated is None:
            return filled
        return np.hstack((filled, mask[:, indicated]))

    return impute


def _scaler_op(scaler: StandardScaler) -> ArrayStep:
    mean = scaler.mean_ if scaler.with_mean else None
    scale = scaler.scale_ if scaler.with_std else None

    def standardise(values: np.ndarray) -> np.ndarray:
        if mean is not None:
            values = values - mean
        if scale is not None:
            values = values / scale
        return values

    return standardise


# -- categorical columns --------------------------------------------------------------
def _encoder_block(encoder: Any, names: list[str]) -> Block | None:
    """Per feature, a table of the encoder's own output for every value it can meet."""
    if type(encoder) is OneHotEncoder:
        if encoder.sparse_output:
            return None
        widths = list(getattr(encoder, "_n_features_outs", []))
    elif type(encoder) is OrdinalEncoder:
        widths = [1] * len(names)
    else:
        return None
    if len(widths) != len(names) or list(encoder.feature_names_in_) != names:
        return None
    probes = [_probe_values(categories) for categories in encoder.categories_]
    rows = max(len(values) for values in probes)
    frame = pd.DataFrame(
        {
            name: pd.Series(_cells(values + [values[0]] * (rows - len(values))), dtype=object)
            for name, values in zip(names, probes, strict=True)
        }
    )
    encoded = np.asarray(encoder.transform(frame))
    if encoded.shape[1] != sum(widths):
        return None
    lookups: list[tuple[str, dict[Any, int], int, np.ndarray]] = []
    start = 0
    for name, values, width in zip(names, probes, widths, strict=True):
        table = np.ascontiguousarray(encoded[: len(values), start : start + width])
        index = {value: i for i, value in enumerate(values)}
        lookups.append((name, index, len(values) - 1, table))  # the last probe is unseen
        start += width

    def block(columns: Columns, size: int) -> np.ndarray:
        parts = []
        for name, index, unseen, table in lookups:
            get = index.get
            rows = np.fromiter((get(v, unseen) for v in columns[name]), np.intp, size)
            parts.append(table[rows])
        return parts[0] if len(parts) == 1 else np.hstack(parts)

    return block


def _cells(values: list[Any]) -> np.ndarray:
    """Categorical values as the pipeline sees them: object, NaN for missing."""
    cells = np.array(values, dtype=object)
    cells[cells == None] = np.nan  # noqa: E711 - elementwise comparison
    return cells


def _probe_values(categories: np.ndarray) -> list[Any]:
    """Every known category, a missing value (None) and, last, one never seen."""
    known = [c for c in categories.tolist() if isinstance(c, str)]
    unseen = "unseen"
    while unseen in known:
        unseen += "_"
    return [*known, None, unseen]


# -- the final estimator --------------------------------------------------------------
def _forest_head(estimator: Any, threads: int) -> Head | None:
    if type(estimator) not in (RandomForestClassifier, ExtraTreesClassifier):
        return None
    if estimator.n_outputs_ != 1:
        return None
    trees = [tree.tree_ for tree in estimator.estimators_]
    n_classes = int(estimator.n_classes_)
    pool = _thread_pool(threads) if threads > 1 else None

    def average(features: np.ndarray) -> np.ndarray:
        total = np.zeros((features.shape[0], n_classes), dtype=np.float64)
        for tree in trees:  # scikit-learn's order and precision (n_jobs=1)
            total += tree.predict(features)[:, :n_classes]
        total /= len(trees)
        return total

    def predict_proba(transformed: np.ndarray) -> np.ndarray:
        features = np.ascontiguousarray(transformed, dtype=np.float32)
        parts = min(threads, len(features) // ROWS_PER_THREAD)
        if pool is None or parts < 2:
            return average(features)
        chunks = np.array_split(features, parts)
        return np.vstack(list(pool.map(average, chunks)))

    return predict_proba


def _usable_cores() -> int:
    """The cores this process may run on (a container's share, not the host's count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@cache
def _thread_pool(threads: int) -> ThreadPoolExecutor:
    """One pool per process for every model version (reloads must not leak threads)."""
    return ThreadPoolExecutor(threads, thread_name_prefix="forest")


def _estimator_head(estimator: Any) -> Head:
    def predict_proba(transformed: np.ndarray) -> np.ndarray:
        return np.asarray(estimator.predict_proba(transformed), dtype=np.float64)

    return predict_proba

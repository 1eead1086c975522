"""Candidate model families, each one scikit-learn Pipeline from the normalised frame to classes.

Preprocessing lives inside the Pipeline, so the object that is trained, logged
and served is the same one: no second copy of imputation or encoding anywhere.
Every family tolerates missing values and categories it never saw.
"""

from __future__ import annotations

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from ml.schema import DatasetSchema

# HistGradientBoosting accepts at most 255 categories per feature; rarer ones are pooled.
MAX_ORDINAL_CATEGORIES = 250
# Rare categories below this count share one column, which keeps linear models stable.
MIN_CATEGORY_FREQUENCY = 5


def build_pipeline(
    family: str,
    schema: DatasetSchema,
    *,
    seed: int,
    class_weight: str | None,
    n_jobs: int = 1,
) -> Pipeline:
    """An unfitted Pipeline: preprocessing for `family`, then its estimator."""
    if family == "logistic_regression":
        return Pipeline(
            [
                ("preprocess", _one_hot(schema, scale=True)),
                (
                    "model",
                    LogisticRegression(max_iter=2_000, C=1.0, class_weight=class_weight),
                ),
            ]
        )
    if family == "random_forest":
        forest = RandomForestClassifier(
            n_estimators=100,
            min_samples_leaf=3,
            # Caps size and per-row latency on large data sets; barely costs accuracy.
            max_leaf_nodes=1_024,
            class_weight="balanced_subsample" if class_weight else None,
            n_jobs=n_jobs,
            random_state=seed,
        )
        return Pipeline([("preprocess", _one_hot(schema, scale=False)), ("model", forest)])
    if family == "hist_gradient_boosting":
        n_numeric = len(schema.numeric)
        categorical_mask = [False] * n_numeric + [True] * len(schema.categorical)
        boosting = HistGradientBoostingClassifier(
            learning_rate=0.1,
            max_iter=200,
            early_stopping=True,
            validation_fraction=0.15,
            n_iter_no_change=10,
            l2_regularization=1.0,
            categorical_features=categorical_mask if any(categorical_mask) else None,
            class_weight=class_weight,
            random_state=seed,
        )
        return Pipeline([("preprocess", _ordinal(schema)), ("model", boosting)])
    raise ValueError(f"unknown model family {family!r}")


def _one_hot(schema: DatasetSchema, *, scale: bool) -> ColumnTransformer:
    numeric_steps: list[tuple[str, object]] = [
        ("impute", SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True))
    ]
    if scale:
        numeric_steps.append(("scale", StandardScaler()))
    categorical = OneHotEncoder(
        handle_unknown="infrequent_if_exist",
        min_frequency=MIN_CATEGORY_FREQUENCY,
        sparse_output=False,
    )
    return _columns(schema, Pipeline(numeric_steps), categorical)


def _ordinal(schema: DatasetSchema) -> ColumnTransformer:
    # Missing and unseen categories both become NaN, which the booster treats as missing.
    categorical = OrdinalEncoder(
        handle_unknown="use_encoded_value",
        unknown_value=np.nan,
        encoded_missing_value=np.nan,
        max_categories=MAX_ORDINAL_CATEGORIES,
    )
    return _columns(schema, "passthrough", categorical)


def _columns(schema: DatasetSchema, numeric: object, categorical: object) -> ColumnTransformer:
    transformers = []
    if schema.numeric:
        transformers.append(("numeric", numeric, schema.numeric))
    if schema.categorical:
        transformers.append(("categorical", categorical, schema.categorical))
    return ColumnTransformer(transformers, remainder="drop", verbose_feature_names_out=False)

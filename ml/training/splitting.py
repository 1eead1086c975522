"""Checking a labelled set is trainable, splitting off the holdout, and class weighting."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from ml.training.config import TrainerConfig
from shared.errors import InputError


def check_trainable(labels: pd.Series, config: TrainerConfig) -> None:
    """Enough labelled rows for the holdout and every CV fold; InputError saying what to do."""
    if labels.isna().any():
        raise InputError("labels contain missing values; drop unlabelled rows before training")
    if len(labels) < config.min_rows:
        raise InputError(
            f"only {len(labels)} labelled rows; training needs at least {config.min_rows}"
        )
    counts = labels.value_counts()
    if len(counts) < 2:
        raise InputError(f"the labels hold a single class ({counts.index[0]}); need at least two")
    needed = int(np.ceil((config.cv_folds + 1) / (1 - config.holdout_fraction)))
    rare = counts[counts < needed]
    if len(rare):
        listed = ", ".join(f"{name!r} ({n})" for name, n in rare.items())
        raise InputError(
            f"too few rows for class {listed}: holdout and {config.cv_folds}-fold "
            f"cross-validation need at least {needed} per class; add rows or merge rare classes"
        )


def split_holdout(
    labels: pd.Series, config: TrainerConfig, holdout: pd.Series | None
) -> tuple[pd.Index, pd.Index]:
    if holdout is not None:
        mask = holdout.reindex(labels.index).fillna(False).astype(bool)
        return labels.index[~mask], labels.index[mask]
    train_index, holdout_index = train_test_split(
        labels.index,
        test_size=config.holdout_fraction,
        stratify=labels,
        random_state=config.seed,
    )
    return pd.Index(train_index), pd.Index(holdout_index)


def class_weighting(labels: pd.Series, config: TrainerConfig) -> str | None:
    if config.class_weighting == "none":
        return None
    if config.class_weighting == "balanced":
        return "balanced"
    counts = labels.value_counts()
    return "balanced" if counts.min() < config.imbalance_ratio * counts.max() else None

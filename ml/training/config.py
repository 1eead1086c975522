"""Trainer settings and the metric vocabulary shared by training, the registry and the gate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from shared.errors import InputError

if TYPE_CHECKING:
    from shared.config import Settings

FAMILIES = ("logistic_regression", "random_forest", "hist_gradient_boosting")

# Holdout metric keys; "f1" is macro-averaged so no class has to be called "positive".
METRICS = ("accuracy", "balanced_accuracy", "f1", "roc_auc", "log_loss")
LOWER_IS_BETTER = frozenset({"log_loss"})
_ALIASES = {"f1_macro": "f1", "auc": "roc_auc", "roc_auc_ovr": "roc_auc"}


def metric_key(name: str) -> str:
    """Canonical metric key for a user-facing name (f1_macro -> f1); InputError if unknown."""
    key = _ALIASES.get(name, name)
    if key not in METRICS:
        raise InputError(f"unknown metric {name!r}; choose from {', '.join(METRICS)}")
    return key


def higher_is_better(metric: str) -> bool:
    return metric_key(metric) not in LOWER_IS_BETTER


@dataclass(frozen=True)
class TrainerConfig:
    """How `train` selects and fits a model. Defaults suit a 2-core machine."""

    seed: int = 42
    families: tuple[str, ...] = FAMILIES
    primary_metric: str | None = None  # None: roc_auc (binary), f1 (multiclass)
    cv_folds: int = 3
    holdout_fraction: float = 0.3
    # auto: weight classes inversely to frequency when the rarest class is under
    # `imbalance_ratio` times the commonest; balanced weighting costs calibration.
    class_weighting: Literal["auto", "balanced", "none"] = "auto"
    imbalance_ratio: float = 0.5
    # Cross-validation runs on a stratified sample of at most this many rows; the
    # chosen family is then fitted on the whole training split.
    selection_max_rows: int = 20_000
    importance_max_rows: int = 2_000
    importance_repeats: int = 3
    n_jobs: int = 2  # random forest threads (joblib)
    # OpenMP/BLAS threads: on a busy 2-core host, 2 OpenMP threads made
    # HistGradientBoosting 10x slower than 1 (spin-waiting barriers).
    native_threads: int = 1
    min_rows: int = 30

    def __post_init__(self) -> None:
        unknown = [family for family in self.families if family not in FAMILIES]
        if unknown or not self.families:
            raise InputError(
                f"unknown model families {unknown or '(none)'}; choose from {', '.join(FAMILIES)}"
            )
        if self.primary_metric is not None:
            metric_key(self.primary_metric)
        if self.cv_folds < 2:
            raise InputError("cv_folds must be at least 2")
        if not 0 < self.holdout_fraction < 1:
            raise InputError("holdout_fraction must be between 0 and 1")

    def metric_for(self, task: str) -> str:
        """The metric that ranks candidate families for this task."""
        if self.primary_metric:
            return metric_key(self.primary_metric)
        return "roc_auc" if task == "binary" else "f1"

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: object) -> TrainerConfig:
        families = tuple(f.strip() for f in settings.candidate_families.split(",") if f.strip())
        values: dict[str, object] = {
            "seed": settings.random_seed,
            "families": families,
            "primary_metric": settings.primary_metric,
            "cv_folds": settings.cv_folds,
            "holdout_fraction": settings.holdout_fraction,
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

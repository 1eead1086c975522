"""Training: one scikit-learn Pipeline per model, selected by cross-validation and evaluated."""

from ml.training.config import FAMILIES, METRICS, TrainerConfig, higher_is_better, metric_key
from ml.training.metrics import evaluate
from ml.training.trainer import Progress, TrainingResult, train

__all__ = [
    "FAMILIES",
    "METRICS",
    "Progress",
    "TrainerConfig",
    "TrainingResult",
    "evaluate",
    "higher_is_better",
    "metric_key",
    "train",
]

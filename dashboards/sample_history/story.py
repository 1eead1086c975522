"""What happens over the span: covariate drift A hurts v1, a first retrain dies, a
second promotes v2; later drift B yields v3, which the gate keeps as challenger
(scored in shadow from then on). Drift checks run on a fixed grid; each job starts
from the first check at or after its moment, so every table tells the same story."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

MODEL_NAME = "lung_disease"
CLASSES = ("Yes", "No")
DRIFT_A = (0.30, 0.42)
DRIFT_B = (0.76, 0.84)
JOB_DEAD, JOB_PROMOTED, JOB_CHALLENGER = 0.36, 0.46, 0.82
JOB_DELAY = timedelta(seconds=2)


def ramp(f: np.ndarray | float, start: float, full: float) -> np.ndarray:
    """0 before start, rising linearly to 1 at full, then 1."""
    return np.clip((np.asarray(f, dtype=float) - start) / (full - start), 0.0, 1.0)


@dataclass(frozen=True)
class Story:
    start: datetime
    span: timedelta
    n_checks: int

    def at(self, fraction: float) -> datetime:
        return self.start + self.span * fraction

    def fraction(self, when: np.ndarray | datetime) -> np.ndarray:
        """Fractions of the span for epoch seconds (or one datetime)."""
        seconds = when.timestamp() if isinstance(when, datetime) else when
        return (np.asarray(seconds) - self.start.timestamp()) / self.span.total_seconds()

    def check_times(self) -> list[datetime]:
        step = self.span / self.n_checks
        return [self.start + step * (i + 0.5) for i in range(self.n_checks)]

    def trigger_time(self, fraction: float) -> datetime:
        """The drift check that enqueues the job planned at `fraction`."""
        moment = self.at(fraction)
        return next(t for t in self.check_times() if t >= moment)

    @property
    def job_duration(self) -> timedelta:
        return min(timedelta(seconds=75), self.span * 0.02)

    def job_finished(self, fraction: float) -> datetime:
        return self.trigger_time(fraction) + JOB_DELAY + self.job_duration

    @property
    def promotion_v2(self) -> float:
        return float(self.fraction(self.job_finished(JOB_PROMOTED)))

    @property
    def challenger_v3(self) -> float:
        return float(self.fraction(self.job_finished(JOB_CHALLENGER)))

    def shift_a(self, f: np.ndarray) -> np.ndarray:
        """How far the data has moved: older patients, lower lung capacity, more visits."""
        return ramp(f, *DRIFT_A)

    def shift_b(self, f: np.ndarray) -> np.ndarray:
        """More current smokers."""
        return ramp(f, *DRIFT_B)

    def serving_version(self, f: np.ndarray) -> np.ndarray:
        return np.where(f < self.promotion_v2, "1", "2")

    def shadowing(self, f: np.ndarray) -> np.ndarray:
        return f >= self.challenger_v3

    def accuracy(self, f: np.ndarray) -> np.ndarray:
        """Chance the serving model is right: v1 suffers under drift A, v2 does not."""
        v1 = 0.86 - 0.15 * self.shift_a(f)
        return np.where(f < self.promotion_v2, v1, 0.88 - 0.01 * self.shift_b(f))

    def yes_share(self, f: np.ndarray) -> np.ndarray:
        return 0.58 - 0.16 * self.shift_a(f) - 0.05 * self.shift_b(f)

    def drift_against_reference(self, f: float) -> tuple[float, float]:
        """(shift A, shift B) relative to the serving version's training data
        (v2 was trained on data that had already moved)."""
        a = float(self.shift_a(np.array(f))) if f < self.promotion_v2 else 0.0
        return a, float(self.shift_b(np.array(f)))

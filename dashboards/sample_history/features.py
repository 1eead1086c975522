"""Feature rows shaped like the sample lung-disease data, moved by the story's drifts."""

from __future__ import annotations

import numpy as np

NUMERIC = ("Age", "Lung Capacity", "Hospital Visits")
CATEGORIES = {
    "Gender": (("Male", "Female"), (0.5, 0.5)),
    "Smoking Status": (("Never", "Former", "Current"), (0.47, 0.30, 0.23)),
    "Disease Type": (
        ("COPD", "Pneumonia", "Asthma", "Bronchitis", "Lung Cancer"),
        (0.25, 0.2, 0.2, 0.2, 0.15),
    ),
    "Treatment Type": (("Medication", "Therapy", "Surgery"), (0.45, 0.35, 0.2)),
}
FEATURES = (*NUMERIC, *CATEGORIES)
MISSING_RATE = 0.04


def _categorical(rng: np.random.Generator, n: int, name: str, moved: np.ndarray) -> np.ndarray:
    values, base = CATEGORIES[name]
    probs = np.tile(np.asarray(base), (n, 1))
    if name == "Smoking Status":  # drift B: more current smokers, fewer who never smoked
        probs[:, 2] += 0.3 * moved
        probs[:, 0] -= 0.3 * moved
    cumulative = probs.cumsum(axis=1)
    picks = (rng.random(n)[:, None] > cumulative).sum(axis=1).clip(0, len(values) - 1)
    return np.asarray(values, dtype=object)[picks]


def sample_columns(
    rng: np.random.Generator, shift_a: np.ndarray, shift_b: np.ndarray
) -> dict[str, np.ndarray]:
    """One column per feature; shift_a/shift_b per row in [0, 1]."""
    n = len(shift_a)
    columns: dict[str, np.ndarray] = {
        "Age": np.clip(rng.normal(54 + 14 * shift_a, 14.5), 18, 95).round(),
        "Lung Capacity": np.clip(rng.normal(4.6 - 0.9 * shift_a, 0.85), 1.2, 7.5).round(2),
        "Hospital Visits": rng.poisson(2.4 + 1.5 * shift_a).astype(float),
    }
    for name in CATEGORIES:
        columns[name] = _categorical(rng, n, name, shift_b)
    return columns


def feature_records(rng: np.random.Generator, columns: dict[str, np.ndarray]) -> list[dict]:
    """JSON-ready records, with a few missing values like real traffic."""
    n = len(next(iter(columns.values())))
    missing = rng.random((n, len(FEATURES))) < MISSING_RATE
    lists = [columns[name].tolist() for name in FEATURES]
    return [
        {name: (None if missing[i, j] else lists[j][i]) for j, name in enumerate(FEATURES)}
        for i in range(n)
    ]

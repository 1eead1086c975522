"""Synthetic lung-disease data with a real, learnable signal and named drift scenarios.

The generative model is documented in docs/DATA.md; keep the two in step.
Everything is drawn from one seeded generator, so the same (rows, scenario,
seed) gives the same frame and, through `write_csv`, the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

TARGET = "Recovered"
NUMERIC = ["Age", "Lung Capacity", "Hospital Visits"]
CATEGORICAL = ["Gender", "Smoking Status", "Disease Type", "Treatment Type"]
COLUMNS = [
    "Age",
    "Gender",
    "Smoking Status",
    "Lung Capacity",
    "Disease Type",
    "Treatment Type",
    "Hospital Visits",
    TARGET,
]

DISEASES = ["COPD", "Asthma", "Lung Cancer", "Pneumonia", "Bronchitis"]
DISEASE_WEIGHTS = [0.25, 0.2, 0.15, 0.2, 0.2]
TREATMENTS = ["Medication", "Therapy", "Surgery"]
TREATMENT_WEIGHTS = [0.45, 0.35, 0.2]
SMOKING = ["Never", "Former", "Current"]
SMOKING_WEIGHTS = [0.45, 0.3, 0.25]
NEW_DISEASE = "Tuberculosis"

SCENARIOS = {
    "none": "in-distribution data, the same process as the reference",
    "covariate": "older patients, more smokers, lower lung capacity; P(Recovered | features) unchanged",
    "concept": "the effect of treatment on recovery changes (features unchanged)",
    "prior": "recovery rate drops (features unchanged)",
    "new_category": f"an unseen Disease Type ({NEW_DISEASE}) appears in a quarter of rows",
    "missing": "missing values spike to 40% in Lung Capacity and Smoking Status",
    "tiny": "a negligible shift (Age +0.3 years, Lung Capacity -0.01 l) that must not count as drift",
    "covariate_concept": "covariate and concept drift at once (the demo's drift)",
}
COVARIATE = ("covariate", "covariate_concept")
CONCEPT = ("concept", "covariate_concept")
MISSING_RATE = 0.05

DISEASE_EFFECT = {
    "COPD": -0.6,
    "Asthma": 0.3,
    "Lung Cancer": -1.3,
    "Pneumonia": 0.9,
    "Bronchitis": 0.7,
    NEW_DISEASE: -0.2,
}
# (disease, treatment) interaction effects; these are what make a tree beat a linear model.
TREATMENT_FIT = {
    ("Lung Cancer", "Surgery"): 3.2,
    ("Asthma", "Therapy"): 2.4,
    ("COPD", "Therapy"): 2.4,
    ("Pneumonia", "Medication"): 2.6,
    ("Bronchitis", "Medication"): 2.4,
}
# Under `concept` the treatments that worked stop working and the others start to.
CONCEPT_FIT = {
    ("Lung Cancer", "Medication"): 3.2,
    ("Asthma", "Medication"): 2.4,
    ("COPD", "Surgery"): 2.4,
    ("Pneumonia", "Therapy"): 2.6,
    ("Bronchitis", "Therapy"): 2.4,
}


def make_dataset(rows: int, scenario: str = "none", seed: int = 42) -> pd.DataFrame:
    """Draw `rows` patients under `scenario` (see SCENARIOS)."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; choose from {', '.join(SCENARIOS)}")
    if rows < 1:
        raise ValueError("rows must be at least 1")
    rng = np.random.default_rng(seed)

    shifted = scenario in COVARIATE
    age_shift = 12.0 if shifted else {"tiny": 0.3}.get(scenario, 0.0)
    age = np.clip(rng.normal(55.0 + age_shift, 15.0, rows), 18, 90).round()
    gender = rng.choice(["Male", "Female"], rows)
    smoking_weights = [0.3, 0.3, 0.4] if shifted else SMOKING_WEIGHTS
    smoking = rng.choice(SMOKING, rows, p=smoking_weights)
    diseases = rng.choice(DISEASES, rows, p=DISEASE_WEIGHTS)
    if scenario == "new_category":
        diseases = np.where(rng.random(rows) < 0.25, NEW_DISEASE, diseases)
    treatment = rng.choice(TREATMENTS, rows, p=TREATMENT_WEIGHTS)

    current, former = smoking == "Current", smoking == "Former"
    capacity = 5.4 - 0.035 * (age - 40) - 0.7 * current - 0.3 * former + rng.normal(0, 0.6, rows)
    capacity -= 0.5 if shifted else {"tiny": 0.01}.get(scenario, 0.0)
    capacity = np.clip(capacity, 0.8, 7.5).round(2)
    severity = np.isin(diseases, ["COPD", "Lung Cancer"]).astype(float)
    visits = rng.poisson(1.5 + 1.5 * severity + 0.02 * (age - 40).clip(0), rows)

    logit = (
        -1.0
        + 0.9 * (capacity - 4.5)
        - 0.03 * (age - 55)
        - 0.5 * current
        - 0.12 * (visits - 3)
        + pd.Series(diseases).map(DISEASE_EFFECT).to_numpy()
        + _interaction(diseases, treatment, CONCEPT_FIT if scenario in CONCEPT else TREATMENT_FIT)
    )
    if scenario == "prior":
        logit -= 1.6
    recovered = np.where(rng.random(rows) < 1 / (1 + np.exp(-logit)), "Yes", "No")

    frame = pd.DataFrame(
        {
            "Age": age.astype(float),
            "Gender": gender,
            "Smoking Status": smoking,
            "Lung Capacity": capacity,
            "Disease Type": diseases,
            "Treatment Type": treatment,
            "Hospital Visits": visits.astype(float),
            TARGET: recovered,
        }
    )
    _inject_missing(frame, rng, scenario)
    return frame[COLUMNS]


def _interaction(diseases: np.ndarray, treatment: np.ndarray, table: dict) -> np.ndarray:
    effect = np.zeros(len(diseases))
    for (disease, treat), value in table.items():
        effect += value * ((diseases == disease) & (treatment == treat))
    return effect


def _inject_missing(frame: pd.DataFrame, rng: np.random.Generator, scenario: str) -> None:
    for column in COLUMNS[:-1]:
        rate = (
            0.4
            if scenario == "missing" and column in ("Lung Capacity", "Smoking Status")
            else MISSING_RATE
        )
        mask = rng.random(len(frame)) < rate
        if column in NUMERIC:
            frame.loc[mask, column] = np.nan
        else:
            frame[column] = frame[column].astype(object)
            frame.loc[mask, column] = None


def write_csv(frame: pd.DataFrame, path: str | Path) -> None:
    """Write deterministically: integers without a decimal point, missing as an empty cell."""
    out = frame.copy()
    for column in ("Age", "Hospital Visits"):
        out[column] = out[column].astype("Int64")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(path, index=False, lineterminator="\n")

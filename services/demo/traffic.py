"""Live traffic for the demo and the recovery benchmark: predictions plus fed-back labels."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import requests

from ml.data.sample import TARGET, make_dataset
from shared.config import Settings


@dataclass
class TrafficResult:
    versions: list[str] = field(default_factory=list)
    correct: int = 0
    total: int = 0

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else float("nan")


class TrafficClient:
    """Sends records to /predict and their true labels to /feedback, like a real client would."""

    def __init__(self, settings: Settings, *, timeout: float = 30.0) -> None:
        self.predict_url = f"http://{settings.host}:{settings.prediction_service_port}"
        self.ingest_url = f"http://{settings.host}:{settings.ingestion_api_port}"
        self.headers = {"Authorization": f"Bearer {settings.api_key}"} if settings.api_key else {}
        self.session = requests.Session()
        self.timeout = timeout

    def model(self) -> dict:
        response = self.session.get(f"{self.predict_url}/model", timeout=self.timeout)
        response.raise_for_status()
        return response.json()

    def send(self, frame: pd.DataFrame, *, feedback: bool = True) -> TrafficResult:
        """Predict every row (one request per call) and, if asked, feed the true labels back."""
        features = frame.drop(columns=[TARGET])
        records = features.astype(object).where(features.notna(), None).to_dict("records")
        response = self.session.post(
            f"{self.predict_url}/predict", json={"records": records}, timeout=self.timeout
        )
        response.raise_for_status()
        body = response.json()
        predicted = [p["prediction"] for p in body["predictions"]]
        truth = frame[TARGET].astype(str).tolist()
        if feedback:
            labels = [
                {"prediction_id": p["prediction_id"], "label": y}
                for p, y in zip(body["predictions"], truth, strict=True)
            ]
            fed = self.session.post(
                f"{self.ingest_url}/feedback",
                json={"labels": labels},
                headers=self.headers,
                timeout=self.timeout,
            )
            fed.raise_for_status()
        result = TrafficResult(versions=[str(body["model"]["version"])] * len(records))
        result.correct = int(np.sum(np.asarray(predicted) == np.asarray(truth)))
        result.total = len(records)
        return result


def drifted_sample(rows: int, seed: int) -> pd.DataFrame:
    """The demo's drift: older patients, more smokers, and treatments that work differently."""
    return make_dataset(rows, "covariate_concept", seed=seed)

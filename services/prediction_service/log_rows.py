"""What the service logs: one request's predictions, and a challenger's verdict on them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class PredictionRows:
    """One answered request, encoded once for the `predictions` table and the response."""

    model_name: str
    model_version: str
    endpoint: str
    request_id: str | None
    created_at: datetime  # UTC; every row of a request shares it
    latency_ms: float  # request start to answer ready, the same for each of its rows
    ids: list[str]
    labels: list[str]
    probabilities_json: list[str]
    features_json: list[str]

    @property
    def size(self) -> int:
        return len(self.ids)

    def class_counts(self) -> dict[str, int]:
        return dict(Counter(self.labels))


@dataclass(frozen=True)
class ShadowRows:
    """The challenger's output for rows the champion answered (written after them)."""

    model_name: str
    champion_version: str
    created_at: datetime  # of the champion's rows: the rollup minute they count in
    shadow_version: str
    ids: list[str]
    labels: list[str]
    probabilities: list[dict[str, float]]
    agreed: int  # rows where challenger and champion predict the same class

    @property
    def size(self) -> int:
        return len(self.ids)


def minute_of(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)

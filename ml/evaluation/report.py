"""The drift report: plain dataclasses that round-trip through JSON-ready dicts."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

REPORT_FORMAT_VERSION = 1
DRIFT, NO_DRIFT, NOT_TESTABLE = "drift", "no_drift", "not_testable"


@dataclass
class FeatureDrift:
    """Every statistic behind one feature's verdict, plus binned counts for a histogram."""

    name: str
    kind: str  # "numeric" | "categorical"
    verdict: str = NOT_TESTABLE
    reason: str = ""
    test: str | None = None  # "ks" | "chi2"
    statistic: float | None = None
    p_value: float | None = None
    p_adjusted: float | None = None
    effect_size: float | None = None
    effect_metric: str | None = None  # "wasserstein_norm" | "jensen_shannon" | "total_variation"
    effect_threshold: float | None = None
    n_reference: int = 0
    n_current: int = 0
    missing_rate_ref: float | None = None
    missing_rate_cur: float | None = None
    nonfinite_rate_ref: float | None = None
    nonfinite_rate_cur: float | None = None
    missing_p_value: float | None = None
    missing_p_adjusted: float | None = None
    unseen_share: float | None = None
    unseen_share_ref: float | None = None
    unseen_categories: list[str] = field(default_factory=list)
    unseen_p_value: float | None = None
    unseen_p_adjusted: float | None = None
    psi: float | None = None
    importance: float | None = None
    histogram: dict[str, list[Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureDrift:
        return cls(**_known(cls, data))


@dataclass
class OutputDrift:
    """Drift of a model output (predictions) or of the labels: class shares and scores."""

    drifted: bool | None
    reason: str
    distribution: FeatureDrift | None = None
    score: FeatureDrift | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "drifted": self.drifted,
            "reason": self.reason,
            "distribution": self.distribution.to_dict() if self.distribution else None,
            "score": self.score.to_dict() if self.score else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OutputDrift:
        distribution, score = data.get("distribution"), data.get("score")
        return cls(
            data["drifted"],
            data["reason"],
            FeatureDrift.from_dict(distribution) if distribution else None,
            FeatureDrift.from_dict(score) if score else None,
        )


@dataclass
class MetricCheck:
    """A realised metric with its confidence interval, against the reference value."""

    name: str
    realised: float | None
    ci_low: float | None
    ci_high: float | None
    reference: float | None = None
    drop: float | None = None
    degraded: bool | None = None


@dataclass
class PerformanceDrift:
    """Realised performance on the labelled part of the window."""

    degraded: bool | None
    reason: str
    n_labeled: int
    threshold: float
    metrics: dict[str, MetricCheck] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PerformanceDrift:
        metrics = {name: MetricCheck(**value) for name, value in data["metrics"].items()}
        return cls(data["degraded"], data["reason"], data["n_labeled"], data["threshold"], metrics)


@dataclass
class DriftReport:
    """The verdict on one window: dataset_drift is None when the window was not testable."""

    dataset_drift: bool | None
    reason: str
    n_current: int
    n_reference: int = 0
    drifted_features: list[str] = field(default_factory=list)
    not_testable_features: list[str] = field(default_factory=list)
    drifted_share: float | None = None
    features: dict[str, FeatureDrift] = field(default_factory=dict)
    prediction_drift: OutputDrift | None = None
    label_drift: OutputDrift | None = None
    performance: PerformanceDrift | None = None
    top_features: list[str] = field(default_factory=list)
    thresholds: dict[str, Any] = field(default_factory=dict)
    format_version: int = REPORT_FORMAT_VERSION

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (no NaN: undefined statistics are None)."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["features"] = {name: value.to_dict() for name, value in self.features.items()}
        for key in ("prediction_drift", "label_drift", "performance"):
            value = getattr(self, key)
            data[key] = value.to_dict() if value is not None else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DriftReport:
        values = _known(cls, data)
        values["features"] = {
            name: FeatureDrift.from_dict(value) for name, value in data.get("features", {}).items()
        }
        for key, kind in (
            ("prediction_drift", OutputDrift),
            ("label_drift", OutputDrift),
            ("performance", PerformanceDrift),
        ):
            raw = data.get(key)
            values[key] = kind.from_dict(raw) if raw else None
        return cls(**values)

    def summary(self) -> dict[str, Any]:
        """The compact form `mlpipe drift --json` prints (the caller adds "model")."""
        keys = ("test", "p_value", "p_adjusted", "effect_size", "verdict")
        return {
            "dataset_drift": self.dataset_drift,
            "reason": self.reason,
            "n_current": self.n_current,
            "drifted_features": list(self.drifted_features),
            "features": {
                name: {key: getattr(feature, key) for key in keys}
                for name, feature in self.features.items()
            },
        }


def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {key: value for key, value in data.items() if key in names}

"""Drift thresholds: every default documented here and in docs/DRIFT.md, overridable per feature."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any


@dataclass(frozen=True)
class FeatureThresholds:
    """Per-feature overrides; a field left as None falls back to the global default."""

    effect_size: float | None = None
    missing_rate_change: float | None = None
    unseen_share: float | None = None
    min_samples: int | None = None


@dataclass(frozen=True)
class ResolvedThresholds:
    """The thresholds that apply to one feature once overrides are merged in."""

    effect_size: float
    missing_rate_change: float
    unseen_share: float
    min_samples: int


@dataclass(frozen=True)
class DriftThresholds:
    """Thresholds of the layered drift decision (significance AND practical effect).

    alpha: false-discovery rate of the Benjamini-Hochberg correction over all checks of a window.
    min_samples: fewest usable values (per feature) or rows (per window) worth testing.
    numeric_effect: normalised Wasserstein distance (W1 / reference std) that counts as drift.
    categorical_effect: Jensen-Shannon distance (base 2, in [0, 1]) that counts as drift.
    missing_rate_change: absolute change in the share of missing or non-finite values.
    unseen_share: share of values in categories the reference never had.
    drift_share: importance-weighted share of testable features that must drift for the
        data set to drift.
    prediction_drift: total variation distance of the predicted-class distribution.
    label_drift: total variation distance of the label distribution.
    performance_drop: absolute drop of a realised metric below the reference metric.
    per_feature: overrides by feature name (FeatureThresholds or a dict of its fields).
    """

    alpha: float = 0.01
    min_samples: int = 30
    numeric_effect: float = 0.1
    categorical_effect: float = 0.1
    missing_rate_change: float = 0.05
    unseen_share: float = 0.01
    drift_share: float = 0.1
    prediction_drift: float = 0.1
    label_drift: float = 0.1
    performance_drop: float = 0.05
    per_feature: Mapping[str, FeatureThresholds] = field(default_factory=dict)

    def __post_init__(self) -> None:
        overrides = {
            name: value if isinstance(value, FeatureThresholds) else FeatureThresholds(**value)
            for name, value in self.per_feature.items()
        }
        object.__setattr__(self, "per_feature", overrides)
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha must be in (0, 1), got {self.alpha}")
        if self.min_samples < 1:
            raise ValueError(f"min_samples must be at least 1, got {self.min_samples}")

    def for_feature(self, name: str, kind: str) -> ResolvedThresholds:
        """Thresholds for feature `name` of `kind` ("numeric" or "categorical")."""
        override = self.per_feature.get(name, FeatureThresholds())
        default_effect = self.numeric_effect if kind == "numeric" else self.categorical_effect
        return ResolvedThresholds(
            effect_size=_pick(override.effect_size, default_effect),
            missing_rate_change=_pick(override.missing_rate_change, self.missing_rate_change),
            unseen_share=_pick(override.unseen_share, self.unseen_share),
            min_samples=int(_pick(override.min_samples, self.min_samples)),
        )

    def with_overrides(
        self, **per_feature: FeatureThresholds | Mapping[str, Any]
    ) -> DriftThresholds:
        """A copy with extra per-feature overrides (keyword = feature name)."""
        merged: dict[str, Any] = dict(self.per_feature)
        merged.update(per_feature)
        return replace(self, per_feature=merged)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (overrides without their unset fields)."""
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "per_feature"}
        data["per_feature"] = {
            name: {key: value for key, value in asdict(override).items() if value is not None}
            for name, override in self.per_feature.items()
        }
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DriftThresholds:
        """Inverse of `to_dict`; unknown keys are an error so typos do not pass silently."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown drift threshold(s): {', '.join(sorted(unknown))}")
        return cls(**dict(data))


def _pick(value: float | int | None, default: float | int) -> float:
    return float(default if value is None else value)

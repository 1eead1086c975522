"""Drift engine: reference profiles, layered drift detection and JSON-ready drift reports."""

from ml.evaluation.detector import DriftDetector
from ml.evaluation.profile import PROFILE_FORMAT_VERSION, ReferenceProfile
from ml.evaluation.report import (
    DRIFT,
    NO_DRIFT,
    NOT_TESTABLE,
    DriftReport,
    FeatureDrift,
    MetricCheck,
    OutputDrift,
    PerformanceDrift,
)
from ml.evaluation.thresholds import DriftThresholds, FeatureThresholds

__all__ = [
    "DRIFT",
    "NOT_TESTABLE",
    "NO_DRIFT",
    "PROFILE_FORMAT_VERSION",
    "DriftDetector",
    "DriftReport",
    "DriftThresholds",
    "FeatureDrift",
    "FeatureThresholds",
    "MetricCheck",
    "OutputDrift",
    "PerformanceDrift",
    "ReferenceProfile",
]

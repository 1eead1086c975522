"""One-line readings of stored documents whose exact shape belongs to other components
(gate decisions, metrics): read defensively, never fail on an unexpected key."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

PREFERRED_METRICS = ("roc_auc", "f1_macro", "accuracy", "f1", "balanced_accuracy", "log_loss")
SUMMARY_LIMIT = 160


def primary_metric(configured: str | None, names: Iterable[str]) -> str | None:
    """The metric to rank versions by: PRIMARY_METRIC, else a usual one that exists."""
    available = list(names)
    for wanted in ([configured] if configured else []) + list(PREFERRED_METRICS):
        for name in available:
            if name == wanted or name.endswith(("." + wanted, "_" + wanted)):
                return name
    return available[0] if available else None


OUTCOME_WORDS = {"promote": "promoted", "promoted": "promoted", "challenger": "kept as challenger"}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _score(value: Any, metric: Any) -> float | None:
    """A score given directly, or the metric's entry of a metrics dict."""
    if isinstance(value, dict) and isinstance(metric, str):
        value = value.get(metric)
    return _number(value)


def _scores(decision: dict[str, Any]) -> str | None:
    metric = decision.get("primary_metric") or decision.get("metric")
    candidate = _score(decision.get("candidate_score", decision.get("candidate")), metric)
    champion = _score(decision.get("champion_score", decision.get("champion")), metric)
    if candidate is None or champion is None:
        return None
    prefix = f"{metric} " if isinstance(metric, str) else ""
    return f"{prefix}{candidate:.3f} vs champion {champion:.3f}"


def _outcome(decision: dict[str, Any]) -> str | None:
    outcome = decision.get("outcome") or decision.get("decision")
    if isinstance(outcome, str):
        return outcome.lower()
    if isinstance(decision.get("promoted"), bool):
        return "promoted" if decision["promoted"] else "challenger"
    return None


def gate_summary(decision: dict[str, Any] | None, *, with_outcome: bool = True) -> str:
    """'promoted · roc_auc 0.9120 vs champion 0.8610 (+0.0510) on 420 rows, guardrails held'."""
    if not decision:
        return ""
    parts: list[str] = []
    outcome = _outcome(decision)
    if with_outcome and outcome:
        parts.append(OUTCOME_WORDS.get(outcome, outcome))
    reason = decision.get("reason")
    if isinstance(reason, str) and reason:
        parts.append(reason)
    elif scores := _scores(decision):
        parts.append(scores)
    text = " · ".join(parts) if parts else json.dumps(decision, default=str, sort_keys=True)
    return text if len(text) <= SUMMARY_LIMIT else text[: SUMMARY_LIMIT - 1] + "…"


def promoted(decision: dict[str, Any] | None) -> bool | None:
    """Whether the gate's candidate became champion, when the decision says so."""
    outcome = _outcome(decision or {})
    return None if outcome is None else OUTCOME_WORDS.get(outcome) == "promoted"


def verdict_word(dataset_drift: bool | None) -> str:
    """How a data-set drift verdict reads: drift, no drift, or not testable (None)."""
    if dataset_drift is None:
        return "not testable"
    return "drift" if dataset_drift else "no drift"


def verdict_tone(dataset_drift: bool | None) -> str:
    if dataset_drift is None:
        return "neutral"
    return "bad" if dataset_drift else "good"

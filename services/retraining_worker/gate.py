"""The promotion gate: is the candidate better than the champion on the same recent rows?

Pure: it compares two metric dicts (both computed by `ml.training.evaluate` on
the same holdout) and explains its verdict in one sentence. The candidate
becomes champion only when the primary metric improves by at least
`min_improvement` and no guardrail metric gets worse by more than
`guardrail_tolerance`; otherwise it becomes challenger, scored in shadow.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ml.training import higher_is_better, metric_key
from shared.config import Settings

PROMOTE, CHALLENGER = "promote", "challenger"
# Guardrails are the bounded [0, 1] metrics, so one absolute tolerance means the
# same on each; log loss is unbounded and stays informational.
GUARDRAIL_METRICS = ("accuracy", "balanced_accuracy", "f1", "roc_auc")
# Fewer held-out rows than this cannot tell two models apart; the candidate waits
# as challenger (scored in shadow) until more labels arrive.
MIN_HOLDOUT_ROWS = 50


@dataclass(frozen=True)
class GatePolicy:
    primary_metric: str
    min_improvement: float
    guardrail_tolerance: float
    auto_promote: bool
    guardrails: tuple[str, ...] = GUARDRAIL_METRICS
    min_holdout_rows: int = MIN_HOLDOUT_ROWS

    @classmethod
    def from_settings(cls, settings: Settings, task: str) -> GatePolicy:
        default = "roc_auc" if task == "binary" else "f1"
        primary = metric_key(settings.primary_metric or default)
        return cls(
            primary_metric=primary,
            min_improvement=settings.gate_min_improvement,
            guardrail_tolerance=settings.gate_guardrail_tolerance,
            auto_promote=settings.auto_promote,
            guardrails=tuple(m for m in GUARDRAIL_METRICS if m != primary),
        )


@dataclass
class GuardrailCheck:
    metric: str
    candidate: float | None
    champion: float | None
    worse_by: float | None  # positive: the candidate is worse
    ok: bool


@dataclass
class GateDecision:
    """The verdict, with every number behind it (stored on the job and in the alias history)."""

    outcome: str  # promote | challenger
    passed: bool  # the candidate beat the champion (it may still wait: AUTO_PROMOTE=false)
    reason: str
    primary_metric: str
    candidate: dict[str, Any]
    champion: dict[str, Any] | None
    improvement: float | None
    holdout_rows: int
    guardrails: list[GuardrailCheck] = field(default_factory=list)
    champion_version: str | None = None
    candidate_version: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def decide(
    candidate: dict[str, Any],
    champion: dict[str, Any] | None,
    policy: GatePolicy,
    *,
    holdout_rows: int,
) -> GateDecision:
    """Compare candidate and champion metrics measured on the same `holdout_rows` rows."""
    metric = policy.primary_metric
    scores = _scalars(candidate)
    verdict = GateDecision(CHALLENGER, False, "", metric, scores, None, None, holdout_rows)
    if champion is None:
        verdict.passed = True
        return _finish(verdict, policy, "there is no champion to compare against")
    verdict.champion = _scalars(champion)
    if holdout_rows < policy.min_holdout_rows:
        verdict.reason = (
            f"only {holdout_rows} recent labelled rows the candidate did not train on "
            f"(at least {policy.min_holdout_rows} needed to compare it with the champion)"
        )
        return verdict
    new, old = scores.get(metric), verdict.champion.get(metric)
    if new is None or old is None:
        verdict.reason = f"{metric} is undefined on the holdout (a single class?)"
        return verdict
    gain = new - old if higher_is_better(metric) else old - new
    verdict.improvement = gain
    verdict.guardrails = [
        _guardrail(name, scores, verdict.champion, policy) for name in policy.guardrails
    ]
    headline = f"{metric} {new:.4f} vs champion {old:.4f} ({gain:+.4f}) on {holdout_rows} rows"
    if gain < policy.min_improvement:
        verdict.reason = f"{headline}: below the required +{policy.min_improvement:g}"
        return verdict
    broken = [check for check in verdict.guardrails if not check.ok]
    if broken:
        listed = ", ".join(f"{c.metric} worse by {c.worse_by:.4f}" for c in broken)
        verdict.reason = f"{headline}, but {listed} (tolerance {policy.guardrail_tolerance:g})"
        return verdict
    verdict.passed = True
    return _finish(verdict, policy, f"{headline}, guardrails held")


def _finish(verdict: GateDecision, policy: GatePolicy, reason: str) -> GateDecision:
    if policy.auto_promote:
        verdict.outcome, verdict.reason = PROMOTE, reason
    else:
        verdict.reason = f"{reason}; AUTO_PROMOTE=false keeps it challenger until `mlpipe promote`"
    return verdict


def _guardrail(
    name: str, candidate: dict[str, Any], champion: dict[str, Any], policy: GatePolicy
) -> GuardrailCheck:
    new, old = candidate.get(name), champion.get(name)
    if new is None or old is None:
        return GuardrailCheck(name, new, old, None, True)  # undefined on this holdout
    worse_by = old - new if higher_is_better(name) else new - old
    return GuardrailCheck(name, new, old, worse_by, worse_by <= policy.guardrail_tolerance)


def _scalars(metrics: dict[str, Any]) -> dict[str, Any]:
    """The numbers of a metrics dict (drops the confusion matrix and class list)."""
    return {
        key: (float(value) if value is not None else None)
        for key, value in metrics.items()
        if value is None or (isinstance(value, int | float) and not isinstance(value, bool))
    }

"""The promotion gate on plain metric dicts."""

import pytest

from services.retraining_worker.gate import CHALLENGER, PROMOTE, GatePolicy, decide
from shared.config import load_settings

POLICY = GatePolicy(
    primary_metric="roc_auc",
    min_improvement=0.005,
    guardrail_tolerance=0.02,
    auto_promote=True,
    guardrails=("accuracy", "balanced_accuracy", "f1"),
)
CHAMPION = {
    "roc_auc": 0.70,
    "accuracy": 0.65,
    "balanced_accuracy": 0.64,
    "f1": 0.63,
    "log_loss": 0.62,
    "classes": ["No", "Yes"],
    "confusion_matrix": [[1, 2], [3, 4]],
}


def test_better_candidate_is_promoted_with_both_scores() -> None:
    candidate = CHAMPION | {"roc_auc": 0.80, "accuracy": 0.72}
    decision = decide(candidate, CHAMPION, POLICY, holdout_rows=300)
    assert decision.outcome == PROMOTE and decision.passed
    assert decision.improvement == pytest.approx(0.10)
    assert decision.candidate["roc_auc"] == 0.80 and decision.champion["roc_auc"] == 0.70
    assert "confusion_matrix" not in decision.candidate
    assert "0.8000 vs champion 0.7000" in decision.reason


def test_improvement_below_the_margin_stays_challenger() -> None:
    decision = decide(CHAMPION | {"roc_auc": 0.703}, CHAMPION, POLICY, holdout_rows=300)
    assert decision.outcome == CHALLENGER and not decision.passed
    assert "below the required +0.005" in decision.reason


def test_worse_candidate_stays_challenger() -> None:
    decision = decide(CHAMPION | {"roc_auc": 0.50}, CHAMPION, POLICY, holdout_rows=300)
    assert decision.outcome == CHALLENGER
    assert decision.improvement == pytest.approx(-0.20)


def test_a_broken_guardrail_blocks_promotion() -> None:
    candidate = CHAMPION | {"roc_auc": 0.75, "balanced_accuracy": 0.60}
    decision = decide(candidate, CHAMPION, POLICY, holdout_rows=300)
    assert decision.outcome == CHALLENGER and not decision.passed
    assert "balanced_accuracy worse by 0.0400" in decision.reason
    broken = [check.metric for check in decision.guardrails if not check.ok]
    assert broken == ["balanced_accuracy"]


def test_a_guardrail_within_tolerance_is_fine() -> None:
    candidate = CHAMPION | {"roc_auc": 0.75, "accuracy": 0.64}
    assert decide(candidate, CHAMPION, POLICY, holdout_rows=300).outcome == PROMOTE


def test_auto_promote_off_keeps_a_passing_candidate_as_challenger() -> None:
    policy = GatePolicy("roc_auc", 0.005, 0.02, auto_promote=False)
    decision = decide(CHAMPION | {"roc_auc": 0.9}, CHAMPION, policy, holdout_rows=300)
    assert decision.passed and decision.outcome == CHALLENGER
    assert "AUTO_PROMOTE=false" in decision.reason


def test_no_champion_promotes() -> None:
    decision = decide(CHAMPION, None, POLICY, holdout_rows=0)
    assert decision.outcome == PROMOTE and decision.champion is None


def test_too_small_a_holdout_cannot_judge() -> None:
    decision = decide(CHAMPION | {"roc_auc": 0.9}, CHAMPION, POLICY, holdout_rows=10)
    assert decision.outcome == CHALLENGER and "only 10 recent labelled rows" in decision.reason


def test_undefined_primary_metric_cannot_judge() -> None:
    decision = decide(CHAMPION | {"roc_auc": None}, CHAMPION, POLICY, holdout_rows=300)
    assert decision.outcome == CHALLENGER and "undefined" in decision.reason


def test_lower_is_better_primary_metric() -> None:
    policy = GatePolicy("log_loss", 0.01, 0.02, auto_promote=True, guardrails=())
    assert decide(CHAMPION | {"log_loss": 0.50}, CHAMPION, policy, holdout_rows=300).passed
    assert not decide(CHAMPION | {"log_loss": 0.70}, CHAMPION, policy, holdout_rows=300).passed


def test_policy_from_settings(tmp_path) -> None:
    settings = load_settings(pipeline_home=tmp_path, gate_min_improvement=0.01, auto_promote=False)
    binary = GatePolicy.from_settings(settings, "binary")
    assert binary.primary_metric == "roc_auc" and "roc_auc" not in binary.guardrails
    assert binary.min_improvement == 0.01 and binary.auto_promote is False
    multiclass = GatePolicy.from_settings(settings, "multiclass")
    assert multiclass.primary_metric == "f1" and "roc_auc" in multiclass.guardrails
    custom = GatePolicy.from_settings(
        load_settings(pipeline_home=tmp_path, primary_metric="f1_macro"), "binary"
    )
    assert custom.primary_metric == "f1"

"""The body of a training job: training set, candidate, gate, alias move, signal.

Exactly once in effect: before training, the MLflow runs tagged with the job id
are searched, and a version an earlier attempt registered is gated instead of
training another. The alias move is conditional on the champion still being
the version the candidate was compared with.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sklearn.pipeline import Pipeline
from sqlalchemy.engine import Engine

from ml.feature_store import FeatureStore, get_dataset
from ml.training import TrainerConfig, evaluate, train
from registry.registry import ModelRegistry
from registry.types import CHALLENGER, CHAMPION
from services.drift_monitor.events import DriftEventRepository
from services.drift_monitor.prediction_log import PredictionLog
from services.retraining_worker import gate
from services.retraining_worker.jobs import Job, utcnow
from services.retraining_worker.lineage import run_tags, runs_of_job
from services.retraining_worker.training_data import TrainingData, assemble
from shared.config import Settings

log = logging.getLogger(__name__)
Check = Callable[[], None]  # raises LeaseLost when the attempt is no longer ours


@dataclass
class Candidate:
    version: str
    run_id: str | None
    pipeline: Pipeline
    metrics: dict[str, Any]  # measured on the job's holdout at training time
    resumed: bool  # registered by an earlier attempt of the same job


@dataclass
class Outcome:
    version: str
    run_id: str | None
    decision: gate.GateDecision


class Retrainer:
    def __init__(self, settings: Settings, engine: Engine, registry: ModelRegistry) -> None:
        self.settings, self.engine, self.registry = settings, engine, registry
        self.store = FeatureStore(engine)
        self.log = PredictionLog(engine)
        self.events = DriftEventRepository(engine)

    def retrain(self, job: Job, still_ours: Check, champion_version: str | None) -> Outcome:
        dataset = get_dataset(self.engine, job.model_name)
        onset = None
        if job.trigger_event_id is not None:
            onset = self.events.drift_onset(job.trigger_event_id, self.settings.drift_persistence_m)
        data = assemble(
            self.settings, self.store, self.log, dataset_id=dataset.id,
            model_name=job.model_name, schema=dataset.schema, now=utcnow(), drift_onset=onset,
        )  # fmt: skip
        log.info("training set", extra={"job_id": job.id, **data.lineage()})
        candidate = self._earlier_candidate(job) or self._train(
            job, data, still_ours, champion_version
        )
        decision = self._gate(job, data, candidate, champion_version)
        still_ours()
        self._apply(job, candidate, decision, champion_version)
        return Outcome(candidate.version, candidate.run_id, decision)

    # ---- candidate -------------------------------------------------------------
    def _earlier_candidate(self, job: Job) -> Candidate | None:
        """A version registered by an earlier attempt of this job (crash after registering)."""
        client = self.registry.client
        for run in runs_of_job(client, job.model_name, job.id):
            versions = client.search_model_versions(f"run_id = '{run.info.run_id}'")
            if versions:
                version = str(max(int(v.version) for v in versions))
                loaded = self.registry.load(job.model_name, version)
                log.warning(
                    "resuming with an earlier attempt's version",
                    extra={"job_id": job.id, "version": version},
                )
                return Candidate(
                    version, run.info.run_id, loaded.pipeline, loaded.metrics, resumed=True
                )
            if run.info.status == "RUNNING":  # left behind by a killed attempt
                client.set_terminated(run.info.run_id, "KILLED")
        return None

    def _train(
        self, job: Job, data: TrainingData, still_ours: Check, champion_version: str | None
    ) -> Candidate:
        dataset = get_dataset(self.engine, job.model_name)
        holdout = data.holdout if data.holdout_rows else None
        result = train(
            data.frame, data.labels, dataset.schema, TrainerConfig.from_settings(self.settings),
            progress=lambda message: log.info(message, extra={"job_id": job.id}),
            times=data.times, holdout=holdout,
        )  # fmt: skip
        still_ours()  # do not register a version for an attempt that was replaced
        lineage = data.lineage()
        info = self.registry.log_candidate(
            job.model_name, result, job_id=job.id, data_window=lineage,
            tags=run_tags(job, champion_version=champion_version, data=lineage),
        )  # fmt: skip
        return Candidate(info.version, info.run_id, result.pipeline, result.metrics, resumed=False)

    # ---- gate and alias ----------------------------------------------------------
    def _gate(
        self, job: Job, data: TrainingData, candidate: Candidate, champion_version: str | None
    ) -> gate.GateDecision:
        schema = get_dataset(self.engine, job.model_name).schema
        policy = gate.GatePolicy.from_settings(self.settings, schema.task)
        frame, labels = data.holdout_frame()
        compared = champion_version if champion_version != candidate.version else None
        if data.holdout_rows:
            scores = evaluate(candidate.pipeline, frame, labels, schema)
            champion = None
            if compared is not None:
                champion_model = self.registry.load(job.model_name, compared)
                champion = evaluate(champion_model.pipeline, frame, labels, schema)
        else:  # no live labels yet: the trainer's own random holdout, nothing fair to compare
            scores = candidate.metrics
            champion = {} if compared is not None else None
        decision = gate.decide(scores, champion, policy, holdout_rows=data.holdout_rows)
        decision.champion_version, decision.candidate_version = compared, candidate.version
        if champion_version == candidate.version:  # an earlier attempt already promoted it
            decision.outcome, decision.passed = gate.PROMOTE, True
            decision.reason = "already champion: promoted by an earlier attempt of this job"
        return decision

    def _apply(
        self,
        job: Job,
        candidate: Candidate,
        decision: gate.GateDecision,
        champion_version: str | None,
    ) -> None:
        name, version = job.model_name, candidate.version
        actor = f"retraining-worker job {job.id}"
        reason = f"job {job.id} ({job.reason}): {decision.reason}"
        if decision.outcome == gate.PROMOTE and champion_version != version:
            moved = self.registry.promote(
                name, version, reason=reason, actor=actor, expected_current=champion_version
            )
            if moved is None:  # someone promoted or rolled back while this job ran
                now = self.registry.version_for_alias(name, CHAMPION)
                decision.outcome = gate.CHALLENGER
                decision.reason += (
                    f"; not promoted: the champion moved from v{champion_version} to v{now}"
                    " while the job ran"
                )
            else:
                log.info("promoted", extra={"job_id": job.id, "model": name, "version": version})
                return
        if decision.outcome == gate.CHALLENGER:
            reason = f"job {job.id} ({job.reason}): {decision.reason}"
            self.registry.set_alias(name, CHALLENGER, version, reason=reason, actor=actor)
            log.info(
                "kept as challenger",
                extra={"job_id": job.id, "version": version, "reason": decision.reason},
            )

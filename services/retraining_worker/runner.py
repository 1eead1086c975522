"""One attempt of a training job, from claim to a final state, under a lease.

claim (queued -> running, attempts + 1) -> heartbeat thread -> Retrainer ->
succeeded, with version, run and gate decision. Bad data (InputError: too few
rows, one class) fails the job for good; any other error hands it back to the
queue until its attempts are used up (then dead, with the error). A lost lease
means another attempt owns the job: change nothing.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable

from services.retraining_worker.heartbeat import Heartbeat, LeaseLost
from services.retraining_worker.job_queue import TrainingQueue
from services.retraining_worker.jobs import FAILED, QUEUED, SUCCEEDED, Job
from services.retraining_worker.retrain import Outcome, Retrainer
from shared.config import Settings
from shared.errors import InputError, NotFound

log = logging.getLogger(__name__)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class JobRunner:
    """Callable by the queue task: `runner(job_id)` runs one attempt if the job is queued."""

    def __init__(
        self,
        settings: Settings,
        queue: TrainingQueue,
        retrainer: Retrainer,
        *,
        worker: str | None = None,
        on_claimed: Callable[[Job], None] | None = None,
    ) -> None:
        self.settings, self.queue, self.retrainer = settings, queue, retrainer
        self.jobs = queue.jobs
        self.worker = worker or worker_name()
        self.on_claimed = on_claimed  # a test hook: e.g. kill the process mid-job
        self._lock = threading.Lock()
        self._running: dict[str, tuple[Job, Heartbeat]] = {}  # by job id (one per thread)

    def __call__(self, job_id: str) -> None:
        self.run(job_id)

    def run(self, job_id: str) -> Job | None:
        """Run one attempt; None when the job was not ours to run (a duplicate message)."""
        job = self.jobs.claim(job_id, self.worker)
        if job is None:
            log.info("job not queued any more: message skipped", extra={"job_id": job_id})
            return None
        log.info(
            "job started", extra={"job_id": job.id, "attempt": job.attempts, "reason": job.reason}
        )
        with Heartbeat(self.jobs, job, self.settings.job_heartbeat_seconds) as beat:
            with self._lock:
                self._running[job.id] = (job, beat)
            try:
                self._attempt(job, beat)
            finally:
                with self._lock:
                    self._running.pop(job.id, None)
        return self.jobs.get(job.id)

    def _attempt(self, job: Job, beat: Heartbeat) -> None:
        def still_ours() -> None:
            beat.check()
            if not self.jobs.heartbeat(job):  # fenced write: fails once replaced
                beat.lost = True
                beat.check()

        try:
            if self.on_claimed is not None:
                self.on_claimed(job)
            champion = self.retrainer.registry.version_for_alias(job.model_name, "champion")
            self.jobs.record(job, champion_version=champion)
            outcome = self.retrainer.retrain(job, still_ours, champion)
        except LeaseLost as exc:
            log.warning("attempt abandoned: %s", exc.message, extra={"job_id": job.id})
        except (InputError, NotFound) as exc:  # the data cannot make a model: retrying won't help
            self.jobs.finish(job, FAILED, error=exc.message)
            log.error("job failed: %s", exc.message, extra={"job_id": job.id})
        except Exception as exc:
            log.exception("attempt failed", extra={"job_id": job.id})
            self._hand_back(job, beat, f"attempt {job.attempts}: {type(exc).__name__}: {exc}")
        else:
            self._succeed(job, outcome)

    def _succeed(self, job: Job, outcome: Outcome) -> None:
        recorded = self.jobs.finish(
            job,
            SUCCEEDED,
            model_version=outcome.version,
            run_id=outcome.run_id,
            gate_decision=outcome.decision.to_dict(),
            error=None,
        )
        log.info(
            "job succeeded",
            extra={"job_id": job.id, "version": outcome.version, "outcome": outcome.decision.outcome,
                   "reason": outcome.decision.reason, "recorded": recorded},
        )  # fmt: skip

    def hand_back_running(self, job_id: str, why: str) -> None:
        """On shutdown: give a running attempt back to the queue (the next worker resumes it)."""
        with self._lock:
            running = self._running.get(job_id)
        if running is not None:
            self._hand_back(*running, why)

    def _hand_back(self, job: Job, beat: Heartbeat, why: str) -> None:
        beat.lost = True  # whatever still runs in this attempt must not write any more
        status = self.jobs.hand_back(job, why)
        if status == QUEUED:
            self.queue.send(job.id)
        log.warning("job handed back", extra={"job_id": job.id, "status": status, "error": why})

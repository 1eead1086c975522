"""A background thread that keeps a running attempt's lease alive while it trains."""

from __future__ import annotations

import logging
import threading
from types import TracebackType

from services.retraining_worker.jobs import Job, JobRepository
from shared.errors import PipelineError

log = logging.getLogger(__name__)


class LeaseLost(PipelineError):
    """The job was re-queued or taken over while this worker ran it: stop, change nothing."""


class Heartbeat:
    """Writes `heartbeat_at` every `interval` seconds; `check()` raises once the lease is lost.

    Training holds the GIL only in short stretches (NumPy and scikit-learn release
    it), so a thread keeps beating through a long fit.
    """

    def __init__(self, jobs: JobRepository, job: Job, interval: float) -> None:
        self.jobs, self.job, self.interval = jobs, job, interval
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, name=f"heartbeat-{job.id[:8]}", daemon=True
        )

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval + 5)

    def check(self, _message: str = "") -> None:
        """Raise LeaseLost if another attempt owns the job now (usable as a progress hook)."""
        if self.lost:
            raise LeaseLost(
                f"training job {self.job.id} attempt {self.job.attempts} lost its lease"
            )

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                still_ours = self.jobs.heartbeat(self.job)
            except Exception as exc:  # a database hiccup: the lease allows several misses
                log.warning("heartbeat failed", extra={"job_id": self.job.id, "error": str(exc)})
                continue
            if not still_ours:
                self.lost = True
                log.warning("lease lost", extra={"job_id": self.job.id})
                return

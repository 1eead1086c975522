"""Durable prediction logging with group commit.

A request hands its rows to the log and waits until they are committed: a 200
therefore means the rows survive a crash of this process. One writer thread
commits the rows of every waiting request in a single transaction (plus the
per-minute rollups), so concurrent requests share one commit instead of each
paying for its own. When other requests have announced rows that are on their
way, the writer waits up to `max_wait_s` for them; otherwise it commits at once,
so a lone request never waits for company.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from services.prediction_service.log_rows import PredictionRows, ShadowRows
from services.prediction_service.log_writer import insert_predictions, update_shadow
from services.prediction_service.minute_rollup import (
    prediction_totals,
    shadow_totals,
    upsert_minutes,
)
from shared.database import write_transaction
from shared.errors import ServiceUnavailable

log = logging.getLogger(__name__)


@dataclass
class _Job:
    rows: PredictionRows
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


class PredictionLog:
    def __init__(
        self,
        engine: Engine,
        *,
        max_wait_s: float,
        commit_timeout_s: float = 30.0,
        on_commit: Callable[[int], None] | None = None,
    ) -> None:
        self._engine = engine
        self._max_wait_s = max_wait_s
        self._commit_timeout_s = commit_timeout_s
        self._on_commit = on_commit or (lambda _rows: None)
        self._cond = threading.Condition()
        self._jobs: list[_Job] = []
        self._shadow: list[ShadowRows] = []
        self._announced = 0
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)

    def start(self) -> PredictionLog:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Commit what is queued, then end the writer thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def announce(self) -> None:
        """A request will `write` soon: lets a commit wait briefly to include it."""
        with self._cond:
            self._announced += 1

    def withdraw(self) -> None:
        """An announced request will not write after all (it failed)."""
        with self._cond:
            self._announced -= 1
            self._cond.notify_all()

    def write(self, rows: PredictionRows, *, announced: bool = True) -> None:
        """Queue `rows` and block until they are committed; ServiceUnavailable otherwise."""
        job = _Job(rows)
        with self._cond:
            if announced:
                self._announced -= 1
            if self._stopping:
                raise ServiceUnavailable("the service is shutting down; try again")
            self._jobs.append(job)
            self._cond.notify_all()
        if not job.done.wait(self._commit_timeout_s):
            raise ServiceUnavailable("the prediction log did not commit in time; try again")
        if job.error is not None:
            raise ServiceUnavailable(
                "the database is not reachable, so nothing was logged or answered; try again"
            ) from job.error

    def write_shadow(self, rows: ShadowRows) -> None:
        """Queue challenger output; written after the rows it belongs to, never waited for."""
        with self._cond:
            if not self._stopping:
                self._shadow.append(rows)
                self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not (self._jobs or self._shadow or self._stopping):
                    self._cond.wait()
                if self._stopping and not (self._jobs or self._shadow):
                    return
                self._wait_for_announced()
                jobs, self._jobs = self._jobs, []
                shadow, self._shadow = self._shadow, []
            if jobs:
                self._commit(jobs)
            if shadow:
                self._commit_shadow(shadow)

    def _wait_for_announced(self) -> None:
        """Hold the commit up to max_wait while announced requests are still coming."""
        if not self._jobs:
            return
        deadline = time.monotonic() + self._max_wait_s
        while self._announced > 0 and not self._stopping:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._cond.wait(remaining)

    def _commit(self, jobs: list[_Job]) -> None:
        batches = [job.rows for job in jobs]
        try:
            with write_transaction(self._engine) as conn:
                count = insert_predictions(conn, batches)
                upsert_minutes(conn, prediction_totals(batches))
        except Exception as exc:  # every waiting request must hear about it
            log.error("prediction log commit failed: %s", _first_line(exc))
            for job in jobs:
                job.error = exc
                job.done.set()
            return
        for job in jobs:
            job.done.set()
        self._on_commit(count)

    def _commit_shadow(self, batches: list[ShadowRows]) -> None:
        try:
            with write_transaction(self._engine) as conn:
                update_shadow(conn, batches)
                upsert_minutes(conn, shadow_totals(batches))
        except Exception as exc:  # shadow output is best effort; serving goes on
            log.warning("shadow predictions not written: %s", _first_line(exc))


def _first_line(exc: BaseException) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else repr(exc)

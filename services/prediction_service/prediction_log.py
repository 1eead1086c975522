"""Durable prediction logging with group commit.

A request hands its rows to the log and returns only once they are committed:
a 200 therefore means the rows survive a crash of this process. Concurrent
requests share one transaction (plus the per-minute rollups of their rows): a
GroupRunner makes the first waiting request commit for everyone queued, so a
lone request commits at once on its own thread, and under load one commit
carries many requests. When other requests have announced rows that are on
their way, the committer waits up to `max_wait_s` for them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.engine import Engine

from services.prediction_service.group_runner import GroupRunner, Slot
from services.prediction_service.log_rows import PredictionRows, ShadowRows
from services.prediction_service.log_writer import insert_predictions, update_shadow
from services.prediction_service.minute_rollup import (
    MinuteKey,
    prediction_totals,
    shadow_totals,
    upsert_minutes,
)
from shared.database import write_transaction
from shared.errors import ServiceUnavailable

log = logging.getLogger(__name__)


class _Job(Slot):
    def __init__(self, rows: PredictionRows) -> None:
        super().__init__(rows.size)
        self.rows = rows


class PredictionLog:
    def __init__(
        self,
        engine: Engine,
        *,
        max_wait_s: float,
        on_commit: Callable[[int], None] | None = None,
    ) -> None:
        self._engine = engine
        self._on_commit = on_commit or (lambda _rows: None)
        self._runner = GroupRunner(self._commit, max_wait_s=max_wait_s)
        self._minutes: set[MinuteKey] = set()  # rollup rows known to exist (a hint)

    def announce(self) -> None:
        """A request will `write` soon: lets a commit wait briefly to include it."""
        self._runner.announce()

    def withdraw(self) -> None:
        """An announced request will not write after all (it failed)."""
        self._runner.withdraw()

    def stop(self) -> None:
        """Refuse new rows; commits in progress finish."""
        self._runner.stop()

    def write(self, rows: PredictionRows, *, announced: bool = True) -> None:
        """Commit `rows` (with other requests' rows); ServiceUnavailable if that fails."""
        job = _Job(rows)
        self._runner.run(job, announced=announced)
        if job.error is not None:
            raise ServiceUnavailable(
                "the database is not reachable, so nothing was logged or answered; try again"
            ) from job.error

    def write_shadow(self, rows: ShadowRows) -> None:
        """Write challenger output next to committed rows (best effort, never raises)."""
        try:
            with write_transaction(self._engine) as conn:
                update_shadow(conn, [rows])
                upsert_minutes(conn, shadow_totals([rows]), self._minutes)
        except Exception as exc:  # shadow output is best effort; serving goes on
            log.warning("shadow predictions not written: %s", _first_line(exc))

    def _commit(self, jobs: list[_Job]) -> None:
        batches = [job.rows for job in jobs]
        try:
            with write_transaction(self._engine) as conn:
                count = insert_predictions(conn, batches)
                upsert_minutes(conn, prediction_totals(batches), self._minutes)
        except Exception as exc:  # every waiting request must hear about it
            log.error("prediction log commit failed: %s", _first_line(exc))
            for job in jobs:
                job.finish(exc)
            return
        for job in jobs:
            job.finish()
        self._on_commit(count)


def _first_line(exc: BaseException) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else repr(exc)

"""Shadow scoring: the challenger's opinion on live traffic, off the response path.

After the champion's rows are committed and answered, the same records go on a
bounded queue; one thread scores them with the challenger and the prediction log
writes the output next to the champion's (and counts agreement per minute). When
the queue is full the records are skipped and counted: shadow scoring may lag or
sample under load, but it never slows down or fails a request.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from services.prediction_service.log_rows import PredictionRows, ShadowRows
from services.prediction_service.prediction_log import PredictionLog
from services.prediction_service.record_batch import RecordBatch
from services.prediction_service.served_model import ServedModel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Work:
    challenger: ServedModel
    batch: RecordBatch
    answered: PredictionRows


class ShadowScorer:
    def __init__(
        self,
        log_writer: PredictionLog,
        *,
        max_queued_rows: int = 20_000,
        on_outcome: Callable[[str, int], None] | None = None,
    ) -> None:
        self._log = log_writer
        self._max_queued_rows = max_queued_rows
        self._on_outcome = on_outcome or (lambda _outcome, _n: None)
        self._cond = threading.Condition()
        self._queue: list[_Work] = []
        self._queued_rows = 0
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="shadow-scorer", daemon=True)

    def start(self) -> ShadowScorer:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def submit(
        self, challenger: ServedModel | None, batch: RecordBatch, answered: PredictionRows
    ) -> None:
        """Queue answered rows for the challenger (if any, and not the champion itself)."""
        if challenger is None or challenger.version == answered.model_version:
            return
        with self._cond:
            if self._stopping or self._queued_rows + batch.size > self._max_queued_rows:
                self._on_outcome("skipped", batch.size)
                return
            self._queue.append(_Work(challenger, batch, answered))
            self._queued_rows += batch.size
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not (self._queue or self._stopping):
                    self._cond.wait()
                if self._stopping and not self._queue:
                    return
                work, self._queue = self._queue, []
                self._queued_rows = 0
            for item in work:
                self._score(item)

    def _score(self, work: _Work) -> None:
        challenger, answered = work.challenger, work.answered
        try:
            probabilities = challenger.predict_columns(work.batch.columns, work.batch.size)
        except Exception:  # a broken challenger must not disturb serving
            log.exception("shadow scoring with version %s failed", challenger.version)
            self._on_outcome("failed", work.batch.size)
            return
        names = challenger.class_names
        labels = [names[i] for i in probabilities.argmax(axis=1)]
        agreed = sum(
            1 for mine, theirs in zip(labels, answered.labels, strict=True) if mine == theirs
        )
        self._log.write_shadow(
            ShadowRows(
                model_name=answered.model_name,
                champion_version=answered.model_version,
                created_at=answered.created_at,
                shadow_version=challenger.version,
                ids=answered.ids,
                labels=labels,
                probabilities=[
                    dict(zip(names, row, strict=True)) for row in probabilities.tolist()
                ],
                agreed=agreed,
            )
        )
        self._on_outcome("scored", work.batch.size)

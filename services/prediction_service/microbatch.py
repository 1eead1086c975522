"""Adaptive micro-batching: concurrent small requests share one predict_proba call.

scikit-learn pays a fixed cost per call (input checks, the ColumnTransformer,
a forest's per-tree loop) that dwarfs the per-row cost, so 16 one-row requests
scored together cost little more than one. A single scoring thread takes every
queued request at once; while it is busy, new ones queue up, which is what makes
batches grow with load. When requests are announced but not yet queued (still
being parsed), it waits up to `max_wait_s` for them; a lone request never waits.
Each request carries the model it started with, and a batch is scored per model,
so a reload in between never mixes versions.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from services.prediction_service.record_batch import RecordBatch
from services.prediction_service.served_model import ServedModel
from shared.errors import ServiceUnavailable

log = logging.getLogger(__name__)


@dataclass
class _Request:
    model: ServedModel
    batch: RecordBatch
    done: threading.Event = field(default_factory=threading.Event)
    probabilities: np.ndarray | None = None
    error: BaseException | None = None


class MicroBatcher:
    def __init__(
        self,
        *,
        max_rows: int,
        max_wait_s: float,
        timeout_s: float = 60.0,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self.max_rows = max_rows
        self._max_wait_s = max_wait_s
        self._timeout_s = timeout_s
        self._on_batch = on_batch or (lambda _rows: None)
        self._cond = threading.Condition()
        self._queue: list[_Request] = []
        self._announced = 0
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="micro-batcher", daemon=True)

    def start(self) -> MicroBatcher:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def announce(self) -> None:
        """A request is on its way (being parsed); a batch may wait briefly for it."""
        with self._cond:
            self._announced += 1

    def withdraw(self) -> None:
        with self._cond:
            self._announced -= 1
            self._cond.notify_all()

    def predict_proba(
        self, model: ServedModel, batch: RecordBatch, *, announced: bool = True
    ) -> np.ndarray:
        """Probabilities for `batch` under `model`, scored together with concurrent requests."""
        if batch.size > self.max_rows:
            if announced:
                self.withdraw()
            return model.predict_proba(model.frame(batch.columns))  # big enough on its own
        request = _Request(model, batch)
        with self._cond:
            if announced:
                self._announced -= 1
            if self._stopping:
                raise ServiceUnavailable("the service is shutting down; try again")
            self._queue.append(request)
            self._cond.notify_all()
        if not request.done.wait(self._timeout_s):
            raise ServiceUnavailable("the model did not answer in time; try again")
        if request.error is not None:
            raise request.error
        assert request.probabilities is not None
        return request.probabilities

    def _run(self) -> None:
        while True:
            with self._cond:
                while not (self._queue or self._stopping):
                    self._cond.wait()
                if self._stopping and not self._queue:
                    return
                self._wait_for_announced()
                taken = self._take()
            for group in _by_model(taken):
                self._score(group)

    def _wait_for_announced(self) -> None:
        deadline = time.monotonic() + self._max_wait_s
        while self._announced > 0 and self._queued_rows() < self.max_rows:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._stopping:
                return
            self._cond.wait(remaining)

    def _queued_rows(self) -> int:
        return sum(r.batch.size for r in self._queue)

    def _take(self) -> list[_Request]:
        """Queued requests up to max_rows rows (always at least one)."""
        taken: list[_Request] = []
        rows = 0
        while self._queue and (not taken or rows + self._queue[0].batch.size <= self.max_rows):
            request = self._queue.pop(0)
            taken.append(request)
            rows += request.batch.size
        return taken

    def _score(self, group: list[_Request]) -> None:
        model = group[0].model
        try:
            columns = {
                name: [v for r in group for v in r.batch.columns[name]]
                for name in group[0].batch.columns
            }
            probabilities = model.predict_proba(model.frame(columns))
        except Exception as exc:  # hand the failure to every waiting request
            log.exception("scoring a micro-batch of %d requests failed", len(group))
            for request in group:
                request.error = exc
                request.done.set()
            return
        self._on_batch(len(probabilities))
        start = 0
        for request in group:
            request.probabilities = probabilities[start : start + request.batch.size]
            start += request.batch.size
            request.done.set()


def _by_model(requests: list[_Request]) -> list[list[_Request]]:
    groups: dict[int, list[_Request]] = {}
    for request in requests:
        groups.setdefault(id(request.model), []).append(request)
    return list(groups.values())

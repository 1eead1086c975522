"""Adaptive micro-batching: concurrent small requests share one predict_proba call.

scikit-learn pays a fixed cost per call (input checks, the ColumnTransformer,
a forest's loop over its trees) that dwarfs the per-row cost, so 16 one-row
requests scored together cost little more than one. Requests are grouped by a
GroupRunner: whoever finds the model idle scores every waiting request at once,
so batches grow with load and a lone request is scored on its own thread
without waiting. Each request carries the model it started with, and a batch is
scored per model, so a reload in between never mixes versions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np

from services.prediction_service.group_runner import GroupRunner, Slot
from services.prediction_service.record_batch import RecordBatch
from services.prediction_service.served_model import ServedModel

log = logging.getLogger(__name__)


class _Request(Slot):
    def __init__(self, model: ServedModel, batch: RecordBatch) -> None:
        super().__init__(batch.size)
        self.model = model
        self.batch = batch
        self.probabilities: np.ndarray | None = None


class MicroBatcher:
    def __init__(
        self,
        *,
        max_rows: int,
        max_wait_s: float,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self.max_rows = max_rows
        self._on_batch = on_batch or (lambda _rows: None)
        self._runner = GroupRunner(self._score_all, max_wait_s=max_wait_s, max_size=max_rows)

    def announce(self) -> None:
        """A request is on its way (being validated); a batch may wait briefly for it."""
        self._runner.announce()

    def withdraw(self) -> None:
        self._runner.withdraw()

    def stop(self) -> None:
        self._runner.stop()

    def predict_proba(
        self, model: ServedModel, batch: RecordBatch, *, announced: bool = True
    ) -> np.ndarray:
        """Probabilities for `batch` under `model`, scored together with concurrent requests."""
        if batch.size > self.max_rows:
            if announced:
                self.withdraw()
            self._on_batch(batch.size)
            return model.predict_columns(batch.columns, batch.size)  # big enough on its own
        request = _Request(model, batch)
        self._runner.run(request, announced=announced)
        if request.error is not None:
            raise request.error
        assert request.probabilities is not None
        return request.probabilities

    def _score_all(self, requests: list[_Request]) -> None:
        groups: dict[int, list[_Request]] = {}
        for request in requests:
            groups.setdefault(id(request.model), []).append(request)
        for group in groups.values():
            self._score(group)

    def _score(self, group: list[_Request]) -> None:
        model = group[0].model
        try:
            columns = {
                name: [v for r in group for v in r.batch.columns[name]]
                for name in group[0].batch.columns
            }
            size = sum(r.batch.size for r in group)
            probabilities = model.predict_columns(columns, size)
        except Exception as exc:  # hand the failure to every request of the batch
            log.exception("scoring a micro-batch of %d requests failed", len(group))
            for request in group:
                request.finish(exc)
            return
        self._on_batch(len(probabilities))
        start = 0
        for request in group:
            request.probabilities = probabilities[start : start + request.batch.size]
            start += request.batch.size
            request.finish()

"""Storing a validated batch exactly once: the service logic behind /ingest/batch and /ingest/csv.

A batch is validated against the active data set's schema (column-wise), then
its idempotency row and its feature rows are written in one transaction. The
same batch_id with the same content answers the first result again; with other
content it is a 409. Events are published after the commit.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from sqlalchemy.exc import IntegrityError

from ml.feature_store.datasets import Dataset, active_dataset
from ml.feature_store.feature_store import FeatureStore
from ml.schema import DatasetSchema
from ml.validation import ValidationResult
from services.ingestion_api.batch_log import StoredBatch, find_batch, record_batch
from services.ingestion_api.ingest_metrics import IngestionMetrics
from services.ingestion_api.results import batch_result, strict_failure
from shared.config import Settings
from shared.database import write_transaction
from shared.errors import Conflict, ServiceUnavailable
from shared.events import EventLog, IngestionEvent

log = logging.getLogger(__name__)
NOT_HASHED = "-"  # body_hash of a batch sent without a batch_id
Validator = Callable[[DatasetSchema], ValidationResult]


@dataclass(frozen=True)
class Submission:
    """One request's batch: where it came from and how it must be treated."""

    source: str  # batch or csv
    content_hash: Callable[[], str]  # called only when there is a batch_id to compare under
    batch_id: str | None = None
    strict: bool = False

    @cached_property
    def body_hash(self) -> str:
        # Without a client batch_id nothing can ever be replayed, so skip the
        # hashing (about 10% of a 100,000-record request) and store a marker.
        return self.content_hash() if self.batch_id else NOT_HASHED


@dataclass(frozen=True)
class Outcome:
    result: dict[str, Any]
    created: bool  # False: an earlier identical request already stored this batch


class BatchIngestor:
    """Validates and stores batches; one per app, shared by its request threads."""

    def __init__(
        self,
        settings: Settings,
        feature_store: FeatureStore,
        events: EventLog,
        metrics: IngestionMetrics,
    ) -> None:
        self.settings, self.feature_store = settings, feature_store
        self.engine = feature_store.engine
        self.events, self.metrics = events, metrics

    def ingest(self, submission: Submission, validate: Validator) -> Outcome:
        dataset = active_dataset(self.engine, self.settings)
        if submission.batch_id:
            # Cheap early answer for a retry, before any validation work.
            earlier = find_batch(self.engine, submission.batch_id)
            if earlier is not None:
                return _replay(earlier, submission)
        validation = validate(dataset.schema)
        batch_id = submission.batch_id or str(uuid.uuid4())
        result = batch_result(batch_id, validation)
        if submission.strict and validation.errors:
            self.metrics.count_rows(submission.source, 0, result["accepted"] + result["rejected"])
            raise strict_failure(result)
        received_at = datetime.now(UTC)
        outcome = self._store(dataset, submission, validation, result, received_at)
        if outcome.created:
            log.info(
                "stored %s batch %s: %d accepted, %d rejected",
                submission.source,
                batch_id,
                result["accepted"],
                result["rejected"],
            )
            self.metrics.count_rows(submission.source, result["accepted"], result["rejected"])
            self.events.publish(
                IngestionEvent.for_batch(
                    result, dataset_id=dataset.id, source=submission.source, received_at=received_at
                )
            )
        return outcome

    def _store(
        self,
        dataset: Dataset,
        submission: Submission,
        validation: ValidationResult,
        result: dict[str, Any],
        received_at: datetime,
    ) -> Outcome:
        batch_id = result["batch_id"]
        try:
            with write_transaction(self.engine) as conn:
                earlier = find_batch(conn, batch_id)
                if earlier is not None:  # SQLite: a twin committed while we validated
                    return _replay(earlier, submission)
                # The batch row goes first: on PostgreSQL a racing twin blocks on its
                # primary key here, before either request writes any feature rows.
                record_batch(
                    conn,
                    batch_id=batch_id,
                    dataset_id=dataset.id,
                    body_hash=submission.body_hash,
                    source=submission.source,
                    result=result,
                    received_at=received_at,
                )
                self.feature_store.write_validated(
                    conn, dataset.id, validation, batch_id=batch_id, split="ingested"
                )
        except IntegrityError:
            # PostgreSQL: the twin committed first and our insert of its batch_id failed.
            earlier = find_batch(self.engine, batch_id)
            if earlier is None:  # not a twin: the data set went away under us
                raise ServiceUnavailable(
                    "the active data set changed during the request; try again"
                ) from None
            return _replay(earlier, submission)
        return Outcome(result, created=True)


def _replay(earlier: StoredBatch, submission: Submission) -> Outcome:
    if earlier.body_hash != submission.body_hash:
        raise Conflict(
            f"batch_id {earlier.batch_id!r} was already used for different content",
            {"batch_id": earlier.batch_id},
        )
    return Outcome(earlier.result, created=False)

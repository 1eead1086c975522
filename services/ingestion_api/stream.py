"""Stream ingestion: single records, committed in groups.

Each POST /ingest/stream hands its record to a GroupCommitter; the committer
validates the whole group column-wise, stores the valid records as one batch
(one `ingestion_batches` row with source "stream", one transaction) and answers
each request with its row id or its own validation errors.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from ml.feature_store.datasets import active_dataset
from ml.feature_store.feature_store import FeatureStore
from ml.validation import ValidationResult, validate_records
from services.ingestion_api.batch_log import record_batch
from services.ingestion_api.group_commit import GroupCommitter
from services.ingestion_api.ingest_metrics import IngestionMetrics
from services.ingestion_api.ingestion import NOT_HASHED
from services.ingestion_api.results import batch_result
from shared.config import Settings
from shared.database import write_transaction
from shared.errors import PipelineError, ValidationFailed
from shared.events import EventLog, IngestionEvent

SOURCE = "stream"


class StreamIngestor:
    """Owns the committer thread of this process; `submit` is called by request threads."""

    def __init__(
        self,
        settings: Settings,
        feature_store: FeatureStore,
        events: EventLog,
        metrics: IngestionMetrics,
        *,
        max_wait_s: float = 0.002,
        max_group: int = 1_000,
    ) -> None:
        self.settings, self.feature_store = settings, feature_store
        self.events, self.metrics = events, metrics
        self.committer: GroupCommitter[Any] = GroupCommitter(
            self.write_group, max_wait_s=max_wait_s, max_items=max_group, name="stream-commit"
        )

    def submit(self, record: Any) -> str:
        """Return the stored row's id once committed; raise ValidationFailed for a bad record."""
        outcome = self.committer.submit(record)
        if isinstance(outcome, PipelineError):
            raise outcome
        return str(outcome)

    def write_group(self, records: Sequence[Any]) -> list[str | PipelineError]:
        dataset = active_dataset(self.feature_store.engine, self.settings)
        validation = validate_records(dataset.schema, list(records))
        self.metrics.count_rows(SOURCE, 0, len(validation.rejected))
        outcomes = _rejections(validation, len(records))
        if validation.accepted == 0:
            return [outcome for outcome in outcomes if outcome is not None]  # all rejected
        batch_id = f"stream-{uuid.uuid4()}"
        result = batch_result(batch_id, validation)
        received_at = datetime.now(UTC)
        with write_transaction(self.feature_store.engine) as conn:
            record_batch(
                conn,
                batch_id=batch_id,
                dataset_id=dataset.id,
                body_hash=NOT_HASHED,  # stream records are never replayed by id
                source=SOURCE,
                result=result,
                received_at=received_at,
            )
            self.feature_store.write_validated(
                conn, dataset.id, validation, batch_id=batch_id, split=SOURCE
            )
        self.metrics.count_rows(SOURCE, validation.accepted, 0)
        self.metrics.stream_group_size.observe(validation.accepted)
        self.events.publish(
            IngestionEvent.for_batch(
                result, dataset_id=dataset.id, source=SOURCE, received_at=received_at
            )
        )
        # Accepted records are numbered in request order within the stored batch.
        ids = iter(f"{batch_id}:{i}" for i in range(validation.accepted))
        return [next(ids) if outcome is None else outcome for outcome in outcomes]


def _rejections(validation: ValidationResult, count: int) -> list[PipelineError | None]:
    """Per record: its ValidationFailed, or None when it was accepted."""
    by_record: dict[int, list[dict[str, Any]]] = {}
    for error in validation.errors:
        # index 0: each request sent one record, whatever its place in the group
        by_record.setdefault(error["index"], []).append({**error, "index": 0})
    outcomes: list[PipelineError | None] = [None] * count
    for index in validation.rejected:
        outcomes[index] = ValidationFailed(
            "the record is invalid", {"errors": by_record.get(index, [])}
        )
    return outcomes

"""Ingestion events: "a batch of feature rows was stored" for whoever watches the data.

With REDIS_URL set, events go to a capped Redis stream
`{REDIS_PREFIX}:events:ingestion`. Without it, the `ingestion_batches` table is
itself the event log (every stored batch has a row there), so publishing is a
no-op and readers query the table. Publishing never fails an ingest: a Redis
error is logged, counted and swallowed, because the rows are already committed.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Engine

from shared import metrics
from shared.config import Settings
from shared.database import ingestion_batches
from shared.redis_client import make_redis, redis_key

log = logging.getLogger(__name__)
STREAM_MAX_LEN = 100_000  # approximate cap: old events are trimmed, the table keeps history
# A table reader skips rows younger than this: a batch's received_at is set before
# its (possibly long) transaction commits, so a newer row can become visible late.
TABLE_SETTLE_SECONDS = 30.0


@dataclass(frozen=True)
class IngestionEvent:
    batch_id: str
    dataset_id: int
    source: str  # batch, csv, stream
    accepted: int
    rejected: int
    labelled: int
    received_at: str  # ISO 8601, UTC

    @classmethod
    def for_batch(
        cls, result: dict[str, Any], *, dataset_id: int, source: str, received_at: datetime
    ) -> IngestionEvent:
        """The event of a stored batch, from its answer body (batch_id and counts)."""
        return cls(
            batch_id=result["batch_id"],
            dataset_id=dataset_id,
            source=source,
            accepted=int(result["accepted"]),
            rejected=int(result["rejected"]),
            labelled=int(result["labelled"]),
            received_at=received_at.isoformat(),
        )


class EventLog(Protocol):
    def publish(self, event: IngestionEvent) -> bool: ...

    def read_after(
        self, cursor: str | None, limit: int = 100
    ) -> list[tuple[str, IngestionEvent]]: ...


def stream_key(settings: Settings) -> str:
    return redis_key(settings, "events", "ingestion")


def make_event_log(settings: Settings, engine: Engine) -> EventLog:
    """The Redis stream when REDIS_URL is set, else the ingestion_batches table."""
    if settings.redis_url:
        # Shorter timeouts than the default: a Redis that is down must not stall ingests.
        client = make_redis(settings, socket_connect_timeout=0.5, socket_timeout=1.0)
        return RedisEventLog(client, stream_key(settings))
    return TableEventLog(engine)


def _publish_failures() -> Any:
    return metrics.counter(
        "ingestion_event_publish_failures_total",
        "Ingestion events that could not be published (the ingest itself succeeded)",
    )


class RedisEventLog:
    """A capped Redis stream; each entry holds the event as one JSON field."""

    def __init__(self, client: Any, key: str, *, max_len: int = STREAM_MAX_LEN) -> None:
        self.client, self.key, self.max_len = client, key, max_len

    def publish(self, event: IngestionEvent) -> bool:
        try:
            self.client.xadd(
                self.key,
                {"event": json.dumps(asdict(event))},
                maxlen=self.max_len,
                approximate=True,
            )
        except Exception as exc:  # any Redis failure: the rows are stored, say so and go on
            _publish_failures().inc()
            log.warning("ingestion event for batch %s not published: %s", event.batch_id, exc)
            return False
        return True

    def read_after(self, cursor: str | None, limit: int = 100) -> list[tuple[str, IngestionEvent]]:
        """Events after the stream id `cursor` (None: from the oldest kept)."""
        start = f"({cursor}" if cursor else "-"
        entries: list[Any] = self.client.xrange(self.key, min=start, max="+", count=limit)  # type: ignore[assignment]
        return [
            (entry_id.decode(), IngestionEvent(**json.loads(fields[b"event"])))
            for entry_id, fields in entries
        ]


class TableEventLog:
    """The ingestion_batches table read as an event log (no Redis configured)."""

    def __init__(self, engine: Engine, *, settle_seconds: float = TABLE_SETTLE_SECONDS) -> None:
        self.engine, self.settle_seconds = engine, settle_seconds

    def publish(self, event: IngestionEvent) -> bool:
        return True  # the batch row written in the ingest transaction is the event

    def read_after(self, cursor: str | None, limit: int = 100) -> list[tuple[str, IngestionEvent]]:
        """Batches after `cursor` ("<received_at ISO>|<batch_id>"), oldest first."""
        table = ingestion_batches.c
        settled = datetime.now(UTC) - timedelta(seconds=self.settle_seconds)
        query = select(ingestion_batches).where(table.received_at <= settled)
        if cursor:
            at_text, _, after_id = cursor.partition("|")
            at = datetime.fromisoformat(at_text)
            query = query.where(
                or_(
                    table.received_at > at, and_(table.received_at == at, table.batch_id > after_id)
                )
            )
        query = query.order_by(table.received_at, table.batch_id).limit(limit)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [(_table_cursor(row), _event_from_row(row)) for row in rows]


def _as_utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything written here is UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _table_cursor(row: Any) -> str:
    return f"{_as_utc(row['received_at']).isoformat()}|{row['batch_id']}"


def _event_from_row(row: Any) -> IngestionEvent:
    return IngestionEvent(
        batch_id=row["batch_id"],
        dataset_id=int(row["dataset_id"]),
        source=row["source"],
        accepted=int(row["accepted"]),
        rejected=int(row["rejected"]),
        labelled=int(row["labelled"]),
        received_at=_as_utc(row["received_at"]).isoformat(),
    )

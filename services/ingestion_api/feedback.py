"""Ground-truth labels for logged predictions (POST /feedback).

Labels are matched to `predictions` rows by id and checked against the classes
of the model that made the prediction (its data set's schema). Unknown ids and
labels outside the classes are reported per item; the matched ones are written
in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection, Engine

from ml.feature_store.datasets import active_dataset, find_dataset
from ml.schema import category_text
from services.ingestion_api.models import FeedbackItem
from shared.config import Settings
from shared.database import predictions, write_transaction

LOOKUP_CHUNK = 500  # ids per IN (...) query, well under SQLite's variable limit


def apply_feedback(
    engine: Engine, settings: Settings, items: Sequence[FeedbackItem]
) -> dict[str, Any]:
    """Attach labels; return {matched, unknown, rejected} as the API answers it."""
    now = datetime.now(UTC)
    unknown: list[str] = []
    rejected: list[dict[str, Any]] = []
    updates: dict[str, str] = {}  # prediction id -> label; a repeated id: the last one wins
    with write_transaction(engine) as conn:
        models = _model_names(conn, {item.prediction_id for item in items})
        classes = _ClassLookup(engine, settings, conn)
        for index, item in enumerate(items):
            model_name = models.get(item.prediction_id)
            if model_name is None:
                unknown.append(item.prediction_id)
                continue
            label = category_text(item.label)
            allowed = classes.of(model_name)
            if label not in allowed:
                rejected.append(
                    {
                        "index": index,
                        "prediction_id": item.prediction_id,
                        "message": f"unknown class; expected one of {', '.join(allowed)}",
                    }
                )
                continue
            updates[item.prediction_id] = label
        if updates:
            conn.execute(
                update(predictions)
                .where(predictions.c.id == bindparam("prediction_id"))
                .values(label=bindparam("new_label"), label_at=now),
                [{"prediction_id": pid, "new_label": label} for pid, label in updates.items()],
            )
    matched = len(items) - len(unknown) - len(rejected)
    return {"matched": matched, "unknown": unknown, "rejected": rejected}


def _model_names(conn: Connection, ids: Iterable[str]) -> dict[str, str]:
    wanted = sorted(ids)
    found: dict[str, str] = {}
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        chunk = wanted[start : start + LOOKUP_CHUNK]
        query = select(predictions.c.id, predictions.c.model_name).where(
            predictions.c.id.in_(chunk)
        )
        found.update({pid: name for pid, name in conn.execute(query)})
    return found


class _ClassLookup:
    """Classes per model name: its data set's schema, else the active data set's."""

    def __init__(self, engine: Engine, settings: Settings, conn: Connection) -> None:
        self.engine, self.settings, self.conn = engine, settings, conn
        self.cache: dict[str, tuple[str, ...]] = {}

    def of(self, model_name: str) -> tuple[str, ...]:
        if model_name not in self.cache:
            dataset = find_dataset(self.conn, model_name)
            if dataset is None:  # a model logged under another name: use what is served now
                dataset = active_dataset(self.engine, self.settings)
            self.cache[model_name] = dataset.schema.classes
        return self.cache[model_name]

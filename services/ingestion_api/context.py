"""The composition root of one Ingestion API process: everything a request needs,
built once per app from the settings and handed to the routes explicitly."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from ml.feature_store.feature_store import FeatureStore
from services.ingestion_api.ingest_metrics import IngestionMetrics, ingestion_metrics
from services.ingestion_api.ingestion import BatchIngestor
from services.ingestion_api.stream import StreamIngestor
from shared.config import Settings
from shared.database import make_engine
from shared.events import EventLog, make_event_log


@dataclass(frozen=True)
class IngestionContext:
    settings: Settings
    engine: Engine
    feature_store: FeatureStore
    events: EventLog
    metrics: IngestionMetrics
    batches: BatchIngestor
    stream: StreamIngestor


def build_context(settings: Settings) -> IngestionContext:
    """No connection is opened here: the engine connects on first use."""
    engine = make_engine(settings)
    feature_store = FeatureStore(engine)
    events = make_event_log(settings, engine)
    metrics = ingestion_metrics()
    return IngestionContext(
        settings=settings,
        engine=engine,
        feature_store=feature_store,
        events=events,
        metrics=metrics,
        batches=BatchIngestor(settings, feature_store, events, metrics),
        stream=StreamIngestor(settings, feature_store, events, metrics),
    )

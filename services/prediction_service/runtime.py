"""The prediction service's moving parts, built and started together (one per process).

Threads: the model watcher (loads and swaps models), the shadow scorer, on SQLite
the WAL checkpointer and, with REDIS_URL, the model-changed subscriber; scoring and logging run on the request
threads themselves (see group_runner). Each gunicorn worker builds its own after
the fork.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from services.prediction_service.microbatch import MicroBatcher
from services.prediction_service.model_holder import ModelHolder
from services.prediction_service.model_source import ModelSource, RegistryModelSource
from services.prediction_service.model_watcher import ModelWatcher
from services.prediction_service.prediction_log import PredictionLog
from services.prediction_service.scoring import Scorer
from services.prediction_service.served_model import ServedModel
from services.prediction_service.service_metrics import ServiceMetrics, service_metrics
from services.prediction_service.shadow import ShadowScorer
from services.prediction_service.wal_checkpointer import WalCheckpointer
from shared.config import Settings
from shared.signals import ModelChangedSubscriber, subscribe_model_changed

log = logging.getLogger(__name__)


@dataclass
class PredictionRuntime:
    settings: Settings
    engine: Engine
    metrics: ServiceMetrics
    holder: ModelHolder
    watcher: ModelWatcher
    batcher: MicroBatcher
    prediction_log: PredictionLog
    shadow: ShadowScorer
    scorer: Scorer
    checkpointer: WalCheckpointer | None = None
    subscriber: ModelChangedSubscriber | None = None

    @classmethod
    def build(
        cls,
        settings: Settings,
        engine: Engine,
        source_factory: Callable[[], ModelSource] | None = None,
    ) -> PredictionRuntime:
        checkpointer = WalCheckpointer.attach(engine)  # before the first connection
        metrics = service_metrics()

        def swapped(alias: str, old: ServedModel | None, new: ServedModel | None) -> None:
            if old is not None:
                metrics.serving(alias, old.name, old.version, False)
            if new is not None:
                metrics.serving(alias, new.name, new.version, True)

        holder = ModelHolder(on_swap=swapped)
        watcher = ModelWatcher(
            source_factory or (lambda: RegistryModelSource(settings, engine)),
            holder,
            poll_seconds=settings.reload_poll_seconds,
            on_reload=lambda alias, ok: (
                (metrics.reloads if ok else metrics.reload_failures).labels(alias).inc()
            ),
        )
        batcher = MicroBatcher(
            max_rows=settings.microbatch_max_rows,
            max_wait_s=settings.microbatch_max_wait_ms / 1000,
            on_batch=metrics.microbatch_rows.observe,
        )
        prediction_log = PredictionLog(
            engine,
            max_wait_s=settings.log_commit_max_wait_ms / 1000,
            on_commit=metrics.commit_rows.observe,
        )
        shadow = ShadowScorer(
            prediction_log, on_outcome=lambda outcome, n: metrics.shadow.labels(outcome).inc(n)
        )
        scorer = Scorer(holder, batcher, prediction_log, shadow, metrics)
        return cls(
            settings,
            engine,
            metrics,
            holder,
            watcher,
            batcher,
            prediction_log,
            shadow,
            scorer,
            checkpointer,
        )

    def start(self) -> PredictionRuntime:
        self.shadow.start()
        self.watcher.start()
        if self.checkpointer is not None:
            self.checkpointer.start()
        self.subscriber = subscribe_model_changed(self.settings, self.watcher.on_signal)
        return self

    def stop(self) -> None:
        """Stop taking work, let running groups finish (rows get committed), end the threads."""
        if self.subscriber is not None:
            self.subscriber.stop()
        self.watcher.stop()
        self.batcher.stop()
        self.shadow.stop()
        self.prediction_log.stop()
        if self.checkpointer is not None:
            self.checkpointer.stop()
        self.engine.dispose()

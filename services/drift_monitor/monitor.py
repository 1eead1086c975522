"""The drift monitor: every interval, judge the champion's live windows and decide.

Each cycle (`run_once`): recover expired job leases, read the data and label
windows, compare them with the champion's reference profile, write a
drift_events row, apply the triggers and brakes, and enqueue a job if needed.

`python -m services.drift_monitor.monitor` runs the loop in the foreground
(services/drift_monitor/loop.py): SIGTERM or SIGINT finishes the current cycle
and exits 0; a second signal exits at once. `--max-cycles N` (and
`Monitor.run(max_cycles=...)`) bound the loop for tests.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from ml.evaluation import DriftDetector, DriftReport
from ml.feature_store import FeatureStore
from services.drift_monitor import events as actions
from services.drift_monitor.champion import Champion, ChampionTracker
from services.drift_monitor.events import DriftEventRepository
from services.drift_monitor.loop import ServiceLoop
from services.drift_monitor.prediction_log import PredictionLog
from services.drift_monitor.triggers import (
    DATA_DRIFT,
    MAX_AGE,
    Brakes,
    Decision,
    brake_for_job,
    decide,
    is_too_old,
    trigger_of,
)
from services.drift_monitor.windows import Cursor, WindowCollector, Windows, compare
from services.retraining_worker.job_queue import Recovery, TrainingQueue
from services.retraining_worker.jobs import JobAlreadyActive, utcnow
from shared.config import Settings

log = logging.getLogger(__name__)
# Rows committed in the last moment may still be invisible to this read (group
# commits in the services); windows end this long before "now".
SETTLE_SECONDS = 1.0


@dataclass
class Cycle:
    """What one `run_once` saw and did."""

    at: datetime
    recovery: Recovery
    model: str | None = None
    version: str | None = None
    event_id: int | None = None
    action: str | None = None
    reason: str = ""
    job_id: str | None = None


class Monitor:
    """rq-style loop: `run_once()` is one cycle, `run()` repeats it until told to stop."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        registry: Any,
        *,
        queue: TrainingQueue | None = None,
        detector: DriftDetector | None = None,
        clock: Callable[[], datetime] = utcnow,
        settle_seconds: float = SETTLE_SECONDS,
    ) -> None:
        self.settings, self.engine, self.clock = settings, engine, clock
        self.settle = timedelta(seconds=settle_seconds)
        self.queue = queue if queue is not None else TrainingQueue(settings, engine)
        self.events = DriftEventRepository(engine)
        self.champions = ChampionTracker(settings, engine, registry)
        self.collector = WindowCollector(settings, PredictionLog(engine), FeatureStore(engine))
        self.detector = detector or DriftDetector()
        self.brakes = Brakes(
            settings.drift_persistence_k,
            settings.drift_persistence_m,
            settings.retrain_cooldown_seconds,
        )
        self._cursors: dict[tuple[str, str], Cursor] = {}
        self._loop = ServiceLoop("drift monitor", self.run_once, settings.monitor_interval_seconds)

    # ---- one cycle -----------------------------------------------------------
    def run_once(self) -> Cycle:
        now = self.clock()
        cycle = Cycle(at=now, recovery=self.queue.recover(now))
        champion = self.champions.current()
        if champion is None:
            cycle.reason = "no active model with a champion"
            return cycle
        cycle.model, cycle.version = champion.name, champion.version
        cursor = self._cursor(champion)
        windows = self.collector.collect(
            champion.name,
            champion.version,
            champion.dataset.id,
            champion.model.schema,
            champion.model.pipeline,
            cursor,
            until=now - self.settle,
        )
        if windows.empty:
            cycle.reason = "waiting for enough new predictions or labels"
            self._retry_after_cooldown(champion, cycle)
        else:
            self._judge(champion, windows, cycle)
            _advance(cursor, windows)
        if cycle.job_id is None:
            self._check_age(champion, cycle)
        return cycle

    def _judge(self, champion: Champion, windows: Windows, cycle: Cycle) -> None:
        report, n_labelled = compare(self.detector, champion.profile, windows)
        history = self.events.recent_verdicts(
            champion.name, champion.version, self.brakes.persistence_m - 1
        )
        decision = decide(report, history, self.brakes, **self._job_state(champion.name))
        first = windows.data if windows.data is not None else windows.labels
        cycle.event_id = self.events.insert(
            model_name=champion.name,
            model_version=champion.version,
            report=report,
            window_start=first.start if first is not None else None,
            window_end=windows.until,
            n_labelled=n_labelled,
            action=decision.action,
            now=cycle.at,
        )
        self._apply(decision, champion.name, cycle)
        log.info(
            "window judged",
            extra={
                "model": champion.name,
                "version": champion.version,
                "dataset_drift": report.dataset_drift,
                "action": cycle.action,
                "job_id": cycle.job_id,
                "reason": cycle.reason,
            },
        )

    def _retry_after_cooldown(self, champion: Champion, cycle: Cycle) -> None:
        """Act on the newest window if the cooldown held it back: the drift was seen and
        has not been answered, so it must not wait for more traffic once the cooldown ends."""
        last = self.events.latest(champion.name, champion.version, limit=1)
        if not last or last[0].action != actions.COOLDOWN:
            return
        trigger = trigger_of(DriftReport.from_dict(last[0].report)) or DATA_DRIFT
        decision = brake_for_job(trigger, self.brakes, **self._job_state(champion.name))
        if decision.job_reason is not None:
            cycle.event_id = last[0].id
            self._apply(decision, champion.name, cycle)

    def _check_age(self, champion: Champion, cycle: Cycle) -> None:
        registered = champion.registered_at
        age = (cycle.at - registered).total_seconds() if registered else None
        if not is_too_old(age, self.settings.max_model_age_hours):
            return
        decision = brake_for_job(MAX_AGE, self.brakes, **self._job_state(champion.name))
        if decision.job_reason is not None:
            self._apply(decision, champion.name, cycle)

    def _job_state(self, model_name: str) -> dict[str, Any]:
        active = self.queue.jobs.active_for(model_name)
        last = self.queue.jobs.last_finished(model_name)
        since = None
        if last is not None and last.finished_at is not None:
            since = (self.clock() - last.finished_at).total_seconds()
        return {"active_job_id": active.id if active else None, "seconds_since_last_job": since}

    def _apply(self, decision: Decision, model_name: str, cycle: Cycle) -> None:
        cycle.action, cycle.reason = decision.action, decision.reason
        if decision.job_reason is None:
            return
        try:
            job = self.queue.submit(model_name, decision.job_reason, cycle.event_id)
        except JobAlreadyActive as exc:  # another monitor or `mlpipe train` won the race
            cycle.action, cycle.reason = actions.JOB_PENDING, exc.message
        else:
            cycle.job_id = job.id
        if cycle.event_id is not None:
            self.events.set_action(cycle.event_id, cycle.action, cycle.job_id)

    def _cursor(self, champion: Champion) -> Cursor:
        """Resume where the last event of this version ended (after a restart, too)."""
        key = (champion.name, champion.version)
        if key not in self._cursors:
            last = self.events.latest(champion.name, champion.version, limit=1)
            if last:
                self._cursors[key] = Cursor(last[0].window_end, last[0].window_end)
            else:  # a new champion: its own predictions, labels from when it was registered
                self._cursors[key] = Cursor(None, champion.registered_at)
        return self._cursors[key]

    # ---- the loop --------------------------------------------------------------
    def run(self, *, max_cycles: int | None = None) -> int:
        """Cycle every MONITOR_INTERVAL_SECONDS until SIGTERM/SIGINT or `max_cycles`."""
        return self._loop.run(max_cycles=max_cycles)

    def request_stop(self) -> None:
        self._loop.request_stop()


def _advance(cursor: Cursor, windows: Windows) -> None:
    if windows.data is not None:
        cursor.data_since = windows.until
    if windows.labels is not None:
        cursor.label_since = windows.until


def build_monitor(settings: Settings) -> Monitor:
    """Composition root of the monitor process."""
    from registry import ModelRegistry
    from shared.database import make_engine

    engine = make_engine(settings)
    return Monitor(settings, engine, ModelRegistry(settings, engine))


def main(argv: list[str] | None = None) -> int:
    from shared.config import load_settings
    from shared.logger import configure_logging

    parser = argparse.ArgumentParser(prog="python -m services.drift_monitor.monitor")
    parser.add_argument("--max-cycles", type=int, default=None, help="stop after N cycles")
    args = parser.parse_args(argv)
    settings = load_settings()
    settings.ensure_dirs()
    configure_logging(settings, "drift_monitor")
    build_monitor(settings).run(max_cycles=args.max_cycles)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The retraining worker process: a huey consumer whose one task runs training jobs.

`python -m services.retraining_worker.worker` runs in the foreground.

Signals (huey's consumer, configured with graceful_signal="TERM"):
* SIGTERM - warm stop: take no new job, let the running one finish; after
  `--shutdown-timeout` seconds (default 60) hand it back to the queue and exit.
  A second SIGTERM hands it back at once. This is what stop_all_services.sh sends.
* SIGINT - cold stop: hand the running job back at once and exit.
* SIGKILL - nothing runs: the job's heartbeat stops, and once its lease
  (JOB_LEASE_SECONDS) expires the drift monitor re-queues it for another worker.
A handed-back job keeps the model version its attempt may already have
registered: the next attempt finds it by job id and gates it instead of
training again.
"""

from __future__ import annotations

import argparse
import logging

from huey import signals as huey_signals
from huey.api import Huey, Task
from huey.consumer import Consumer

from services.retraining_worker.job_queue import TrainingQueue, register_training_task
from services.retraining_worker.runner import JobRunner
from shared.config import Settings
from shared.queue import make_huey, queue_backend

log = logging.getLogger(__name__)
DEFAULT_SHUTDOWN_TIMEOUT = 60.0
# Polling interval of the SQLite queue when idle (Redis blocks instead of polling).
MAX_POLL_SECONDS = 1.0


def build_worker(settings: Settings) -> tuple[Huey, JobRunner]:
    """Composition root: engine, registry, queue and the runner bound to the task."""
    from registry.registry import ModelRegistry
    from services.retraining_worker.retrain import Retrainer
    from shared.database import make_engine

    engine = make_engine(settings)
    huey = make_huey(settings)
    runner: JobRunner | None = None

    def execute(job_id: str) -> None:
        assert runner is not None
        runner.run(job_id)

    queue = TrainingQueue(settings, engine, huey, register_training_task(huey, execute))
    runner = JobRunner(
        settings, queue, Retrainer(settings, engine, ModelRegistry(settings, engine))
    )

    @huey.signal(huey_signals.SIGNAL_INTERRUPTED)
    def hand_back(_signal: str, task: Task) -> None:
        if task.args:
            runner.hand_back_running(str(task.args[0]), "worker stopped before the job finished")

    return huey, runner


def make_consumer(huey: Huey, *, workers: int = 1, shutdown_timeout: float | None) -> Consumer:
    """huey's consumer with SIGTERM as the graceful signal (huey's default is SIGINT)."""
    return huey.create_consumer(
        workers=workers,
        worker_type="thread",
        periodic=False,
        max_delay=MAX_POLL_SECONDS,
        graceful_signal="TERM",
        shutdown_timeout=shutdown_timeout,
    )


def main(argv: list[str] | None = None) -> int:
    from shared.config import load_settings
    from shared.logger import configure_logging

    parser = argparse.ArgumentParser(prog="python -m services.retraining_worker.worker")
    parser.add_argument("--workers", type=int, default=1, help="jobs run at once (threads)")
    parser.add_argument(
        "--shutdown-timeout",
        type=float,
        default=DEFAULT_SHUTDOWN_TIMEOUT,
        help="seconds SIGTERM waits for a running job before handing it back",
    )
    args = parser.parse_args(argv)
    settings = load_settings()
    settings.ensure_dirs()
    configure_logging(settings, "retraining_worker")
    huey, runner = build_worker(settings)
    log.info(
        "retraining worker started",
        extra={"worker": runner.worker, "queue": queue_backend(settings)},
    )
    make_consumer(huey, workers=args.workers, shutdown_timeout=args.shutdown_timeout).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

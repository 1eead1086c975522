"""An rq-style service loop: one `step` per interval until a stop flag, signals, or a cycle limit.

SIGTERM or SIGINT sets the stop flag: the current step finishes, the loop exits
and the previous signal handlers come back. A second signal exits at once. A
step that raises is logged and the loop goes on (a database or registry outage
must not end a long-running service); `max_cycles` bounds a run for tests.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

log = logging.getLogger(__name__)


class ServiceLoop:
    def __init__(self, name: str, step: Callable[[], object], interval_seconds: float) -> None:
        self.name, self.step, self.interval = name, step, interval_seconds
        self._stop = threading.Event()

    def run(self, *, max_cycles: int | None = None) -> int:
        """Repeat `step` until stopped (or `max_cycles`); return the number of cycles run."""
        previous = self._install_signal_handlers()
        cycles = 0
        log.info("%s started", self.name, extra={"interval": self.interval})
        try:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    self.step()
                except Exception:  # logged with its traceback; the next cycle retries
                    log.exception("%s cycle failed", self.name)
                cycles += 1
                if max_cycles is not None and cycles >= max_cycles:
                    break
                self._stop.wait(max(0.0, self.interval - (time.monotonic() - started)))
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            log.info("%s stopped", self.name, extra={"cycles": cycles})
        return cycles

    def request_stop(self) -> None:
        self._stop.set()

    def _install_signal_handlers(self) -> dict[int, Any]:
        if threading.current_thread() is not threading.main_thread():
            return {}  # Python delivers signals to the main thread only
        return {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self._stop.is_set():  # second signal: stop now
            raise SystemExit(128 + signum)
        log.info("%s: %s received, finishing this cycle", self.name, signal.Signals(signum).name)
        self._stop.set()

"""Leader/follower grouping: concurrent callers' items are processed together, by a caller.

Both the micro-batcher (one predict_proba for many requests) and the prediction
log (one commit for many requests) work this way. The first caller that finds
nothing running becomes the leader: it takes every queued item (its own first)
and processes them in one go on its own thread. Callers arriving meanwhile
queue and sleep; when the leader is done, it wakes them, and the first one still
waiting leads the next group. A lone caller thus runs its own item at once, with
no hand-off to another thread (each costs a scheduler wake-up, which on a busy
machine can take milliseconds); under load, groups grow by themselves.

When other callers have announced that an item is on its way, the leader waits
up to `max_wait_s` for them before taking the group.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from shared.errors import ServiceUnavailable


class Slot:
    """One caller's item: `finish()` is called by whoever processed it."""

    def __init__(self, size: int = 1) -> None:
        self.size = size
        self.error: BaseException | None = None
        self._done = False
        self._wake = threading.Event()  # set when done, or when promoted to lead

    @property
    def done(self) -> bool:
        return self._done

    def finish(self, error: BaseException | None = None) -> None:
        self.error = error
        self._done = True
        self._wake.set()


class GroupRunner:
    def __init__(
        self,
        process: Callable[[list[Any]], None],
        *,
        max_wait_s: float,
        max_size: int | None = None,
        timeout_s: float = 60.0,
    ) -> None:
        self._process = process  # must finish() every slot it is given, errors included
        self._max_wait_s = max_wait_s
        self._max_size = max_size
        self._timeout_s = timeout_s
        self._cond = threading.Condition()
        self._queue: list[Slot] = []
        self._announced = 0
        self._leading = False
        self._stopping = False

    def announce(self) -> None:
        """An item is on its way: a leader may wait briefly to include it."""
        with self._cond:
            self._announced += 1

    def withdraw(self) -> None:
        with self._cond:
            self._announced -= 1
            self._cond.notify_all()

    def stop(self) -> None:
        """Refuse new items; groups already running finish."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()

    def run(self, slot: Slot, *, announced: bool = False) -> None:
        """Process `slot` in a group; returns once it is finished (see slot.error)."""
        with self._cond:
            if announced:
                self._announced -= 1
            if self._stopping:
                raise ServiceUnavailable("the service is shutting down; try again")
            self._queue.append(slot)
            self._cond.notify_all()
            follower = self._leading
            self._leading = True
        if follower and not self._wait_as_follower(slot):
            return
        self._lead(slot)

    def _wait_as_follower(self, slot: Slot) -> bool:
        """False once the slot is finished; True when promoted to lead the next group."""
        if not slot._wake.wait(self._timeout_s):
            with self._cond:
                if not slot._wake.is_set():
                    self._queue.remove(slot)
                    raise ServiceUnavailable("the service is overloaded; try again")
        return not slot.done

    def _lead(self, mine: Slot) -> None:
        while True:
            with self._cond:
                self._wait_for_announced()
                group = self._take()
            try:
                self._process(group)
            except BaseException as exc:  # process() should not raise; never strand a caller
                for slot in group:
                    if not slot.done:
                        slot.finish(exc)
            with self._cond:
                if not self._queue:
                    self._leading = False
                    return
                if mine.done:
                    self._queue[0]._wake.set()  # promote: it leads the next group
                    return

    def _wait_for_announced(self) -> None:
        deadline = time.monotonic() + self._max_wait_s
        while self._announced > 0 and not self._stopping and not self._full():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._cond.wait(remaining)

    def _full(self) -> bool:
        return self._max_size is not None and sum(s.size for s in self._queue) >= self._max_size

    def _take(self) -> list[Slot]:
        """Queued slots in arrival order, up to max_size (always at least one)."""
        taken: list[Slot] = []
        total = 0
        while self._queue:
            size = self._queue[0].size
            if taken and self._max_size is not None and total + size > self._max_size:
                break
            taken.append(self._queue.pop(0))
            total += size
        return taken

"""Group commit: many request threads hand one item each to a single committer
thread, which writes everything queued in one transaction and then wakes each
request with its own outcome.

Durability first: a request returns only after the transaction holding its item
has committed (or failed, in which case it gets the error). Throughput comes
from the batching, not from answering early: while one transaction commits,
the next requests queue up and go into the following one.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from shared.errors import ServiceUnavailable

log = logging.getLogger(__name__)
Item = TypeVar("Item")
# Writes a group and returns one outcome per item, in order; raising fails them all.
GroupWriter = Callable[[Sequence[Item]], Sequence[Any]]


@dataclass
class _Ticket(Generic[Item]):
    item: Item
    done: threading.Event = field(default_factory=threading.Event)
    outcome: Any = None
    error: BaseException | None = None


class GroupCommitter(Generic[Item]):
    """Started lazily on first submit, so it runs in the process that serves
    requests (after gunicorn forks), never at import or app-creation time."""

    def __init__(
        self,
        write_group: GroupWriter[Item],
        *,
        max_wait_s: float = 0.002,
        max_items: int = 1_000,
        answer_timeout_s: float = 60.0,
        name: str = "group-committer",
    ) -> None:
        self.write_group = write_group
        self.max_wait_s, self.max_items = max_wait_s, max_items
        self.answer_timeout_s, self.name = answer_timeout_s, name
        self._queue: queue.SimpleQueue[_Ticket[Item]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def submit(self, item: Item) -> Any:
        """Block until the item's group is committed; return its outcome or raise its error."""
        self._ensure_started()
        ticket = _Ticket(item)
        self._queue.put(ticket)
        if not ticket.done.wait(self.answer_timeout_s):
            raise ServiceUnavailable("the write did not finish in time; try again")
        if ticket.error is not None:
            raise ticket.error
        return ticket.outcome

    def _ensure_started(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            self._commit(self._next_group())

    def _next_group(self) -> list[_Ticket[Item]]:
        group = [self._queue.get()]  # wait for work
        deadline = time.monotonic() + self.max_wait_s
        while len(group) < self.max_items:
            remaining = deadline - time.monotonic()
            try:
                wait = remaining > 0
                group.append(
                    self._queue.get(timeout=remaining) if wait else self._queue.get_nowait()
                )
            except queue.Empty:
                break
        return group

    def _commit(self, group: list[_Ticket[Item]]) -> None:
        try:
            outcomes = list(self.write_group([ticket.item for ticket in group]))
            if len(outcomes) != len(group):
                raise RuntimeError(f"{len(outcomes)} outcomes for {len(group)} items")
        except Exception as exc:  # every waiter gets the error; the thread lives on
            log.warning("group of %d failed: %s", len(group), exc)
            for ticket in group:
                ticket.error = exc
                ticket.done.set()
            return
        for ticket, outcome in zip(group, outcomes, strict=True):  # lengths checked above
            ticket.outcome = outcome
            ticket.done.set()

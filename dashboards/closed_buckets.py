"""Per-bucket query results memoised once their bucket can no longer change.

Rollup minutes and label arrivals are stamped with the time they happen, so a time
bucket that ended a little while ago (`grace_seconds`, for transactions still
committing and shadow counts merged late) is final. Each process keeps the rows of
final buckets it has read, per query, model and bucket width, and asks the database
only for the buckets it has not seen plus the open one: a live refresh reads minutes
of data, not the whole range. Everything is dropped every `rebuild_seconds`, which
bounds the staleness a rare late write (a relabel, a slow challenger) can cause.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol, TypeVar


class BucketRow(Protocol):
    @property
    def epoch(self) -> int: ...


Row = TypeVar("Row", bound=BucketRow)
Fetch = Callable[[datetime, datetime], Sequence[Row]]


def _at(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


@dataclass
class _Memo:
    start: int
    end: int  # final buckets [start, end) are held
    rows: dict[int, list] = field(default_factory=dict)
    built_at: float = field(default_factory=time.monotonic)
    # One lock per memo: a slow first read of one query does not hold up the others.
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, rows: Sequence[BucketRow]) -> None:
        for row in rows:
            self.rows.setdefault(row.epoch, []).append(row)


class ClosedBuckets:
    def __init__(self, grace_seconds: int = 120, rebuild_seconds: float = 3600) -> None:
        self.grace_seconds, self.rebuild_seconds = grace_seconds, rebuild_seconds
        self._memos: dict[tuple[str, str, int], _Memo] = {}
        self._lock = threading.Lock()

    def rows(
        self,
        query: str,
        model_name: str,
        start: datetime,
        end: datetime,
        width: int,
        now: datetime,
        fetch: Fetch[Row],
    ) -> list[Row]:
        """Rows of buckets in [start, end): final ones from memory, the rest from `fetch`.

        `start` must sit on a bucket boundary (resolve_window aligns it).
        """
        first = int(start.timestamp())
        closed = max((int(now.timestamp()) - self.grace_seconds) // width * width, first)
        with self._lock:
            memo = self._memo((query, model_name, width), first)
        with memo.lock:
            if first < memo.start:
                memo.add(fetch(_at(first), _at(memo.start)))
                memo.start = first
            if closed > memo.end:
                memo.add(fetch(_at(memo.end), _at(closed)))
                memo.end = closed
            held = [
                row
                for epoch in sorted(memo.rows)
                if first <= epoch < closed
                for row in memo.rows[epoch]
            ]
        return held + list(fetch(_at(closed), end))

    def _memo(self, key: tuple[str, str, int], first: int) -> _Memo:
        memo = self._memos.get(key)
        if memo is None or time.monotonic() - memo.built_at > self.rebuild_seconds:
            memo = self._memos[key] = _Memo(first, first)
        return memo

    def __len__(self) -> int:
        """How many (query, model, width) memos are held."""
        return len(self._memos)

    def clear(self) -> None:
        with self._lock:
            self._memos.clear()

"""The time ranges an operator can pick, and how finely each one is bucketed.

Buckets are aligned to multiples of their width since the epoch, so every query
of a page (and every refresh) puts the same rows in the same bucket.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class RangeOption:
    key: str
    label: str
    span: timedelta
    bucket_seconds: int


RANGE_OPTIONS: tuple[RangeOption, ...] = (
    RangeOption("15m", "15 min", timedelta(minutes=15), 60),
    RangeOption("1h", "1 hour", timedelta(hours=1), 60),
    RangeOption("6h", "6 hours", timedelta(hours=6), 5 * 60),
    RangeOption("24h", "24 hours", timedelta(hours=24), 15 * 60),
    RangeOption("7d", "7 days", timedelta(days=7), 2 * 3600),
    RangeOption("30d", "30 days", timedelta(days=30), 6 * 3600),
)
DEFAULT_RANGE = "1h"
_BY_KEY = {option.key: option for option in RANGE_OPTIONS}


@dataclass(frozen=True)
class Window:
    """A half-open interval [start, end) in UTC, cut into fixed-width buckets."""

    start: datetime
    end: datetime
    bucket_seconds: int
    label: str

    @property
    def bucket_minutes(self) -> float:
        return self.bucket_seconds / 60

    def bucket_start(self, epoch_seconds: float) -> datetime:
        return datetime.fromtimestamp(epoch_seconds, UTC)

    def covered_minutes(self, bucket_epoch: float) -> float:
        """Minutes of a bucket inside the window (the first and last may be partial)."""
        low = max(bucket_epoch, self.start.timestamp())
        high = min(bucket_epoch + self.bucket_seconds, self.end.timestamp())
        return max(high - low, 1.0) / 60


def resolve_window(range_key: str | None, now: datetime | None = None) -> Window:
    """The window that ends now for a range key (unknown keys fall back to the default).

    It starts on a bucket boundary (so at most one bucket more than the span), which
    makes every bucket but the last whole, and whole buckets can be memoised.
    """
    option = _BY_KEY.get(range_key or "", _BY_KEY[DEFAULT_RANGE])
    end = now or datetime.now(UTC)
    width = option.bucket_seconds
    start = datetime.fromtimestamp(int((end - option.span).timestamp()) // width * width, UTC)
    return Window(start, end, width, option.label)


def utc(value: datetime) -> datetime:
    """Timestamps come back naive from SQLite (stored as UTC) and aware from PostgreSQL."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """utc() for nullable columns."""
    return None if value is None else utc(value)

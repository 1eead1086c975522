"""How numbers, times and durations read on the pages (one place, so they agree)."""

from __future__ import annotations

from datetime import datetime

MISSING = "–"


def fmt_int(value: int | None) -> str:
    return MISSING if value is None else f"{value:,}"


def fmt_pct(value: float | None, digits: int = 1) -> str:
    return MISSING if value is None else f"{100 * value:.{digits}f}%"


def fmt_ms(value: float | None) -> str:
    if value is None:
        return MISSING
    return f"{value:.0f} ms" if value >= 100 else f"{value:.1f} ms"


def fmt_number(value: float | None, digits: int = 3) -> str:
    if value is None:
        return MISSING
    if value != 0 and abs(value) < 10**-digits:
        return f"{value:.1e}"
    return f"{value:.{digits}f}"


def fmt_rate(per_minute: float | None) -> str:
    if per_minute is None:
        return MISSING
    return f"{per_minute:,.0f}/min" if per_minute >= 10 else f"{per_minute:.1f}/min"


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return MISSING
    seconds = max(seconds, 0)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def fmt_time(value: datetime | None) -> str:
    return MISSING if value is None else value.strftime("%Y-%m-%d %H:%M:%S")


def fmt_ago(value: datetime | None, now: datetime) -> str:
    """'just now', '5 min ago', '3 h ago', '2 d ago'."""
    if value is None:
        return MISSING
    seconds = (now - value).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    return f"{int(seconds // 86400)} d ago"


def short_id(value: str | None, length: int = 8) -> str:
    return MISSING if not value else value[:length]

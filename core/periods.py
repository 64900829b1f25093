"""Calendar periods (ISO week from Monday, month, quarter) in the organisation's time zone,
how far into one a moment is, and their names."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

KINDS = ("week", "month", "quarter")


def period_start(kind: str, day: date) -> date:
    if kind == "week":
        return day - timedelta(days=day.weekday())
    if kind == "month":
        return day.replace(day=1)
    if kind == "quarter":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    raise ValueError(f"Unknown period kind {kind!r}; use week, month or quarter.")


def next_period(kind: str, start: date) -> date:
    if kind == "week":
        return start + timedelta(days=7)
    months = 1 if kind == "month" else 3
    month = start.month - 1 + months
    return date(start.year + month // 12, month % 12 + 1, 1)


def previous_period(kind: str, start: date) -> date:
    if kind == "week":
        return start - timedelta(days=7)
    months = 1 if kind == "month" else 3
    month = start.month - 1 - months
    return date(start.year + month // 12, month % 12 + 1, 1)


def periods_between(kind: str, first: date, last: date) -> list[date]:
    """Starts of the periods of `kind` whose start falls in [first, last]."""
    start = period_start(kind, first)
    if start < first:
        start = next_period(kind, start)
    out = []
    while start <= last:
        out.append(start)
        start = next_period(kind, start)
    return out


def periods_overlapping(kind: str, first: date, last: date) -> Iterator[date]:
    """Starts of the periods of `kind` that contain any day of [first, last]."""
    start = period_start(kind, first)
    while start <= last:
        yield start
        start = next_period(kind, start)


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz)


def period_bounds(kind: str, start: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of a period as aware datetimes."""
    return local_midnight(start, tz), local_midnight(next_period(kind, start), tz)


def months_between(first: date, last: date) -> list[date]:
    return periods_between("month", first.replace(day=1), last)


# Before this share of a period has gone by, a pace says nothing (a day-old month holds a
# handful of events): the tiles give no verdict and the SAL pace alert waits. A quarter of the
# period is the first week of a month (never less than seven days), under two days of a week.
PACE_MIN_ELAPSED = Decimal("0.25")


def elapsed_share(kind: str, start: date, now: datetime, tz: ZoneInfo) -> Decimal:
    """The share (0..1) of a period gone by at `now`, to the second, in the time zone `tz`.

    The one measure of "how far into the period" that the tiles' like-for-like comparison,
    the goals' pace and the SAL pace alert all use (the tiles and the alert with
    `PACE_MIN_ELAPSED`).
    """
    begin, end = period_bounds(kind, start, tz)
    if now <= begin:
        return Decimal(0)
    if now >= end:
        return Decimal(1)
    return Decimal((now - begin).total_seconds()) / Decimal((end - begin).total_seconds())


def period_label(kind: str, start: date) -> str:
    if kind == "week":
        year, week, _ = start.isocalendar()
        return f"W{week:02d} {year}"
    if kind == "quarter":
        return f"Q{(start.month - 1) // 3 + 1} {start.year}"
    return start.strftime("%b %Y")


def period_span_label(kind: str, start: date) -> str:
    """'16–22 Nov 2026' for a week, 'November 2026', 'Q4 2026 (Oct–Dec)'."""
    last = next_period(kind, start) - timedelta(days=1)
    if kind == "week":
        first = f"{start.day}" if start.month == last.month else f"{start.day} {start:%b}"
        return f"{first}–{last.day} {last:%b %Y}"
    if kind == "quarter":
        return f"{period_label(kind, start)} ({start:%b}–{last:%b})"
    return start.strftime("%B %Y")

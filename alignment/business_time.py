"""Business-time arithmetic for SLA deadlines (SPEC §6), pure Python.

A :class:`BusinessCalendar` says when the clock runs: on some ISO weekdays, from ``start`` to
``end`` local wall-clock time in a time zone. ``None`` in place of a calendar means that every
hour counts (plain elapsed time, independent of any time zone).

Conventions:

* Every function takes aware datetimes and returns aware datetimes **in UTC** (compare them
  with ``==`` or convert them with ``astimezone`` for display). Naive datetimes are refused.
* Opening and closing times are local wall-clock times, resolved day by day in the calendar's
  zone, so a DST change moves nothing: a business day is 09:00-17:00 local whatever the UTC
  offset. Business time is the real time elapsed while the business is open.
* A business day is the half-open interval ``[start, end)``; ``end == 00:00`` means midnight
  at the end of the day, so ``00:00-00:00`` is a whole day. Overnight shifts are not supported.
* A start outside business hours begins counting at the next business opening. Adding time
  that runs out exactly at closing time gives the closing time (not the next opening).
* Amounts are converted to whole microseconds, so results are exact and
  :func:`business_hours_between` inverts :func:`add_business_hours`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "BusinessCalendar",
    "SlaTerms",
    "add_business_days",
    "add_business_hours",
    "business_hours_between",
    "cadence_window_end",
    "first_contact_deadline",
    "parse_business_days",
]

Amount = Decimal | float | int

_MICROSECONDS_PER_HOUR = 3_600_000_000
_MICROSECONDS_PER_DAY = 24 * _MICROSECONDS_PER_HOUR
_MIDNIGHT = time(0, 0)


def parse_business_days(value: str) -> frozenset[int]:
    """Parse the model's ``business_days`` string ("1,2,3,4,5") into ISO weekdays."""
    days: set[int] = set()
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            day = int(part)
        except ValueError:
            raise ValueError(f"not an ISO weekday: {part!r} in {value!r}") from None
        days.add(day)
    return frozenset(days)


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """Business hours: ``weekdays`` (ISO, 1=Mon..7=Sun) from ``start`` to ``end`` in ``tz``."""

    weekdays: frozenset[int]
    start: time
    end: time
    tz: ZoneInfo

    def __post_init__(self) -> None:
        object.__setattr__(self, "weekdays", frozenset(self.weekdays))
        if not self.weekdays:
            raise ValueError("a business calendar needs at least one weekday")
        if not self.weekdays <= frozenset(range(1, 8)):
            raise ValueError(f"ISO weekdays are 1..7, got {sorted(self.weekdays)}")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("business start and end are local wall-clock times (naive)")
        if self.end != _MIDNIGHT and self.end <= self.start:
            raise ValueError("business hours must end after they start (no overnight shifts)")

    @classmethod
    def from_sla(
        cls, sla: Any, default_timezone: str | ZoneInfo = "UTC"
    ) -> BusinessCalendar | None:
        """Read an SLA's business hours by duck typing; ``None`` when ``business_days`` is empty.

        ``default_timezone`` applies when ``business_timezone`` is blank (callers in the
        project pass ``settings.TIME_ZONE``).
        """
        weekdays = parse_business_days(getattr(sla, "business_days", "") or "")
        if not weekdays:
            return None
        start, end = getattr(sla, "business_start", None), getattr(sla, "business_end", None)
        if start is None or end is None:
            raise ValueError("business days are set but business start or end is missing")
        return cls(
            weekdays=weekdays,
            start=start,
            end=end,
            tz=_zone(getattr(sla, "business_timezone", "") or default_timezone),
        )

    @property
    def day_length(self) -> timedelta:
        """Nominal (wall-clock) length of one business day, e.g. 8 hours for 09:00-17:00."""
        return _wall(date(2000, 1, 3), self.end, self.end == _MIDNIGHT) - _wall(
            date(2000, 1, 3), self.start
        )

    def is_business_day(self, day: date) -> bool:
        """Whether ``day`` (a local date) is a business day."""
        return day.isoweekday() in self.weekdays


@dataclass(frozen=True, slots=True)
class SlaTerms:
    """The parts of an SLA that define deadlines: X hours, Y attempts, Z days, business hours."""

    first_contact_hours: Decimal
    attempts: int
    attempt_spacing_days: Decimal
    calendar: BusinessCalendar | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "first_contact_hours", _decimal(self.first_contact_hours))
        object.__setattr__(self, "attempt_spacing_days", _decimal(self.attempt_spacing_days))
        if self.first_contact_hours < 0 or self.attempt_spacing_days < 0:
            raise ValueError("first-contact hours and attempt spacing must be >= 0")
        if self.attempts < 1:
            raise ValueError("an SLA needs at least one attempt")

    @classmethod
    def from_sla(cls, sla: Any, default_timezone: str | ZoneInfo = "UTC") -> SlaTerms:
        """Build the terms from a ``ServiceLevelAgreement`` (or anything with its attributes)."""
        return cls(
            first_contact_hours=_decimal(sla.first_contact_hours),
            attempts=int(sla.attempts),
            attempt_spacing_days=_decimal(sla.attempt_spacing_days),
            calendar=BusinessCalendar.from_sla(sla, default_timezone),
        )

    @property
    def cadence_days(self) -> Decimal:
        """Length of the cadence window after the first-contact deadline: (Y-1)·Z days."""
        return (self.attempts - 1) * self.attempt_spacing_days


def add_business_hours(
    start: datetime, hours: Amount, calendar: BusinessCalendar | None
) -> datetime:
    """``start`` + ``hours`` of business time (elapsed time without a calendar), in UTC."""
    amount = _decimal(hours)
    if amount < 0:
        raise ValueError(f"hours must be >= 0, got {hours}")
    return _add(_utc(start), _to_timedelta(amount * _MICROSECONDS_PER_HOUR), calendar)


def add_business_days(start: datetime, days: Amount, calendar: BusinessCalendar | None) -> datetime:
    """``start`` + ``days`` business days (24-hour days without a calendar), in UTC.

    Whole business days keep the business-clock time of day on the N-th next business day
    (a start outside business hours first moves to the next opening; a start exactly at
    closing time stays at closing time). A fraction of a day is that fraction of the
    calendar's nominal day length, added as business hours.
    """
    amount = _decimal(days)
    if amount < 0:
        raise ValueError(f"days must be >= 0, got {days}")
    moment = _utc(start)
    if calendar is None:
        return moment + _to_timedelta(amount * _MICROSECONDS_PER_DAY)
    whole = int(amount)
    fraction = amount - whole
    day, offset = _business_position(calendar, moment)
    for _ in range(whole):
        day = _next_business_day(calendar, day)
    local = _wall(day, calendar.start) + offset
    result = _utc(local.replace(tzinfo=calendar.tz))
    if fraction:
        day_micros = calendar.day_length // timedelta(microseconds=1)
        result = _add(result, _to_timedelta(fraction * day_micros), calendar)
    return result


def business_hours_between(a: datetime, b: datetime, calendar: BusinessCalendar | None) -> float:
    """Hours of business time from ``a`` to ``b`` (plain elapsed hours without one); 0 if b <= a."""
    start, stop = _utc(a), _utc(b)
    if stop <= start:
        return 0.0
    if calendar is None:
        return (stop - start) / timedelta(hours=1)
    total = timedelta(0)
    for _day, opens, closes in _intervals_from(calendar, start):
        if opens >= stop:
            break
        overlap = min(closes, stop) - max(opens, start)
        if overlap > timedelta(0):
            total += overlap
    return total / timedelta(hours=1)


def first_contact_deadline(handed_at: datetime, terms: SlaTerms) -> datetime:
    """When first contact is due: ``handed_at`` + X hours (business hours when set), in UTC."""
    return add_business_hours(handed_at, terms.first_contact_hours, terms.calendar)


def cadence_window_end(handed_at: datetime, terms: SlaTerms) -> datetime:
    """End of the cadence window: first-contact deadline + (Y-1)·Z days (business days when set)."""
    return add_business_days(
        first_contact_deadline(handed_at, terms), terms.cadence_days, terms.calendar
    )


# --- helpers ------------------------------------------------------------------------------


def _zone(value: str | ZoneInfo) -> ZoneInfo:
    if isinstance(value, ZoneInfo):
        return value
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone: {value!r}") from None


def _decimal(value: Amount) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"not a finite amount: {value}")
        return Decimal(repr(value))
    return Decimal(value)


def _to_timedelta(micros: Decimal) -> timedelta:
    """A non-negative number of microseconds, rounded half-even to a whole microsecond."""
    return timedelta(microseconds=int(micros.to_integral_value(rounding=ROUND_HALF_EVEN)))


def _add(moment: datetime, amount: timedelta, calendar: BusinessCalendar | None) -> datetime:
    """Add ``amount`` of business time to the UTC ``moment``."""
    if calendar is None:
        return moment + amount
    remaining = amount
    for _day, opens, closes in _intervals_from(calendar, moment):
        if closes <= moment:
            continue
        cursor = max(opens, moment)
        available = closes - cursor
        if remaining <= available:
            return cursor + remaining
        remaining -= available
    raise AssertionError("unreachable: business intervals are endless")  # pragma: no cover


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime: pass an aware datetime")
    return moment.astimezone(UTC)


def _wall(day: date, clock: time, next_midnight: bool = False) -> datetime:
    """Naive local wall-clock datetime; ``next_midnight`` reads 00:00 as 24:00 of ``day``."""
    if next_midnight:
        return datetime.combine(day + timedelta(days=1), _MIDNIGHT)
    return datetime.combine(day, clock)


@lru_cache(maxsize=8192)
def _interval(calendar: BusinessCalendar, day: date) -> tuple[datetime, datetime] | None:
    """The UTC instants at which business opens and closes on local ``day`` (None if closed)."""
    if not calendar.is_business_day(day):
        return None
    opens = _wall(day, calendar.start).replace(tzinfo=calendar.tz)
    closes = _wall(day, calendar.end, calendar.end == _MIDNIGHT).replace(tzinfo=calendar.tz)
    return opens.astimezone(UTC), closes.astimezone(UTC)


def _intervals_from(
    calendar: BusinessCalendar, moment: datetime
) -> Iterator[tuple[date, datetime, datetime]]:
    """Business days with their UTC opening and closing, in order, from the local day before
    ``moment``'s onwards (endless)."""
    day = moment.astimezone(calendar.tz).date() - timedelta(days=1)
    while True:
        interval = _interval(calendar, day)
        if interval is not None:
            yield day, *interval
        day += timedelta(days=1)


def _next_business_day(calendar: BusinessCalendar, day: date) -> date:
    day += timedelta(days=1)
    while not calendar.is_business_day(day):
        day += timedelta(days=1)
    return day


def _business_position(calendar: BusinessCalendar, moment: datetime) -> tuple[date, timedelta]:
    """The business day and wall-clock offset from its opening at which ``moment`` stands.

    A moment inside ``[open, close]`` of a business day keeps its offset (closing time
    included); any other moment moves to the next opening (offset 0).
    """
    for day, opens, closes in _intervals_from(calendar, moment):
        if moment > closes:
            continue
        if moment <= opens:
            return day, timedelta(0)
        local = moment.astimezone(calendar.tz).replace(tzinfo=None)
        offset = local - _wall(day, calendar.start)
        return day, min(max(offset, timedelta(0)), calendar.day_length)
    raise AssertionError("unreachable: business intervals are endless")  # pragma: no cover

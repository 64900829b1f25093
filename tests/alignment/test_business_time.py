"""Business-time arithmetic for SLA deadlines (SPEC §6): pure functions, no database."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alignment.business_time import (
    BusinessCalendar,
    SlaTerms,
    add_business_days,
    add_business_hours,
    business_hours_between,
    cadence_window_end,
    first_contact_deadline,
    parse_business_days,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
OFFICE = BusinessCalendar(
    weekdays=frozenset({1, 2, 3, 4, 5}), start=time(9), end=time(17), tz=BERLIN
)
ODD_SHIFTS = BusinessCalendar(
    weekdays=frozenset({2, 4, 6}), start=time(8, 30), end=time(12, 15), tz=NEW_YORK
)
ALWAYS_OPEN = BusinessCalendar(
    weekdays=frozenset(range(1, 8)), start=time(0), end=time(0), tz=BERLIN
)
SPEC_TERMS = SlaTerms(
    first_contact_hours=Decimal("4.00"),
    attempts=3,
    attempt_spacing_days=Decimal("2.00"),
    calendar=OFFICE,
)


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def sla(**overrides: object) -> SimpleNamespace:
    fields: dict[str, object] = {
        "first_contact_hours": Decimal("4.00"),
        "attempts": 3,
        "attempt_spacing_days": Decimal("2.00"),
        "business_days": "1,2,3,4,5",
        "business_start": time(9),
        "business_end": time(17),
        "business_timezone": "Europe/Berlin",
    }
    fields.update(overrides)
    return SimpleNamespace(**fields)


# --- the SPEC example ---------------------------------------------------------------------


def test_a_handoff_on_friday_afternoon_is_due_on_monday_morning() -> None:
    handed = berlin(2026, 1, 16, 15)  # a Friday

    due = first_contact_deadline(handed, SPEC_TERMS)

    assert due == berlin(2026, 1, 19, 11)
    assert due.tzinfo is UTC


def test_the_cadence_window_ends_the_friday_after_at_eleven() -> None:
    assert cadence_window_end(berlin(2026, 1, 16, 15), SPEC_TERMS) == berlin(2026, 1, 23, 11)


def test_without_business_hours_the_spec_example_is_due_friday_evening_and_ends_tuesday() -> None:
    terms = SlaTerms.from_sla(sla(business_days=""))
    handed = berlin(2026, 1, 16, 15)

    assert terms.calendar is None
    assert first_contact_deadline(handed, terms) == berlin(2026, 1, 16, 19)
    assert cadence_window_end(handed, terms) == berlin(2026, 1, 20, 19)


def test_terms_read_from_an_sla_reproduce_the_spec_example() -> None:
    terms = SlaTerms.from_sla(sla(business_days=" 1, 2,3,4,5 "))

    assert terms == SPEC_TERMS
    assert cadence_window_end(berlin(2026, 1, 16, 15), terms) == berlin(2026, 1, 23, 11)


# --- starts outside business hours --------------------------------------------------------


def test_a_start_before_opening_counts_from_the_opening() -> None:
    assert add_business_hours(berlin(2026, 1, 12, 7, 30), 4, OFFICE) == berlin(2026, 1, 12, 13)


def test_a_start_after_closing_counts_from_the_next_morning() -> None:
    assert add_business_hours(berlin(2026, 1, 12, 18), 4, OFFICE) == berlin(2026, 1, 13, 13)


def test_a_start_on_saturday_counts_from_monday_opening() -> None:
    assert add_business_hours(berlin(2026, 1, 17, 10), 4, OFFICE) == berlin(2026, 1, 19, 13)


def test_zero_hours_outside_business_hours_is_the_next_opening() -> None:
    assert add_business_hours(berlin(2026, 1, 17, 10), 0, OFFICE) == berlin(2026, 1, 19, 9)
    assert add_business_hours(berlin(2026, 1, 16, 17), 0, OFFICE) == berlin(2026, 1, 19, 9)
    assert add_business_hours(berlin(2026, 1, 16, 12), 0, OFFICE) == berlin(2026, 1, 16, 12)


def test_time_running_out_at_closing_is_due_at_closing() -> None:
    assert add_business_hours(berlin(2026, 1, 16, 15), 2, OFFICE) == berlin(2026, 1, 16, 17)


def test_business_days_from_a_saturday_start_at_the_next_opening() -> None:
    assert add_business_days(berlin(2026, 1, 17, 10), 1, OFFICE) == berlin(2026, 1, 20, 9)


def test_business_days_from_closing_time_keep_closing_time() -> None:
    assert add_business_days(berlin(2026, 1, 16, 17), 1, OFFICE) == berlin(2026, 1, 19, 17)


def test_zero_business_days_from_inside_business_hours_changes_nothing() -> None:
    assert add_business_days(berlin(2026, 1, 14, 10, 20), 0, OFFICE) == berlin(2026, 1, 14, 10, 20)


def test_business_days_skip_days_that_are_not_business_days() -> None:
    # Tue, Thu, Sat 08:30-12:15 New York: from a Tuesday, 2 business days land on Saturday.
    start = datetime(2026, 1, 13, 10, tzinfo=NEW_YORK)
    assert add_business_days(start, 2, ODD_SHIFTS) == datetime(2026, 1, 17, 10, tzinfo=NEW_YORK)


# --- fractions ----------------------------------------------------------------------------


def test_half_an_hour_late_on_friday_is_due_a_quarter_past_nine_on_monday() -> None:
    terms = SlaTerms.from_sla(sla(first_contact_hours=Decimal("0.50")))

    assert first_contact_deadline(berlin(2026, 1, 16, 16, 45), terms) == berlin(2026, 1, 19, 9, 15)


def test_fractional_hours_accept_floats_and_decimals_alike() -> None:
    start = berlin(2026, 1, 14, 16, 45)
    assert add_business_hours(start, 0.5, OFFICE) == add_business_hours(
        start, Decimal("0.5"), OFFICE
    )


def test_half_a_business_day_is_half_the_opening_hours() -> None:
    assert add_business_days(berlin(2026, 1, 12, 15), Decimal("0.5"), OFFICE) == berlin(
        2026, 1, 13, 11
    )


def test_a_fractional_cadence_spacing_counts_whole_days_then_the_fraction() -> None:
    terms = SlaTerms.from_sla(sla(attempt_spacing_days=Decimal("1.25")))

    # due Monday 11:00; (3-1)*1.25 = 2.5 days: Wednesday 11:00, then 4 business hours.
    assert cadence_window_end(berlin(2026, 1, 16, 15), terms) == berlin(2026, 1, 21, 15)


# --- DST (Europe/Berlin: 29 March 2026 and 25 October 2026) ------------------------------


def test_a_deadline_across_the_spring_dst_weekend_keeps_eleven_local() -> None:
    due = first_contact_deadline(berlin(2026, 3, 27, 15), SPEC_TERMS)

    assert due == berlin(2026, 3, 30, 11)
    assert due == datetime(2026, 3, 30, 9, tzinfo=UTC)  # CEST, UTC+2


def test_a_deadline_across_the_autumn_dst_weekend_keeps_eleven_local() -> None:
    due = first_contact_deadline(berlin(2026, 10, 23, 15), SPEC_TERMS)

    assert due == berlin(2026, 10, 26, 11)
    assert due == datetime(2026, 10, 26, 10, tzinfo=UTC)  # CET, UTC+1


def test_a_cadence_window_across_the_dst_change_keeps_the_time_of_day() -> None:
    handed = berlin(2026, 3, 25, 15)  # Wednesday, due Thursday 11:00 CET

    assert cadence_window_end(handed, SPEC_TERMS) == berlin(2026, 4, 1, 11)
    assert cadence_window_end(berlin(2026, 10, 21, 15), SPEC_TERMS) == berlin(2026, 10, 28, 11)


@pytest.mark.parametrize(
    ("friday", "monday", "elapsed"),
    [
        (berlin(2026, 3, 27, 15), berlin(2026, 3, 30, 11), 67.0),
        (berlin(2026, 10, 23, 15), berlin(2026, 10, 26, 11), 69.0),
    ],
)
def test_business_hours_over_a_dst_weekend_count_only_business_hours(
    friday: datetime, monday: datetime, elapsed: float
) -> None:
    assert business_hours_between(friday, monday, OFFICE) == 4.0
    assert business_hours_between(friday.replace(hour=9), monday.replace(hour=17), OFFICE) == 16.0
    assert business_hours_between(friday, monday, None) == elapsed


def test_without_a_calendar_a_dst_change_is_plain_elapsed_time() -> None:
    saturday_noon = berlin(2026, 3, 28, 12)  # CET

    later = add_business_hours(saturday_noon, 24, None)

    assert later == saturday_noon.astimezone(UTC) + timedelta(hours=24)
    assert later.astimezone(BERLIN) == berlin(2026, 3, 29, 13)  # CEST: one wall hour more
    assert add_business_days(saturday_noon, 1, None) == later
    assert business_hours_between(saturday_noon, berlin(2026, 3, 29, 12), None) == 23.0


def test_an_always_open_calendar_counts_real_hours_over_a_dst_night() -> None:
    assert business_hours_between(berlin(2026, 3, 29), berlin(2026, 3, 30), ALWAYS_OPEN) == 23.0
    assert business_hours_between(berlin(2026, 10, 25), berlin(2026, 10, 26), ALWAYS_OPEN) == 25.0


# --- business_hours_between ---------------------------------------------------------------


def test_no_business_hours_pass_when_the_end_is_not_after_the_start() -> None:
    assert business_hours_between(berlin(2026, 1, 14, 12), berlin(2026, 1, 14, 10), OFFICE) == 0.0
    assert business_hours_between(berlin(2026, 1, 14, 12), berlin(2026, 1, 14, 12), None) == 0.0


def test_a_whole_week_holds_forty_business_hours() -> None:
    assert business_hours_between(berlin(2026, 1, 12), berlin(2026, 1, 19), OFFICE) == 40.0


moments = st.datetimes(
    min_value=datetime(2025, 1, 1),
    max_value=datetime(2027, 12, 31),
    timezones=st.sampled_from([UTC, BERLIN, NEW_YORK]),
    allow_imaginary=False,
)
hours = st.floats(min_value=0, max_value=100, allow_nan=False, allow_infinity=False)
calendars = st.sampled_from([None, OFFICE, ODD_SHIFTS, ALWAYS_OPEN])


@settings(max_examples=150, deadline=None)
@given(start=moments, amount=hours, calendar=calendars)
def test_business_hours_between_undoes_add_business_hours(
    start: datetime, amount: float, calendar: BusinessCalendar | None
) -> None:
    end = add_business_hours(start, amount, calendar)

    assert end >= start
    assert business_hours_between(start, end, calendar) == pytest.approx(amount, abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(start=moments, amount=hours)
def test_an_always_open_calendar_is_plain_elapsed_time(start: datetime, amount: float) -> None:
    assert add_business_hours(start, amount, ALWAYS_OPEN) == add_business_hours(start, amount, None)


@settings(max_examples=100, deadline=None)
@given(start=moments, days=st.integers(min_value=0, max_value=30))
def test_whole_business_days_land_inside_business_hours_at_the_same_clock_time(
    start: datetime, days: int
) -> None:
    begun = add_business_days(start, 0, OFFICE).astimezone(BERLIN)
    end = add_business_days(start, days, OFFICE).astimezone(BERLIN)

    assert begun >= start
    assert business_hours_between(start, begun, OFFICE) == 0.0
    assert end.isoweekday() <= 5
    assert time(9) <= end.time() <= time(17)
    assert end.time() == begun.time()
    assert business_hours_between(begun, end, OFFICE) == pytest.approx(8 * days, abs=1e-6)


# --- building terms and calendars ---------------------------------------------------------


def test_an_sla_without_a_time_zone_uses_the_default() -> None:
    calendar = BusinessCalendar.from_sla(sla(business_timezone=""), default_timezone="Asia/Tokyo")

    assert calendar is not None
    assert calendar.tz == ZoneInfo("Asia/Tokyo")


def test_business_days_parse_into_iso_weekdays() -> None:
    assert parse_business_days("1,2,3,4,5") == frozenset({1, 2, 3, 4, 5})
    assert parse_business_days("") == frozenset()
    with pytest.raises(ValueError, match="ISO weekday"):
        parse_business_days("mon")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"weekdays": frozenset()},
        {"weekdays": frozenset({0, 1})},
        {"start": time(17), "end": time(9)},
        {"start": time(9), "end": time(9)},
    ],
)
def test_an_impossible_calendar_is_refused(kwargs: dict[str, object]) -> None:
    fields: dict[str, object] = {
        "weekdays": frozenset({1}),
        "start": time(9),
        "end": time(17),
        "tz": BERLIN,
    }
    with pytest.raises(ValueError):
        BusinessCalendar(**(fields | kwargs))  # type: ignore[arg-type]


def test_naive_datetimes_and_negative_amounts_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        add_business_hours(datetime(2026, 1, 16, 15), 4, OFFICE)
    with pytest.raises(ValueError, match=">= 0"):
        add_business_hours(berlin(2026, 1, 16, 15), -1, OFFICE)
    with pytest.raises(ValueError, match=">= 0"):
        add_business_days(berlin(2026, 1, 16, 15), Decimal("-1"), None)
    with pytest.raises(ValueError, match="time zone"):
        BusinessCalendar.from_sla(sla(business_timezone="Mars/Olympus"))


def test_a_large_amount_is_computed_without_minute_by_minute_iteration() -> None:
    start = berlin(2026, 1, 16, 15)

    end = add_business_hours(start, 8 * 250 * 4, OFFICE)  # about four years of business days

    assert business_hours_between(start, end, OFFICE) == 8000.0

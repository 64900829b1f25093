"""The dates Tandem takes: within DATE_MIN_YEAR..DATE_MAX_YEAR, checked wherever a date comes
in (the API's fields, the imports, and the services that store an agreement's or a goal's
dates), so that no date at the calendar's edge reaches the periods built around it."""

from __future__ import annotations

from datetime import date

from django.conf import settings


def date_in_range_problem(value: date) -> str:
    """Why a date or moment is outside the dates Tandem takes ("" when it is inside): the
    calendar's edges (year 1, 9999) break the periods built around it (the next month of
    December 9999 does not exist), so records stay within DATE_MIN_YEAR..DATE_MAX_YEAR."""
    low, high = settings.DATE_MIN_YEAR, settings.DATE_MAX_YEAR
    if low <= value.year <= high:
        return ""
    return f"Must be in the years {low} to {high} (DATE_MIN_YEAR, DATE_MAX_YEAR)."

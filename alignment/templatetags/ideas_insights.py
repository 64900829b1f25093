"""Filters of the "Together" pages (ideas, field insights): how long something waited, who
someone is, how an idea's votes split between the teams."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone

from alignment.pages import person

register = template.Library()


def days_between(start: datetime, end: datetime) -> float:
    return max((end - start).total_seconds(), 0) / 86400


def wait_words(days: float) -> str:
    """'under an hour', '5 h', '1 day', '12 days' (whole days, rounded down)."""
    hours = int(days * 24)
    if hours < 1:
        return "under an hour"
    if hours < 24:
        return f"{hours} h"
    whole = int(days)
    return f"{whole} day{'' if whole == 1 else 's'}"


@register.filter
def waited(insight: object) -> str:
    """How long a field insight waited for marketing's answer (so far, if unanswered)."""
    start = getattr(insight, "posted_at", None)
    if start is None:
        return ""
    end = getattr(insight, "answered_at", None) or timezone.now()
    return wait_words(days_between(start, end))


@register.filter
def waited_days(insight: object) -> int:
    """Whole days a field insight has waited (so far, if unanswered)."""
    start = getattr(insight, "posted_at", None)
    if start is None:
        return 0
    end = getattr(insight, "answered_at", None) or timezone.now()
    return int(days_between(start, end))


@register.filter
def who(user: object) -> str:
    """A person's full name, or their username."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


@register.filter
def who_long(user: object) -> str:
    """'Maria Martens (maria)' or 'maria'."""
    return person(user)


@register.filter
def team_votes(idea: object) -> str:
    """'3 marketing · 2 sales' (and '· 1 other' for votes of people of no team); 'no votes'."""
    parts = []
    for attr, label in (("marketing_votes", "marketing"), ("sales_votes", "sales"),
                        ("other_votes", "other")):  # fmt: skip
        n = getattr(idea, attr, 0) or 0
        if n or label != "other":
            parts.append(f"{n} {label}")
    total = sum(getattr(idea, a, 0) or 0 for a in ("marketing_votes", "sales_votes", "other_votes"))
    return " · ".join(parts) if total else "no votes yet"

"""Reads of the lead funnel for pages and the API."""

from __future__ import annotations

from django.db.models import QuerySet

from leads.models import Handoff


def handoff_list(*, status: str | None = None, owner: str | None = None) -> QuerySet[Handoff]:
    qs = Handoff.objects.select_related("lead", "owner", "decided_by", "reason")
    if status:
        qs = qs.filter(status=status)
    if owner:
        qs = qs.filter(owner__username=owner)
    return qs.order_by("-handed_at", "-id")


def funnel_counts() -> list[tuple[str, int]]:
    """How many leads sit in each stage now, in funnel order (one GROUP BY)."""
    from django.db.models import Count

    from leads.models import Lead, Stage

    counts = dict(Lead.objects.values_list("stage").annotate(n=Count("id")).order_by())
    return [(label, counts.get(value, 0)) for value, label in Stage.choices]

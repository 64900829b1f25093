"""Reads of the lead funnel for pages and the API."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from zoneinfo import ZoneInfo

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


def lead_activity(*, lead_ids: Iterable[int]) -> tuple[set[date], list[tuple[date, date]]]:
    """The local days on which anything of these leads happened, and their open-deal spans.

    What a change to these leads can move: its flow metrics (event days), its cohort metrics
    (handoff days) and the open pipeline (each deal from creation to close, or to today).
    The database returns distinct days, never the rows.
    """
    from django.conf import settings
    from django.db.models import Count, Max, Min, Q
    from django.db.models.functions import TruncDate
    from django.utils import timezone

    from leads.models import ContactAttempt, Deal, Lead, StageEvent

    ids = list(set(lead_ids))
    if not ids:
        return set(), []
    tz = ZoneInfo(settings.TIME_ZONE)
    sources = [
        (Lead.objects.filter(pk__in=ids), "created_at"),
        (Handoff.objects.filter(lead_id__in=ids), "handed_at"),
        (Handoff.objects.filter(lead_id__in=ids, decided_at__isnull=False), "decided_at"),
        (StageEvent.objects.filter(lead_id__in=ids), "occurred_at"),
        (ContactAttempt.objects.filter(lead_id__in=ids), "occurred_at"),
        (Deal.objects.filter(lead_id__in=ids), "created_at"),
        (Deal.objects.filter(lead_id__in=ids, closed_at__isnull=False), "closed_at"),
    ]
    days: set[date] = set()
    for qs, field in sources:
        days.update(
            qs.annotate(d=TruncDate(field, tzinfo=tz))
            .values_list("d", flat=True)
            .distinct()
            .order_by()
        )
    deals = Deal.objects.filter(lead_id__in=ids).aggregate(
        first=Min("created_at"), last=Max("closed_at"), open=Count("id", filter=Q(closed_at=None))
    )
    spans: list[tuple[date, date]] = []
    if deals["first"] is not None:
        last = (
            timezone.localdate()
            if deals["open"] or deals["last"] is None
            else deals["last"].astimezone(tz).date()
        )
        spans.append((deals["first"].astimezone(tz).date(), last))
    return days, spans

"""The funnel's change log: every write records the days whose records it changes.

Writers call `funnel_changed` inside their transaction, so a change and its log entry commit
together (an outbox). After the commit, `funnel_change_committed` tells whoever computes the
numbers (the KPI engine) that there is work (once per logging call: the engine debounces); the
engine reads `funnel_changes` and clears what it recomputed with `funnel_changes_clear`. The
funnel knows nothing of the engine.

An entry is a local day (`period` "day") whose records of one part of the funnel changed
(`PARTS`: the leads created that day, the handoffs handed over, the decisions, the stage
events, the deals opened or closed, the deals won, the campaigns running, the disputes
settled; empty for every part), or a whole period of a kind (its agreements changed: goals,
forecasts, the SAL commitment, or it came into the computed range), logged with
`funnel_periods_changed` and named by the agreement (`AGREEMENTS`; empty for everything).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import TruncDate
from django.dispatch import Signal
from django.utils import timezone

from core.periods import KINDS, periods_overlapping
from leads.models import FunnelChange, Handoff
from leads.selectors import funnel_horizon, lead_activity

#: Sent after a transaction that logged changes commits, once per `funnel_changed` call in it
#: (no arguments; the receiver debounces).
funnel_change_committed = Signal()

DAY = "day"  # an entry's `period` when it is a day
PARTS = ("leads", "handoffs", "decisions", "stages", "deals", "wins", "campaigns", "disputes")
#: A whole period's `part`: the agreement that changed, or the shared habit (meetings held,
#: field insights answered) whose numbers moved.
AGREEMENTS = ("goals", "sla", "meetings", "insights")


def _local_day(moment: datetime | date, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date() if isinstance(moment, datetime) else moment


def funnel_changed(
    *,
    at: datetime | date | None = None,
    instants: Iterable[datetime | date] = (),
    spans: Iterable[tuple[datetime | date, datetime | date]] = (),
    part: str = "",
) -> int:
    """Log the local days whose records of `part` (every part by default) changed, in the
    caller's transaction. `at`/`instants` log the day of each moment; `spans` log every day of
    [first, last]. Returns how many days were logged.
    """
    if part and part not in PARTS:
        raise ValueError(f"No part of the funnel is called {part!r}.")
    tz = ZoneInfo(settings.TIME_ZONE)
    days = {_local_day(m, tz) for m in ([at] if at is not None else [])}
    days |= {_local_day(m, tz) for m in instants}
    for first, last in spans:
        first_day, last_day = _local_day(first, tz), _local_day(last, tz)
        days |= {first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1)}
    return _log([(DAY, day, part) for day in days])


def funnel_activity_changed(*, activity: Mapping[str, Iterable[date]]) -> int:
    """Log each part's days (what `lead_activity` returns). Returns how many were logged."""
    return _log([(DAY, day, part) for part, days in activity.items() for day in days])


def funnel_periods_changed(
    *, spans: Iterable[tuple[datetime | date, datetime | date]], part: str = ""
) -> int:
    """Log every period of every kind overlapping each [first, last], to be recomputed from
    its days (what is derived from them changed, not the days): what an agreement sets
    (`AGREEMENTS`: "goals" for goals, forecasts and payout curves, "sla" for the SAL
    commitment), or everything by default. Returns how many were logged."""
    if part and part not in AGREEMENTS:
        raise ValueError(f"No agreement is called {part!r}.")
    tz = ZoneInfo(settings.TIME_ZONE)
    periods = set()
    for first, last in spans:
        first_day, last_day = _local_day(first, tz), _local_day(last, tz)
        periods |= {
            (k, p, part) for k in KINDS for p in periods_overlapping(k, first_day, last_day)
        }
    return _log(periods)


def _log(entries: Iterable[tuple[str, date, str]]) -> int:
    entries = sorted(set(entries))
    if not entries:
        return 0
    now = timezone.now()
    FunnelChange.objects.bulk_create(
        [
            FunnelChange(period=k, period_start=p, part=part, marked_at=now)
            for k, p, part in entries
        ],
        update_conflicts=True,
        unique_fields=["period", "period_start", "part"],
        update_fields=["marked_at"],
        batch_size=500,
    )
    # robust: the write has committed, so its answer is a success whatever the recompute it
    # asks for does (an outage of the database or the broker is logged; the periods stay in
    # the change log for the next run or the sweep).
    transaction.on_commit(lambda: funnel_change_committed.send(sender=FunnelChange), robust=True)
    return len(entries)


def funnel_leads_changed(*, lead_ids: Iterable[int], chunk: int = 2000) -> None:
    """Log every period these leads' records fall in, for a change that moves none of them (a
    campaign's new channel is a dimension of all of its leads' numbers)."""
    ids = sorted(set(lead_ids))
    for start in range(0, len(ids), chunk):
        funnel_activity_changed(activity=lead_activity(lead_ids=ids[start : start + chunk]))


def funnel_deadlines_passed(*, since: datetime, until: datetime) -> int:
    """Log the handoff days whose numbers changed with time alone: a first-contact or cadence
    deadline in (since, until] makes its handoff count in the SLA rates. Returns days logged."""
    tz = ZoneInfo(settings.TIME_ZONE)
    passed = Q(first_contact_due_at__gt=since, first_contact_due_at__lte=until) | Q(
        cadence_due_at__gt=since, cadence_due_at__lte=until
    )
    days = (
        Handoff.objects.filter(passed)
        .annotate(d=TruncDate("handed_at", tzinfo=tz))
        .values_list("d", flat=True)
        .distinct()
        .order_by()
    )
    return funnel_changed(instants=list(days), part="handoffs")


@contextmanager
def funnel_horizon_followed() -> Iterator[None]:
    """Log the periods the write inside brings into the computed range (a campaign that ends
    later moves the horizon): an open deal is in the pipeline of each of them."""
    before = funnel_horizon()
    yield
    after = funnel_horizon()
    if after > before:
        funnel_periods_changed(spans=[(before + timedelta(days=1), after)])


def funnel_changes() -> list[FunnelChange]:
    """The logged days and periods not yet recomputed, by kind and start."""
    return list(FunnelChange.objects.order_by("period", "period_start"))


def funnel_changes_clear(*, changes: Sequence[FunnelChange]) -> int:
    """Clear entries that were recomputed (or set aside); one logged again meanwhile (a later
    `marked_at`) stays, so the change that came during the recompute is not lost. Returns how
    many were cleared."""
    cleared = 0
    for change in changes:
        found = FunnelChange.objects.filter(pk=change.pk, marked_at__lte=change.marked_at)
        cleared += found.delete()[0]
    return cleared

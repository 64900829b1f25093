"""Writes of the KPI app: recomputes of the periods the funnel logged as changed, and full
recompute jobs."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Min
from django.utils import timezone

from core.periods import KINDS, periods_overlapping, unit_periods
from kpis.engine import compute
from kpis.models import KpiSnapshot, RecomputeJob
from kpis.versions import kpis_snapshots_changed
from leads.changes import funnel_changes, funnel_changes_clear
from leads.models import Campaign, Deal, FunnelChange, Handoff, Lead
from leads.selectors import funnel_data_end

log = logging.getLogger(__name__)
DEBOUNCE_SECONDS = 5


# --- the funnel's change log ---------------------------------------------------------------


def kpis_schedule_dirty_recompute() -> None:
    """Queue one recompute of the changed periods, at most one per debounce window (after a
    write that logged changes commits: `leads.changes.funnel_change_committed`)."""
    from kpis.tasks import kpis_recompute_dirty_task

    if settings.CELERY_TASK_ALWAYS_EAGER:
        kpis_recompute_dirty_task.delay()
        return
    if cache.add("kpis:dirty-recompute-queued", True, timeout=DEBOUNCE_SECONDS):
        try:
            kpis_recompute_dirty_task.apply_async(countdown=DEBOUNCE_SECONDS)
        except Exception:  # the broker is down: the beat sweep will pick the periods up
            log.warning("Could not queue the KPI recompute; the sweep will do it.", exc_info=True)


def kpis_recompute_dirty() -> int:
    """Recompute every period in the funnel's change log; one logged again meanwhile stays."""
    changes = funnel_changes()
    by_kind: dict[str, list[FunnelChange]] = {}
    for change in changes:
        by_kind.setdefault(change.period, []).append(change)
    for kind, rows in by_kind.items():
        kpis_recompute(kind=kind, periods=[r.period_start for r in rows])
        funnel_changes_clear(changes=rows)
    return len(changes)


# --- recompute ------------------------------------------------------------------------------


def kpis_recompute(*, kind: str, periods: Iterable[date], now: datetime | None = None) -> int:
    """Compute these periods, then swap their snapshots in one transaction. Returns rows written.

    Computing happens before the transaction: if it fails, the previous snapshots stay.
    """
    periods = sorted(set(periods))
    if not periods:
        return 0
    computed_at = now or timezone.now()
    rows = [
        KpiSnapshot(
            metric=v.metric,
            period=kind,
            period_start=v.period_start,
            dimension=v.dimension,
            key=v.key,
            model=v.model,
            value=v.value,
            numerator=v.numerator,
            denominator=v.denominator,
            computed_at=computed_at,
        )
        for v in compute(kind=kind, periods=periods, now=computed_at)
    ]
    with transaction.atomic():
        KpiSnapshot.objects.filter(period=kind, period_start__in=periods).delete()
        KpiSnapshot.objects.bulk_create(rows, batch_size=2000)
        kpis_snapshots_changed()  # last in the swap's transaction: the page cache follows
    return len(rows)


def kpis_recompute_unit(*, kind: str, month: date) -> int:
    """Recompute the periods of `kind` that start in `month` (one fan-out unit)."""
    return kpis_recompute(kind=kind, periods=unit_periods(kind, month))


def _data_start() -> date:
    """The first day any input exists (today if there is none)."""
    tz = ZoneInfo(settings.TIME_ZONE)
    candidates = [
        Lead.objects.aggregate(m=Min("created_at"))["m"],
        Handoff.objects.aggregate(m=Min("handed_at"))["m"],
        Deal.objects.aggregate(m=Min("created_at"))["m"],
    ]
    days = [c.astimezone(tz).date() for c in candidates if c is not None]
    first_campaign = Campaign.objects.aggregate(m=Min("starts_on"))["m"]
    if first_campaign:
        days.append(first_campaign)
    return min(days) if days else timezone.localdate()


def recompute_units(
    *, since: date | None = None, until: date | None = None
) -> list[tuple[str, date]]:
    """The (period kind, month) units of a full recompute, oldest first: every unit owning a
    period of any kind that holds a day of [first, last]. A quarter or a week holding `first`
    may start one or more months before it (data from 2 December needs the quarter of
    1 October and the week of 1 December)."""
    first = since or _data_start()
    last = until or funnel_data_end()
    units = {
        (kind, start.replace(day=1))
        for kind in KINDS
        for start in periods_overlapping(kind, first, last)
    }
    return sorted(units, key=lambda unit: (unit[1], KINDS.index(unit[0])))


def recompute_job_start(
    *, by: object | None = None, since: date | None = None, fan_out: bool = True
) -> RecomputeJob:
    """Create a full-recompute job and fan it out, one Celery task per (period kind, month).

    With `fan_out=False` the caller runs the units itself (`recompute_job_run`).
    """
    from kpis.tasks import kpis_recompute_unit_task

    units = recompute_units(since=since)
    job = RecomputeJob.objects.create(
        requested_by=by if getattr(by, "pk", None) else None,
        since=since or _data_start(),  # recompute_job_run derives the same units from it
        until=funnel_data_end(),
        total_units=len(units),
        status=RecomputeJob.Status.RUNNING if units else RecomputeJob.Status.DONE,
        finished_at=None if units else timezone.now(),
    )

    def dispatch() -> None:
        for kind, month in units:
            kpis_recompute_unit_task.delay(str(job.pk), kind, month.isoformat())

    if fan_out:
        transaction.on_commit(dispatch)
    return job


def recompute_job_run(*, job: RecomputeJob, on_unit: Callable[[], None] = lambda: None) -> None:
    """Run a job's units in this process, one after the other (the embedded mode)."""
    for kind, month in recompute_units(since=job.since, until=job.until):
        try:
            kpis_recompute_unit(kind=kind, month=month)
        except Exception as exc:
            recompute_job_unit_done(job_id=str(job.pk), failed=True, error=f"{kind} {month}: {exc}")
        else:
            recompute_job_unit_done(job_id=str(job.pk))
        on_unit()
    job.refresh_from_db()


def recompute_job_unit_done(*, job_id: str, failed: bool = False, error: str = "") -> None:
    """Count one finished unit; the last one closes the job."""
    field = "failed_units" if failed else "done_units"
    with transaction.atomic():
        RecomputeJob.objects.filter(pk=job_id).update(**{field: F(field) + 1})
        if error:
            RecomputeJob.objects.filter(pk=job_id, error="").update(error=error[:2000])
        job = RecomputeJob.objects.select_for_update().get(pk=job_id)
        if job.done_units + job.failed_units >= job.total_units and job.finished_at is None:
            job.status = (
                RecomputeJob.Status.FAILED if job.failed_units else RecomputeJob.Status.DONE
            )
            job.finished_at = timezone.now()
            job.save(update_fields=["status", "finished_at"])

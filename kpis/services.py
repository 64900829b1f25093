"""Writes of the KPI app: recomputes of the periods the funnel logged as changed, and full
recompute jobs."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Min
from django.utils import timezone

from config.db import rows_sync
from config.queue import enqueue
from core.periods import (
    KINDS,
    months_between,
    next_period,
    period_start,
    periods_overlapping,
)
from kpis.engine import (
    Value_,
    compute,
    days_refresh,
    metrics_moved,
    periods_compute,
    six_places,
)
from kpis.models import EngineMark, KpiSnapshot, RecomputeJob
from kpis.versions import kpis_snapshots_changed
from leads.changes import (
    DAY,
    funnel_changes,
    funnel_changes_clear,
    funnel_deadlines_passed,
)
from leads.models import Campaign, Deal, Handoff, Lead
from leads.selectors import funnel_data_end, funnel_horizon

log = logging.getLogger(__name__)
DEBOUNCE_SECONDS = 1  # a burst of writes makes one run; the numbers are a second behind


# --- the funnel's change log ---------------------------------------------------------------


def kpis_schedule_dirty_recompute() -> None:
    """Queue one recompute of the changed periods, at most one per debounce window (after a
    write that logged changes commits: `leads.changes.funnel_change_committed`)."""
    from kpis.tasks import kpis_recompute_dirty_task

    if _recomputing.get():
        return  # logged by the recompute running here, which reads the log after logging
    if settings.CELERY_TASK_ALWAYS_EAGER:
        kpis_recompute_dirty_task.delay()
        return
    if cache.add("kpis:dirty-recompute-queued", True, timeout=DEBOUNCE_SECONDS):
        # The broker down, the beat sweep picks the periods up from the change log.
        enqueue(kpis_recompute_dirty_task, countdown=DEBOUNCE_SECONDS)


def kpis_recompute_dirty(*, now: datetime | None = None) -> int:
    """Recompute what the funnel's change log holds; an entry logged again meanwhile stays.

    A logged day is recomputed into the daily partials; each of its metrics that changed is
    re-added in the week, month and quarter holding the day (and what is derived from it); a
    changed day of the open pipeline moves every later period's. A logged period (its
    agreements changed) is recomputed whole from its stored days.
    """
    token = _recomputing.set(True)
    try:
        return _recompute_dirty(now=now or timezone.now())
    finally:
        _recomputing.reset(token)


#: What each agreement a whole period's log entry names sets (the rest: the whole period).
AGREEMENT_METRICS: dict[str, frozenset[str]] = {
    "goals": frozenset({"goal_attainment", "scorecard_attainment", "forecast_accuracy"}),
    "sla": frozenset({"marketing_sla_attainment"}),
    # A goal may target these two: the goals and the scorecard move with them.
    "meetings": frozenset({"joint_meetings_per_week", "goal_attainment", "scorecard_attainment"}),
    "insights": frozenset(
        {"insight_answer_median_days", "goal_attainment", "scorecard_attainment"}
    ),
}

_recomputing: ContextVar[bool] = ContextVar("kpis_recomputing", default=False)


def _recompute_dirty(*, now: datetime) -> int:
    if EngineMark.objects.filter(name="rebuild").delete()[0]:
        # Snapshots from before the daily partials (migration 0004): build the days in full.
        recompute_job_start()
        return 0
    _time_passed(now=now)
    changes = funnel_changes()
    if not changes:
        return 0
    parts: dict[str, set[date]] = defaultdict(set)
    for change in changes:
        if change.period == DAY:
            parts[change.part].add(change.period_start)
    changed = days_refresh(days=parts.pop("", ()), parts=parts, now=now)
    work: dict[str, dict[date, set[str] | None]] = {kind: {} for kind in KINDS}
    moved_by = {metric: metrics_moved({metric}) for metric in {m for m, _ in changed}}
    for metric, day in changed:
        if metric != "_pipeline":
            for kind in KINDS:
                work[kind].setdefault(period_start(kind, day), set()).update(moved_by[metric])
    # A change of the open pipeline moves the level at the end of every later period.
    if pipeline_days := [day for metric, day in changed if metric == "_pipeline"]:
        horizon = funnel_horizon()
        for kind in KINDS:
            for start in periods_overlapping(kind, min(pipeline_days), horizon):
                work[kind].setdefault(start, set()).update(moved_by["_pipeline"])
    for change in changes:
        if change.period in KINDS:
            found = work[change.period].setdefault(change.period_start, set())
            moved = AGREEMENT_METRICS.get(change.part)
            if found is None or moved is None:
                work[change.period][change.period_start] = None  # the whole period
            else:
                found |= moved
    for kind, periods in work.items():
        by_metrics: dict[frozenset[str] | None, list[date]] = defaultdict(list)
        for start, metrics in periods.items():
            by_metrics[None if metrics is None else frozenset(metrics)].append(start)
        for metrics, starts in by_metrics.items():
            _snapshots_write(kind=kind, periods=starts, metrics=metrics, now=now)
    funnel_changes_clear(changes=changes)
    return len(changes)


def _time_passed(*, now: datetime) -> None:
    """Log what changed with time alone since the last run: the handoffs whose SLA deadlines
    passed now count in the SLA rates. (Goal attainments are the values so far, whatever the
    hour; a nightly full recompute stays as a safety net.)"""
    with transaction.atomic():
        swept = EngineMark.objects.select_for_update().filter(name="deadlines").first()
        if swept is not None and swept.at >= now:
            return
        if swept is not None:
            funnel_deadlines_passed(since=swept.at, until=now)
        EngineMark.objects.update_or_create(name="deadlines", defaults={"at": now})


# --- recompute ------------------------------------------------------------------------------


def kpis_recompute(*, kind: str, periods: Iterable[date], now: datetime | None = None) -> int:
    """Compute these periods in full (their days first), then swap their snapshots in one
    transaction. Returns rows written. Computing happens before the transaction: if it fails,
    the previous snapshots stay."""
    periods = sorted(set(periods))
    if not periods:
        return 0
    now = now or timezone.now()
    return _snapshots_write(
        kind=kind, periods=periods, values=compute(kind=kind, periods=periods, now=now), now=now
    )


def _snapshots_write(
    *,
    kind: str,
    periods: Sequence[date],
    now: datetime,
    metrics: Iterable[str] | None = None,
    values: Sequence[Value_] | None = None,
) -> int:
    """Compute (unless given) these periods' values of `metrics` (all by default) from the
    stored days and write the snapshots that differ, in one transaction. Returns rows written."""
    if not periods:
        return 0
    if values is None:
        values = periods_compute(kind=kind, periods=periods, now=now, metrics=metrics)
    existing = KpiSnapshot.objects.filter(period=kind, period_start__in=periods)
    if metrics is not None:
        existing = existing.filter(metric__in=sorted(metrics))
    stored = {
        row[1:6]: (row[0], row[6:])
        for row in existing.values_list(
            "id",
            "metric",
            "period_start",
            "dimension",
            "key",
            "model",
            "value",
            "numerator",
            "denominator",
        ).iterator(chunk_size=5000)
    }
    rows = []
    seen = set()
    for v in values:
        key = (v.metric, v.period_start, v.dimension, v.key, v.model)
        seen.add(key)
        before = stored.get(key)
        if before is not None and before[1] == tuple(
            map(six_places, (v.value, v.numerator, v.denominator))
        ):
            continue
        rows.append(
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
                computed_at=now,
            )
        )
    gone = [pk for key, (pk, _) in stored.items() if key not in seen]
    with transaction.atomic():
        rows_sync(
            KpiSnapshot,
            gone=gone,
            rows=rows,
            unique_fields=["metric", "period", "period_start", "dimension", "key", "model"],
            update_fields=["value", "numerator", "denominator", "computed_at"],
        )
        if rows or gone:
            kpis_snapshots_changed()  # in the swap's transaction: the page cache follows
    return len(rows)


def kpis_recompute_unit(
    *,
    kind: str,
    month: date,
    since: date | None = None,
    until: date | None = None,
    job_id: str | None = None,
    now: datetime | None = None,
) -> int:
    """One fan-out unit of a full recompute: the days of `month` into the daily partials
    (kind "day"); or, from the stored days, the periods of `kind` starting in the year of
    `month` that hold a day of [since, until] (the job's range with `job_id`; every period of
    that year without either)."""
    now = now or timezone.now()
    if job_id is not None:
        since, until = RecomputeJob.objects.values_list("since", "until").get(pk=job_id)
    if kind == DAY:
        last = next_period("month", month) - timedelta(days=1)
        days_refresh(days=[month + timedelta(days=n) for n in range(last.day)], now=now)
        return 0
    year = month.replace(month=1, day=1)
    first = max(since or year, year - timedelta(days=6))  # a week starting in December
    periods = [
        start
        for start in periods_overlapping(kind, first, until or date(year.year, 12, 31))
        if start.year == year.year
    ]
    return _snapshots_write(kind=kind, periods=periods, now=now)


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
    """The units of a full recompute: first the days of every month (kind "day"), then each
    (period kind, year) owning a period of any kind that holds a day of [first, last], oldest
    first. A quarter or a week holding `first` may start one or more months before it (data
    from 2 December needs the quarter of 1 October and the week of 1 December), so the days
    start from the first of those months."""
    first = since or _data_start()
    last = until or funnel_data_end()
    starts = [(kind, start) for kind in KINDS for start in periods_overlapping(kind, first, last)]
    if not starts:
        return []
    months = months_between(min(start for _, start in starts).replace(day=1), last)
    years = {(kind, date(start.year, 1, 1)) for kind, start in starts}
    periods = sorted(years, key=lambda unit: (unit[1], KINDS.index(unit[0])))
    return [(DAY, month) for month in months] + periods


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
        fan_out=fan_out,
        finished_at=None if units else timezone.now(),
    )

    def dispatch() -> None:  # the days first: the periods are sums of them
        for kind, month in units:
            if kind == DAY:
                enqueue(kpis_recompute_unit_task, str(job.pk), kind, month.isoformat())

    if fan_out:
        transaction.on_commit(dispatch)
    return job


def recompute_job_run(*, job: RecomputeJob, on_unit: Callable[[], None] = lambda: None) -> None:
    """Run a job's units in this process, one after the other (the embedded mode)."""
    for kind, month in recompute_units(since=job.since, until=job.until):
        try:
            kpis_recompute_unit(kind=kind, month=month, since=job.since, until=job.until)
        except Exception as exc:
            recompute_job_unit_done(job_id=str(job.pk), failed=True, error=f"{kind} {month}: {exc}")
        else:
            recompute_job_unit_done(job_id=str(job.pk))
        on_unit()
    job.refresh_from_db()


def recompute_job_unit_done(*, job_id: str, failed: bool = False, error: str = "") -> None:
    """Count one finished unit; the last unit of days queues the units of periods, and the
    last unit closes the job."""
    from kpis.tasks import kpis_recompute_unit_task

    field = "failed_units" if failed else "done_units"
    with transaction.atomic():
        RecomputeJob.objects.filter(pk=job_id).update(**{field: F(field) + 1})
        if error:
            RecomputeJob.objects.filter(pk=job_id, error="").update(error=error[:2000])
        job = RecomputeJob.objects.select_for_update().get(pk=job_id)
        finished = job.done_units + job.failed_units
        units = recompute_units(since=job.since, until=job.until)
        days = sum(1 for kind, _ in units if kind == DAY)
        if finished == days and job.fan_out:

            def dispatch() -> None:
                for kind, month in units[days:]:
                    enqueue(kpis_recompute_unit_task, job_id, kind, month.isoformat())

            transaction.on_commit(dispatch)
        if finished >= job.total_units and job.finished_at is None:
            job.status = (
                RecomputeJob.Status.FAILED if job.failed_units else RecomputeJob.Status.DONE
            )
            job.finished_at = timezone.now()
            job.save(update_fields=["status", "finished_at"])

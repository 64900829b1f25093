"""Writes of the KPI app: recomputes of the periods the funnel logged as changed, and full
recompute jobs (in units, each swapping its snapshots in one transaction; a job whose process
died is seen as dead and retried from the units it had not done)."""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError, connections, transaction
from django.db.models import Count, Min, Q
from django.utils import timezone

from config.api import date_in_range_problem
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
from kpis.models import ChangeSetAside, EngineMark, KpiSnapshot, RecomputeJob, RecomputeUnit
from kpis.versions import kpis_snapshots_changed
from leads.changes import (
    DAY,
    funnel_changes,
    funnel_changes_clear,
    funnel_deadlines_passed,
)
from leads.models import Campaign, Deal, FunnelChange, Handoff, Lead
from leads.selectors import funnel_data_end, funnel_horizon

log = logging.getLogger(__name__)
DEBOUNCE_SECONDS = 1  # a burst of writes makes one run; the numbers are a second behind
#: Errors of the database itself (gone, locked, a deadlock): a run that meets one is retried
#: whole, never taken as the fault of what it was recomputing.
TRANSIENT = (OperationalError, InterfaceError)


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


@dataclass(frozen=True)
class DirtyRun:
    """What a run over the change log did: how many entries it recomputed (and cleared), and
    the entries it could not recompute, each with its error ("day 9999-12-31 leads: …"), set
    aside so that they block no other (`ChangeSetAside`)."""

    recomputed: int = 0
    failed: tuple[str, ...] = ()


def kpis_recompute_dirty(*, now: datetime | None = None) -> DirtyRun:
    """Recompute what the funnel's change log holds; an entry logged again meanwhile stays.

    A logged day is recomputed into the daily partials; each of its metrics that changed is
    re-added in the week, month and quarter holding the day (and what is derived from it); a
    changed day of the open pipeline moves every later period's. A logged period (its
    agreements changed) is recomputed whole from its stored days.

    One bad entry blocks no other: an entry dated outside DATE_MIN_YEAR..DATE_MAX_YEAR is set
    aside at once, and when a batch fails its halves are run again until the entry that fails
    is alone; each is taken out of the log into `ChangeSetAside` with its error, logged at
    ERROR, returned in `failed` and listed to managers on the dashboard. A database error (the
    server is away) is raised: everything stays in the log.
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


#: Set while a run over the change log works, cleared when it ends: found set at the start of
#: a run, the one before died (killed) after writing days whose periods it had not re-added.
_RUNNING_MARK = "dirty-run"


def _recompute_dirty(*, now: datetime) -> DirtyRun:
    if EngineMark.objects.filter(name="rebuild").delete()[0]:
        # Snapshots from before the daily partials (migration 0004): build the days in full.
        recompute_job_start()
        return DirtyRun()
    _time_passed(now=now)
    changes = funnel_changes()
    if not changes:
        return DirtyRun()
    died = EngineMark.objects.filter(name=_RUNNING_MARK).exists()
    EngineMark.objects.update_or_create(name=_RUNNING_MARK, defaults={"at": now})
    failed: list[tuple[FunnelChange, str]] = []
    good = []
    for change in changes:
        if problem := date_in_range_problem(change.period_start):
            failed.append((change, problem))
        else:
            good.append(change)
    recomputed, failures = _changes_recompute(good, now=now, whole=died)
    failed += failures
    EngineMark.objects.filter(name=_RUNNING_MARK).delete()
    said = []
    for change, error in failed:
        if _set_aside(change, error=error, now=now):
            said.append(f"{change}: {error}")
            log.error("Could not recompute the logged %s; it is set aside: %s", change, error)
    return DirtyRun(recomputed=recomputed, failed=tuple(said))


def _set_aside(change: FunnelChange, *, error: str, now: datetime) -> bool:
    """Take an entry that failed out of the change log, keeping it with its error; False when
    it was logged again meanwhile (it stays in the log, to be tried again)."""
    with transaction.atomic():
        if not funnel_changes_clear(changes=[change]):
            return False
        ChangeSetAside.objects.update_or_create(
            period=change.period,
            period_start=change.period_start,
            part=change.part,
            defaults={"error": error[:2000] or "failed", "failed_at": now},
        )
    return True


def _set_aside_recomputed(changes: Sequence[FunnelChange]) -> None:
    """Clear what was set aside of these entries: logged again, they recomputed now."""
    aside = ChangeSetAside.objects.values_list("pk", "period", "period_start", "part")
    keys = {(c.period, c.period_start, c.part) for c in changes}
    if done := [pk for pk, *key in aside if tuple(key) in keys]:
        ChangeSetAside.objects.filter(pk__in=done).delete()


def _changes_recompute(
    changes: Sequence[FunnelChange], *, now: datetime, whole: bool
) -> tuple[int, list[tuple[FunnelChange, str]]]:
    """Recompute and clear `changes`; when that fails, each half again, down to the entries
    that fail alone. Returns how many were recomputed, and those that failed with the error."""
    if not changes:
        return 0, []
    try:
        _changes_apply(changes, now=now, whole=whole)
    except TRANSIENT:
        raise  # the database, not the entries: they all stay for the next run
    except Exception as exc:
        if len(changes) == 1:
            return 0, [(changes[0], f"{type(exc).__name__}: {exc}")]
        # What the failed batch wrote of the days stays, so that the halves find those days
        # unchanged: they recompute the days' periods whole instead of what changed.
        half = len(changes) // 2
        first, first_failed = _changes_recompute(changes[:half], now=now, whole=True)
        second, second_failed = _changes_recompute(changes[half:], now=now, whole=True)
        return first + second, first_failed + second_failed
    funnel_changes_clear(changes=changes)
    _set_aside_recomputed(changes)
    return len(changes), []


def _changes_apply(changes: Sequence[FunnelChange], *, now: datetime, whole: bool) -> None:
    """Recompute what these entries changed. `whole`: the days may have been written by a run
    that did not finish, so each logged day's periods are recomputed whole (and its open
    pipeline in every later period), not only the metrics found changed."""
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
    logged_days = sorted({c.period_start for c in changes if c.period == DAY})
    if whole:
        changed |= {("_pipeline", day) for day in logged_days}
        moved_by.setdefault("_pipeline", metrics_moved({"_pipeline"}))
    # A change of the open pipeline moves the level at the end of every later period.
    if pipeline_days := [day for metric, day in changed if metric == "_pipeline"]:
        horizon = funnel_horizon()
        for kind in KINDS:
            for start in periods_overlapping(kind, min(pipeline_days), horizon):
                work[kind].setdefault(start, set()).update(moved_by["_pipeline"])
    if whole:
        for day in logged_days:
            for kind in KINDS:
                work[kind][period_start(kind, day)] = None
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


def recompute_range(*, since: date | None = None) -> tuple[date, date]:
    """The days a full recompute covers: from `since` (by default the first day with data) to
    the funnel's last day, going back at most RECOMPUTE_MAX_YEARS from it and never before
    DATE_MIN_YEAR. A `since` outside those bounds, or after the last day, is refused (a
    ValidationError on "since"); the default starts at the bound, whatever old data there is."""
    until = funnel_data_end()
    years = settings.RECOMPUTE_MAX_YEARS
    earliest = max(
        date(settings.DATE_MIN_YEAR, 1, 1),
        date(max(until.year - years, 1), until.month, 1),
    )
    if since is None:
        return max(_data_start(), earliest), until
    if problem := date_in_range_problem(since):
        raise ValidationError({"since": problem})
    if since < earliest:
        raise ValidationError(
            {
                "since": f"A recompute goes back at most {years} years (RECOMPUTE_MAX_YEARS): "
                f"start on {earliest:%Y-%m-%d} or later."
            }
        )
    if since > until:
        raise ValidationError(
            {"since": f"Nothing to recompute after {until:%Y-%m-%d}, the funnel's last day."}
        )
    return since, until


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


# --- full recompute jobs -----------------------------------------------------------------------

JOB_THREAD_NAME = "kpis-recompute-job"
_Unit = RecomputeUnit.Status
_Job = RecomputeJob.Status


def _in_a_thread() -> bool:
    """Without a broker (the embedded default), a job's units run in a thread of the process
    that queued it, as imports do; under the test settings, in the caller (eager tasks)."""
    return settings.CELERY_TASK_ALWAYS_EAGER and settings.KPI_RECOMPUTE_IN_BACKGROUND


def recompute_job_start(
    *, by: object | None = None, since: date | None = None, fan_out: bool = True
) -> RecomputeJob:
    """Create a full-recompute job for `recompute_range(since=since)` (a `since` out of bounds
    is a ValidationError: nothing is created) with its units, and hand it on after commit: one
    Celery task per unit, the days first (`recompute_job_dispatch`); without a broker, a thread
    of this process that runs them in order. The caller only queues: nothing is computed here.

    With `fan_out=False` the caller runs the units itself (`recompute_job_run`).
    """
    first, last = recompute_range(since=since)
    units = recompute_units(since=first, until=last)
    now = timezone.now()
    with transaction.atomic():
        job = RecomputeJob.objects.create(
            requested_by=by if getattr(by, "pk", None) else None,
            since=first,
            until=last,
            total_units=len(units),
            status=_Job.RUNNING if units else _Job.DONE,
            fan_out=fan_out and not _in_a_thread(),
            heartbeat_at=now,
            finished_at=None if units else now,
        )
        RecomputeUnit.objects.bulk_create(
            [
                RecomputeUnit(job=job, position=n, kind=kind, month=month)
                for n, (kind, month) in enumerate(units)
            ],
            batch_size=1000,
        )
    if fan_out and units:
        _dispatch_on_commit(job)
    return job


def _dispatch_on_commit(job: RecomputeJob) -> None:
    job_id = str(job.pk)
    transaction.on_commit(lambda: recompute_job_dispatch(job_id=job_id))


def recompute_job_dispatch(*, job_id: str) -> None:
    """Hand a running job's pending units on: to Celery, the units of days first (the one that
    finishes the days queues the units of periods, which are sums of them); without a broker,
    to a thread that runs them in order. A broker that cannot be reached fails the job with
    the reason, to be retried."""
    from kpis.tasks import kpis_recompute_unit_task

    job = RecomputeJob.objects.get(pk=job_id)
    if not job.fan_out:
        # Not a daemon: a management command's process waits for its recompute.
        threading.Thread(target=_run_in_thread, args=(job,), name=JOB_THREAD_NAME).start()
        return
    pending = list(job.units.filter(status=_Unit.PENDING).values_list("kind", "month"))
    days = [unit for unit in pending if unit[0] == DAY]
    for kind, month in days or pending:
        if not enqueue(kpis_recompute_unit_task, job_id, kind, month.isoformat()):
            recompute_job_fail(
                job_id=job_id, error="Could not queue its units: the broker can't be reached."
            )
            return


def _run_in_thread(job: RecomputeJob) -> None:
    try:
        recompute_job_run(job=job)
    except Exception as exc:
        log.exception("The recompute %s failed.", job.pk)
        recompute_job_fail(job_id=str(job.pk), error=str(exc) or type(exc).__name__)
    finally:
        connections.close_all()  # this thread's own connections


def recompute_job_run(*, job: RecomputeJob, on_unit: Callable[[], None] = lambda: None) -> None:
    """Run a job's pending units in this process, one after the other (the embedded mode and
    `manage.py recompute_kpis`), each counted as it finishes: a process killed midway leaves
    the units it finished done, and a retry runs the rest."""
    job_id = str(job.pk)
    for unit in list(job.units.filter(status=_Unit.PENDING).order_by("position")):
        if recompute_job_unit_begin(job_id=job_id, kind=unit.kind, month=unit.month):
            try:
                kpis_recompute_unit(kind=unit.kind, month=unit.month, job_id=job_id)
            except TRANSIENT:
                raise  # the database is away: the unit stays pending (the job fails or dies)
            except Exception as exc:
                error = f"{unit.kind} {unit.month}: {exc}"
                recompute_job_unit_done(
                    job_id=job_id, kind=unit.kind, month=unit.month, failed=True, error=error
                )
            else:
                recompute_job_unit_done(job_id=job_id, kind=unit.kind, month=unit.month)
        on_unit()
    job.refresh_from_db()


def recompute_job_unit_begin(
    *, job_id: str, kind: str, month: date, now: datetime | None = None
) -> bool:
    """Whether a unit is still to run (pending, and its job running); if so the job's
    heartbeat is now. A unit done already (a task delivered twice) or of a job that ended
    meanwhile is skipped."""
    pending = RecomputeUnit.objects.filter(
        job_id=job_id, kind=kind, month=month, status=_Unit.PENDING, job__status=_Job.RUNNING
    )
    if not pending.exists():
        return False
    RecomputeJob.objects.filter(pk=job_id).update(heartbeat_at=now or timezone.now())
    return True


def recompute_job_unit_done(
    *, job_id: str, kind: str, month: date, failed: bool = False, error: str = ""
) -> None:
    """Count a finished unit (once, however often it is reported): the one that finishes the
    days queues the units of periods, and the last one closes the job (a job seen as dead
    whose units all came in after all is closed too)."""
    now = timezone.now()
    with transaction.atomic():
        job = RecomputeJob.objects.select_for_update().get(pk=job_id)
        marked = job.units.filter(kind=kind, month=month, status=_Unit.PENDING).update(
            status=_Unit.FAILED if failed else _Unit.DONE, error=error[:2000]
        )
        if not marked:
            return
        counts = _unit_counts(job)
        job.done_units, job.failed_units = counts[_Unit.DONE], counts[_Unit.FAILED]
        job.heartbeat_at = now
        if error and not job.error:
            job.error = error[:2000]
        fields = ["done_units", "failed_units", "heartbeat_at", "error"]
        if not counts[_Unit.PENDING]:
            fields += _finish(job, now=now)
        elif (
            job.status == _Job.RUNNING
            and job.fan_out
            and kind == DAY
            and not job.units.filter(kind=DAY, status=_Unit.PENDING).exists()
        ):
            _dispatch_on_commit(job)  # the days are in: their periods next
        job.save(update_fields=fields)


def _unit_counts(job: RecomputeJob) -> dict[str, int]:
    counts = dict(job.units.order_by().values_list("status").annotate(n=Count("pk")))
    return {status: counts.get(status, 0) for status in _Unit.values}


def _finish(job: RecomputeJob, *, now: datetime) -> list[str]:
    """Close a job whose units all finished; a full recompute that succeeded also clears the
    change log's entries set aside in its range (it has just recomputed them)."""
    job.status = _Job.FAILED if job.failed_units else _Job.DONE
    job.finished_at = now
    if job.status == _Job.DONE:
        ChangeSetAside.objects.filter(period_start__range=(job.since, job.until)).delete()
    return ["status", "finished_at"]


def recompute_job_fail(*, job_id: str, error: str) -> None:
    """Mark a running job failed with the reason (its process could not go on); it can be
    retried from the units it had not done."""
    RecomputeJob.objects.filter(pk=job_id, status=_Job.RUNNING).update(
        status=_Job.FAILED, error=error[:2000], finished_at=timezone.now()
    )


def recompute_job_is_dead(job: RecomputeJob, now: datetime | None = None) -> bool:
    """Marked dead, or running with none of its units started or finished for
    RECOMPUTE_DEAD_AFTER_SECONDS: whatever ran it (a worker, a thread, a command) died."""
    if job.status == _Job.DEAD:
        return True
    if job.status != _Job.RUNNING:
        return False
    last = job.heartbeat_at or job.created_at
    return last < (now or timezone.now()) - timedelta(seconds=settings.RECOMPUTE_DEAD_AFTER_SECONDS)


def recompute_job_status(job: RecomputeJob, now: datetime | None = None) -> str:
    """The status to show: "dead" for a job that died, even before the sweep marks it."""
    return _Job.DEAD if recompute_job_is_dead(job, now) else job.status


def recompute_jobs_dead_mark(*, now: datetime | None = None) -> int:
    """Mark the running jobs that died as dead (the beat, every minute), so that none stays
    running for ever. Returns how many; each is logged."""
    now = now or timezone.now()
    silent = now - timedelta(seconds=settings.RECOMPUTE_DEAD_AFTER_SECONDS)
    candidates = RecomputeJob.objects.filter(status=_Job.RUNNING).filter(
        Q(heartbeat_at__lt=silent) | Q(heartbeat_at__isnull=True, created_at__lt=silent)
    )
    marked = 0
    for job_id in candidates.values_list("pk", flat=True):
        with transaction.atomic():
            job = RecomputeJob.objects.select_for_update().get(pk=job_id)
            if job.status != _Job.RUNNING or not recompute_job_is_dead(job, now):
                continue
            job.status, job.finished_at = _Job.DEAD, now
            job.save(update_fields=["status", "finished_at"])
        marked += 1
        log.warning(
            "Recompute %s died: no unit moved since %s; %s of %s units done. Retry it.",
            job.pk, job.heartbeat_at, job.done_units, job.total_units,
        )  # fmt: skip
    return marked


def recompute_job_retry(
    *, job: RecomputeJob, now: datetime | None = None, queue: bool = True
) -> RecomputeJob:
    """Run a job that failed or died again, from the units it had not done (the failed and
    the pending ones; those done stay done), handed on after commit as a new job is
    (`queue=False`: the caller runs `recompute_job_run`). A job still running is refused, and
    one that finished: a ValidationError."""
    now = now or timezone.now()
    with transaction.atomic():
        job = RecomputeJob.objects.select_for_update().get(pk=job.pk)
        if job.status == _Job.RUNNING and not recompute_job_is_dead(job, now):
            raise ValidationError(
                "This recompute is running: wait for it to finish, or until it is seen as dead."
            )
        if job.status == _Job.DONE:
            raise ValidationError("This recompute is done: start a new one instead.")
        if not job.units.exists():  # a job from before the units were kept: all of it again
            first, last = recompute_range(since=job.since)
            units = recompute_units(since=first, until=last)
            RecomputeUnit.objects.bulk_create(
                [
                    RecomputeUnit(job=job, position=n, kind=kind, month=month)
                    for n, (kind, month) in enumerate(units)
                ],
                batch_size=1000,
            )
            job.since, job.until, job.total_units = first, last, len(units)
        job.units.filter(status=_Unit.FAILED).update(status=_Unit.PENDING, error="")
        counts = _unit_counts(job)
        job.done_units, job.failed_units = counts[_Unit.DONE], 0
        job.status, job.error, job.finished_at, job.heartbeat_at = _Job.RUNNING, "", None, now
        job.fan_out = queue and not _in_a_thread()
        if not counts[_Unit.PENDING]:
            _finish(job, now=now)  # it died after its last unit
        job.save()
        if queue and job.status == _Job.RUNNING:
            _dispatch_on_commit(job)
    return job

"""Celery entry points for the KPI engine: ids and dates in, the service does the work."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from celery.exceptions import MaxRetriesExceededError
from django.conf import settings

from config.locks import single_flight


@shared_task(bind=True, acks_late=True, max_retries=5, default_retry_delay=30)
def kpis_recompute_dirty_task(self) -> dict:  # noqa: ANN001
    """Recompute the dirty days and periods (after writes, and every minute from beat as a
    sweep), one run at a time: a run queued while another works comes back shortly after, so
    what was logged meanwhile waits seconds, not for the sweep. Returns how many entries were
    recomputed and those that failed ("failed"), set aside so that they block nothing."""
    from kpis.services import kpis_recompute_dirty

    with single_flight("kpis:recompute-dirty", seconds=600) as mine:
        if not mine:
            if settings.CELERY_TASK_ALWAYS_EAGER:
                # in-process: the run holding the lock reads the log to its end
                return {"recomputed": 0, "failed": []}
            raise self.retry(countdown=2, max_retries=30)
        try:
            run = kpis_recompute_dirty()
        except Exception as exc:
            raise self.retry(exc=exc) from exc
        # What was set aside is logged at ERROR by the service and listed on the dashboard.
        return {"recomputed": run.recomputed, "failed": list(run.failed)}


@shared_task(bind=True, acks_late=True, max_retries=3, default_retry_delay=30)
def kpis_recompute_unit_task(self, job_id: str, kind: str, month: str) -> int:  # noqa: ANN001
    """One unit of a full recompute: the days of `month` (kind "day"), or the periods of
    `kind` starting in the year of `month`. Skipped when done already or its job ended."""
    from kpis.services import (
        kpis_recompute_unit,
        recompute_job_unit_begin,
        recompute_job_unit_done,
    )

    day = date.fromisoformat(month)
    if not recompute_job_unit_begin(job_id=job_id, kind=kind, month=day):
        return 0
    try:
        written = kpis_recompute_unit(kind=kind, month=day, job_id=job_id)
    except Exception as exc:
        try:
            raise self.retry(exc=exc)
        except MaxRetriesExceededError:
            error = f"{kind} {month}: {exc}"
            recompute_job_unit_done(job_id=job_id, kind=kind, month=day, failed=True, error=error)
            raise exc from None
    recompute_job_unit_done(job_id=job_id, kind=kind, month=day)
    return written


@shared_task(acks_late=True)
def recompute_jobs_dead_task() -> int:
    """Beat, every minute: mark the recompute jobs whose units stopped moving as dead."""
    from kpis.services import recompute_jobs_dead_mark

    return recompute_jobs_dead_mark()


@shared_task(acks_late=True)
def kpis_recompute_all_task() -> str:
    """Nightly: a full recompute, so cohort metrics follow outcomes whatever was missed."""
    from kpis.services import recompute_job_start

    return str(recompute_job_start().pk)


@shared_task(bind=True, acks_late=True, max_retries=3, default_retry_delay=300)
def sal_commitment_check_task(self) -> bool:  # noqa: ANN001
    """Beat: warn the marketing managers once a month when SALs are off pace."""
    from kpis.alerts import sal_commitment_check

    # The lock keeps its key from before the move, so runs across a deploy exclude each other.
    with single_flight("alignment:sal-commitment-check", seconds=600) as mine:
        if not mine:
            return False
        try:
            return sal_commitment_check() is not None
        except Exception as exc:
            raise self.retry(exc=exc) from exc

"""Celery entry points for the KPI engine: ids and dates in, the service does the work."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from celery.exceptions import MaxRetriesExceededError
from django.conf import settings

from config.locks import single_flight


@shared_task(bind=True, acks_late=True, max_retries=5, default_retry_delay=30)
def kpis_recompute_dirty_task(self) -> int:  # noqa: ANN001
    """Recompute the dirty days and periods (after writes, and every minute from beat as a
    sweep), one run at a time: a run queued while another works comes back shortly after, so
    what was logged meanwhile waits seconds, not for the sweep."""
    from kpis.services import kpis_recompute_dirty

    with single_flight("kpis:recompute-dirty", seconds=600) as mine:
        if not mine:
            if settings.CELERY_TASK_ALWAYS_EAGER:
                return 0  # in-process: the run holding the lock reads the log to its end
            raise self.retry(countdown=2, max_retries=30)
        try:
            return kpis_recompute_dirty()
        except Exception as exc:
            raise self.retry(exc=exc) from exc


@shared_task(bind=True, acks_late=True, max_retries=3, default_retry_delay=30)
def kpis_recompute_unit_task(self, job_id: str, kind: str, month: str) -> int:  # noqa: ANN001
    """One unit of a full recompute: the days of `month` (kind "day"), or the periods of
    `kind` starting in the year of `month`."""
    from kpis.services import kpis_recompute_unit, recompute_job_unit_done

    try:
        written = kpis_recompute_unit(kind=kind, month=date.fromisoformat(month), job_id=job_id)
    except Exception as exc:
        try:
            raise self.retry(exc=exc)
        except MaxRetriesExceededError:
            recompute_job_unit_done(job_id=job_id, failed=True, error=f"{kind} {month}: {exc}")
            raise exc from None
    recompute_job_unit_done(job_id=job_id)
    return written


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

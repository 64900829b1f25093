"""Celery entry points of the funnel: ids in, the service does the work."""

from __future__ import annotations

from celery import shared_task

from config.locks import single_flight


@shared_task(bind=True, acks_late=True, max_retries=5, default_retry_delay=10)
def leads_sync_stages_task(self, lead_ids: list[int]) -> int:  # noqa: ANN001
    """Re-derive stored stages and handoffs of these leads from their stage events, in one
    transaction (with the audit entries of the decisions it changes)."""
    from django.db import transaction

    from leads.services import leads_sync_stages

    with transaction.atomic():
        leads_sync_stages(lead_ids=lead_ids)
    return len(lead_ids)


# The two tasks below keep the names they had in alignment, so that messages queued or retrying
# across a deploy still find them.
@shared_task(
    bind=True,
    name="alignment.tasks.sla_apply_task",
    acks_late=True,
    max_retries=5,
    default_retry_delay=30,
)
def sla_apply_task(self, sla_id: int) -> int:  # noqa: ANN001
    """Re-derive the deadlines of the handoffs an approved SLA version governs."""
    from leads.agreements import sla_apply

    try:
        return sla_apply(sla_id=sla_id)
    except Exception as exc:
        raise self.retry(exc=exc) from exc


@shared_task(
    bind=True,
    name="alignment.tasks.leads_rescore_task",
    acks_late=True,
    max_retries=5,
    default_retry_delay=30,
)
def leads_rescore_task(self, job_id: str) -> int:  # noqa: ANN001
    """Run (or resume) a rescore job; returns the handoffs it opened. Once its retries are
    spent the job is marked failed (`retry(exc=...)` re-raises `exc` then, not
    MaxRetriesExceededError, so the count is checked first)."""
    from leads.agreements import lead_definition_rescore_run, rescore_job_fail

    try:
        return lead_definition_rescore_run(job_id=job_id).handed_off
    except Exception as exc:
        if self.request.retries >= self.max_retries:
            rescore_job_fail(job_id=job_id, error=str(exc) or type(exc).__name__)
            raise
        raise self.retry(exc=exc) from exc


@shared_task(bind=True, acks_late=True, max_retries=5, default_retry_delay=30)
def what_if_task(self, run_id: str) -> str:  # noqa: ANN001
    """Run (or resume) a what-if of a lead definition; returns its status. A retry resumes
    where the run stopped; once the retries are spent the run is marked failed. (Celery's
    `retry(exc=...)` re-raises `exc` itself when none are left, not MaxRetriesExceededError,
    so the count is checked first.)"""
    from leads.what_if import what_if_fail, what_if_run

    try:
        return what_if_run(run_id=run_id).status
    except Exception as exc:
        if self.request.retries >= self.max_retries:
            what_if_fail(run_id=run_id, error=str(exc) or type(exc).__name__)
            raise
        raise self.retry(exc=exc) from exc


@shared_task(bind=True, acks_late=True, max_retries=3, default_retry_delay=60)
def sla_breaches_notify_task(self) -> int:  # noqa: ANN001
    """Beat: record the SLA deadlines that passed, then e-mail the breaches not yet sent."""
    from leads.breaches import sla_breaches_detect, sla_breaches_notify

    # The lock keeps its key from before the move, so runs across a deploy exclude each other.
    with single_flight("alignment:sla-breaches-notify", seconds=600) as mine:
        if not mine:  # another run is sending: never two digests of one breach
            return 0
        try:
            sla_breaches_detect()
            return sla_breaches_notify()
        except Exception as exc:
            raise self.retry(exc=exc) from exc


@shared_task(bind=True, acks_late=True, max_retries=3, default_retry_delay=60)
def agreements_apply_due_task(self) -> int:  # noqa: ANN001
    """Beat: apply approved SLA versions and lead definitions that have come into effect."""
    from leads.agreements import agreements_apply_due

    try:
        return agreements_apply_due()
    except Exception as exc:
        raise self.retry(exc=exc) from exc


@shared_task(bind=True, acks_late=True, max_retries=5, default_retry_delay=60)
def handoff_reassignment_notify_task(self, reassignment_id: int) -> bool:  # noqa: ANN001
    """E-mail the new owner of a reassigned handoff (once)."""
    from leads.services import handoff_reassignment_notify

    try:
        return handoff_reassignment_notify(reassignment_id=reassignment_id)
    except Exception as exc:
        raise self.retry(exc=exc) from exc


@shared_task(bind=True, acks_late=True, max_retries=5, default_retry_delay=60)
def dispute_notify_task(self, dispute_id: int) -> bool:  # noqa: ANN001
    """E-mail the head whose confirmation a dispute awaits (once per outcome recorded)."""
    from leads.services_disputes import dispute_notify

    try:
        return dispute_notify(dispute_id=dispute_id)
    except Exception as exc:
        raise self.retry(exc=exc) from exc


@shared_task(bind=True, acks_late=True, max_retries=3, default_retry_delay=30)
def import_run_task(self, job_id: str) -> str:  # noqa: ANN001
    """Run (or resume) a CSV import; returns its status. A retry resumes from the last
    committed chunk; once the retries are spent the job is marked failed (and can be resumed
    from the page). (`retry(exc=...)` re-raises `exc` when none are left, so the count is
    checked first.)"""
    from leads.imports.services import import_job_fail, import_job_run

    try:
        return import_job_run(job_id=job_id).status
    except Exception as exc:
        if self.request.retries >= self.max_retries:
            import_job_fail(job_id=job_id, error=str(exc) or type(exc).__name__)
            raise
        raise self.retry(exc=exc) from exc

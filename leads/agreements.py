"""Applying the agreements to the funnel: an approved SLA re-derives the SLA facts of the
handoffs it governs, a lead definition in effect re-scores every lead, and the sweep applies
versions whose time has come. Alignment announces approvals (`version_approved`); this module
acts on them."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from alignment.models import LeadDefinition, RescoreJob, ServiceLevelAgreement, VersionStatus
from alignment.selectors import lead_definition_in_effect, lead_definition_is_in_effect
from alignment.services.versions import actor
from config.queue import enqueue, enqueue_on_commit
from leads.changes import funnel_changed, funnel_periods_changed
from leads.models import Handoff, Lead
from leads.services import handoffs_refresh_sla, leads_score

RESCORE_CHUNK = 2000


def agreement_version_apply(
    *,
    version: ServiceLevelAgreement | LeadDefinition,
    by: AbstractBaseUser | None,
    now: datetime,
) -> None:
    """A version became binding (both heads approved it), inside the approving transaction.

    An SLA logs the periods since its start (its SAL commitment) and re-derives the deadlines
    of the handoffs it now governs (a Celery task, after commit, that logs their days); a lead definition that is the version in effect now
    re-scores every lead (a job with progress). One that starts later is applied by the sweep
    when its time comes.
    """
    if isinstance(version, ServiceLevelAgreement):
        if version.effective_from <= now:  # its SAL commitment, in every period since
            funnel_periods_changed(spans=[(version.effective_from, now)], part="sla")
        from leads.tasks import sla_apply_task

        enqueue_on_commit(sla_apply_task, version.pk)
    elif lead_definition_is_in_effect(definition=version, at=now):
        lead_definition_rescore_start(definition=version, by=by, now=now)


SLA_APPLY_CHUNK = 2000


def sla_apply(*, sla_id: int, now: datetime | None = None, chunk: int = SLA_APPLY_CHUNK) -> int:
    """Re-derive the SLA facts of every handoff from the version's start; mark their periods.
    Returns how many handoffs changed.

    Runs once: a version already applied returns 0 at once. The handoffs are re-derived in
    chunks by id, each chunk its own transaction, so a large table never sits in one long
    transaction; re-deriving is idempotent, so a run that stops halfway is simply run again
    (the sweep queues versions whose `applied_at` is still empty).
    """
    now = now or timezone.now()
    with transaction.atomic():
        sla = ServiceLevelAgreement.objects.select_for_update().get(pk=sla_id)
        if sla.status != VersionStatus.APPROVED or sla.applied_at is not None:
            return 0
    governed = Handoff.objects.filter(handed_at__gte=sla.effective_from).order_by("pk")
    changed, cursor = 0, 0
    while ids := list(governed.filter(pk__gt=cursor).values_list("pk", flat=True)[:chunk]):
        with transaction.atomic():
            changed += handoffs_refresh_sla(handoff_ids=ids)
        cursor = ids[-1]
    with transaction.atomic():
        sla = ServiceLevelAgreement.objects.select_for_update().get(pk=sla_id)
        if sla.applied_at is not None:  # a concurrent run finished first
            return changed
        if sla.effective_from <= now:  # the handoffs' SLA facts, on the days they were handed
            funnel_changed(spans=[(sla.effective_from, now)], part="handoffs")
        sla.applied_at = now
        sla.save(update_fields=["applied_at"])
    return changed


@transaction.atomic
def lead_definition_rescore_start(
    *,
    definition: LeadDefinition,
    by: AbstractBaseUser | None = None,
    now: datetime | None = None,
) -> RescoreJob:
    """Queue a job that re-scores every lead under `definition` (after commit).

    Only the version in effect scores leads: a draft, a version that starts later or one a
    newer version superseded is refused (ValidationError).
    """
    now = now or timezone.now()
    if definition.status != VersionStatus.APPROVED:
        raise ValidationError("Only an approved lead definition scores leads.")
    if not lead_definition_is_in_effect(definition=definition, at=now):
        raise ValidationError(
            f"Lead definition v{definition.version} is not the version in effect; "
            "only the version in effect scores leads."
        )
    job = RescoreJob.objects.create(
        definition=definition, requested_by=actor(by), total=Lead.objects.count()
    )
    from leads.tasks import leads_rescore_task

    enqueue_on_commit(leads_rescore_task, str(job.pk))
    return job


RESCORE_FINISHED = {
    RescoreJob.Status.DONE,
    RescoreJob.Status.SUPERSEDED,
    RescoreJob.Status.FAILED,
}


def lead_definition_rescore_run(*, job_id: str, chunk: int = RESCORE_CHUNK) -> RescoreJob:
    """Run (or resume) a rescore job, one committed chunk of leads at a time, by lead id.

    Before each chunk it checks that the job's definition is still the version in effect; when
    a newer version has taken effect the job stops and finishes as `superseded` (the newer
    version's own job re-scores the leads).
    """
    job = RescoreJob.objects.select_related("definition").get(pk=job_id)
    if job.status in RESCORE_FINISHED:
        return job
    RescoreJob.objects.filter(pk=job.pk).update(status=RescoreJob.Status.RUNNING)
    definition = LeadDefinition.objects.prefetch_related("rules").get(pk=job.definition_id)
    cursor = job.last_lead_id
    while True:
        if not lead_definition_is_in_effect(definition=definition, at=timezone.now()):
            return _rescore_job_finish(job, status=RescoreJob.Status.SUPERSEDED)
        ids = list(
            Lead.objects.filter(pk__gt=cursor).order_by("pk").values_list("pk", flat=True)[:chunk]
        )
        if not ids:
            break
        with transaction.atomic():
            opened = leads_score(lead_ids=ids, definition=definition)
            cursor = ids[-1]
            RescoreJob.objects.filter(pk=job.pk).update(
                done=job.done + len(ids), handed_off=job.handed_off + opened, last_lead_id=cursor
            )
        job.done += len(ids)
        job.handed_off += opened
    return _rescore_job_finish(job, status=RescoreJob.Status.DONE)


def _rescore_job_finish(job: RescoreJob, *, status: str) -> RescoreJob:
    now = timezone.now()
    with transaction.atomic():
        RescoreJob.objects.filter(pk=job.pk).update(
            status=status, finished_at=now, total=max(job.total, job.done)
        )
        if status == RescoreJob.Status.DONE:
            LeadDefinition.objects.filter(pk=job.definition_id, applied_at__isnull=True).update(
                applied_at=now
            )
    job.refresh_from_db()
    return job


def rescore_job_fail(*, job_id: str, error: str) -> None:
    RescoreJob.objects.filter(pk=job_id).update(
        status=RescoreJob.Status.FAILED, error=error[:2000], finished_at=timezone.now()
    )


def agreements_apply_due(*, now: datetime | None = None) -> int:
    """The sweep: queue the application of approved SLA versions whose handoffs were not
    re-derived yet (a task each, never inline), and re-score leads under a lead definition that
    has come into effect. Returns what it started.
    """
    now = now or timezone.now()
    started = 0
    from leads.tasks import sla_apply_task

    for sla_id in ServiceLevelAgreement.objects.filter(
        status=VersionStatus.APPROVED, applied_at__isnull=True
    ).values_list("pk", flat=True):
        # A run that finds it applied already does nothing; one not queued is the next sweep's.
        started += enqueue(sla_apply_task, sla_id)
    definition = lead_definition_in_effect(at=now)
    busy = RescoreJob.objects.filter(
        Q(status__in=[RescoreJob.Status.QUEUED, RescoreJob.Status.RUNNING])
        & Q(created_at__gte=now - timedelta(hours=6))
        | Q(status=RescoreJob.Status.FAILED, created_at__gte=now - timedelta(hours=1))
    )
    if definition is not None and definition.applied_at is None and not busy.exists():
        lead_definition_rescore_start(definition=definition, now=now)
        started += 1
    return started

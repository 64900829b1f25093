from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from alignment.models import LeadDefinition, RescoreJob
from leads.models import Handoff, Lead, StageEvent
from leads.tasks import import_run_task, leads_sync_stages_task


@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_task_that_writes_to_the_database(
    restore_base_data: None, celery_worker: object
) -> None:
    lead = Lead.objects.create(external_id="L-1", created_at=datetime(2026, 1, 5, tzinfo=UTC))
    # Recorded without the service, so only the worker can derive the stage and the handoff.
    StageEvent.objects.create(lead=lead, stage="mql", occurred_at=datetime(2026, 1, 6, tzinfo=UTC))

    result = leads_sync_stages_task.delay([lead.pk])

    assert result.get(timeout=60) == 1
    lead.refresh_from_db()
    assert lead.stage == "mql"
    assert Handoff.objects.get(lead=lead).status == Handoff.Status.PENDING


@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_csv_import_from_the_file_the_web_process_kept(
    restore_base_data: None, celery_worker: object, sales_rep: object
) -> None:
    from leads.imports.services import import_job_start
    from tests.leads.imports.samples import upload

    job = import_job_start(job=upload("hubspot-contacts.csv"), mode="import", queue=False)

    assert import_run_task.delay(str(job.pk)).get(timeout=120) == "done"
    job.refresh_from_db()
    assert (job.valid, job.rejected) == (5, 1)  # row 4's owner, ada, is not in this database
    assert Lead.objects.filter(external_id__startswith="hubspot-contact-").count() == 5


@pytest.mark.django_db
def test_a_rescore_job_whose_retries_are_spent_is_marked_failed_instead_of_left_running(
    signed_definition: Callable[..., LeadDefinition], monkeypatch: pytest.MonkeyPatch
) -> None:
    from celery.exceptions import Retry

    from leads import agreements
    from leads.tasks import leads_rescore_task

    definition = signed_definition([], threshold=10)
    job = RescoreJob.objects.create(definition=definition, status=RescoreJob.Status.RUNNING)

    def broken(**kwargs: object) -> RescoreJob:
        raise RuntimeError("database went away")

    monkeypatch.setattr(agreements, "lead_definition_rescore_run", broken)
    with pytest.raises(Retry):
        leads_rescore_task.apply(args=[str(job.pk)], throw=True)
    job.refresh_from_db()
    assert job.status == "running"
    with pytest.raises(RuntimeError):
        leads_rescore_task.apply(
            args=[str(job.pk)], retries=leads_rescore_task.max_retries, throw=True
        )
    job.refresh_from_db()
    assert (job.status, job.error) == ("failed", "database went away")

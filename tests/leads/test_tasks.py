from __future__ import annotations

from datetime import UTC, datetime

import pytest

from leads.models import Handoff, Lead, StageEvent
from leads.tasks import leads_sync_stages_task


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

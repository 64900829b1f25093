from __future__ import annotations

from celery import shared_task


@shared_task(bind=True, acks_late=True, max_retries=5, default_retry_delay=10)
def leads_sync_stages_task(self, lead_ids: list[int]) -> int:  # noqa: ANN001
    """Re-derive stored stages and handoffs of these leads from their stage events."""
    from leads.services import leads_sync_stages

    leads_sync_stages(lead_ids=lead_ids)
    return len(lead_ids)

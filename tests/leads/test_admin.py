from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from django.test import Client

from leads.models import Deal, FunnelChange, Handoff, Lead
from tests.conftest import World

pytestmark = pytest.mark.django_db


def test_changing_a_deal_in_the_admin_marks_its_days_dirty(staff: Client, world: World) -> None:
    lead = world.lead("2026-03-02T09:00:00+00:00", external_id="L1")
    world.stage(lead, "mql", "2026-03-03T09:00:00+00:00")
    world.deal(lead, 100, "2026-03-05T09:00:00+00:00", external_id="D1")
    FunnelChange.objects.all().delete()
    deal = Deal.objects.get()
    response = staff.post(
        f"/admin/leads/deal/{deal.pk}/change/",
        {
            "external_id": "D1", "lead": deal.lead_id, "amount": "250", "status": "won",
            "created_at_0": "2026-03-05", "created_at_1": "09:00:00",
            "closed_at_0": "2026-05-10", "closed_at_1": "09:00:00", "lost_reason": "",
        },
    )  # fmt: skip
    assert response.status_code == 302, response.content[:2000]
    days = set(FunnelChange.objects.filter(period="day").values_list("period_start", flat=True))
    assert {date(2026, 3, 3), date(2026, 5, 10)} <= days  # the cohort and the close


def test_deleting_a_lead_in_the_admin_marks_its_days_dirty(staff: Client, world: World) -> None:
    world.lead("2026-03-02T09:00:00+00:00")
    FunnelChange.objects.all().delete()
    lead = Lead.objects.get()
    response = staff.post(f"/admin/leads/lead/{lead.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Lead.objects.exists()
    assert FunnelChange.objects.filter(period="day", period_start=date(2026, 3, 2)).exists()


def test_stage_events_cannot_be_edited_in_the_admin(staff: Client, world: World) -> None:
    lead = world.lead("2026-03-02T09:00:00+00:00")
    world.stage(lead, "mql", "2026-03-03T09:00:00+00:00")
    handoff = Handoff.objects.get()
    assert handoff.handed_at == datetime(2026, 3, 3, 9, tzinfo=UTC)
    event = handoff.lead.stage_events.get()
    response = staff.post(f"/admin/leads/stageevent/{event.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403


def test_a_lead_added_in_the_admin_counts_and_is_scored(
    staff: Client, signed_definition: Callable[..., object], sales_rep: object
) -> None:
    signed_definition([{"field": "name", "operator": "exists", "value": None, "points": 60}])
    response = staff.post(
        "/admin/leads/lead/add/",
        {"external_id": "L-new", "email": "", "name": "New", "company": "", "segment": "",
         "attributes": "{}", "created_at_0": "2026-03-02", "created_at_1": "09:00:00"},
    )  # fmt: skip
    assert response.status_code == 302, response.content[:2000]
    lead = Lead.objects.get(external_id="L-new")
    assert lead.score == 60
    assert Handoff.objects.get(lead=lead).owner == sales_rep  # handed off by the round robin
    assert FunnelChange.objects.filter(period="day", period_start=date(2026, 3, 2)).exists()


def test_deleting_a_dispute_in_the_admin_marks_the_days_of_its_rates_dirty(
    staff: Client, world: World, marketing_rep: object, heads: tuple[object, object]
) -> None:
    from leads.models import Dispute

    lead = world.lead("2026-03-02T09:00:00+00:00")
    world.stage(lead, "mql", "2026-03-03T09:00:00+00:00")
    world.stage(lead, "rejected", "2026-03-04T09:00:00+00:00", reason="bad_fit")
    dispute = world.dispute(
        lead, by=marketing_rep, at="2026-03-05T09:00:00+00:00", outcome="upheld", heads=heads
    )
    FunnelChange.objects.all().delete()
    response = staff.post(f"/admin/leads/dispute/{dispute.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Dispute.objects.exists()
    logged = set(FunnelChange.objects.filter(period="day").values_list("period_start", "part"))
    # The rejection's day (its dispute rate), the settling day (the overturn rate).
    assert {(date(2026, 3, 4), "decisions"), (date(2026, 3, 5), "disputes")} <= logged

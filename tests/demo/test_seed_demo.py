"""`manage.py seed_demo`: a believable, consistent, deterministic demo funnel."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, time, timedelta
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import F
from django.utils import timezone

from alignment.roles import Role, user_role
from demo.generator import DEMO_LOGINS, DEMO_PASSWORD, DEMO_USERS
from leads.models import (
    Campaign,
    ContactAttempt,
    Deal,
    Handoff,
    Lead,
    StageEvent,
    Touch,
)
from leads.services import derive_handoffs, handoffs_refresh_sla

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 6, 30, 15, 0, tzinfo=UTC)
FUNNEL = (Campaign, Lead, Touch, StageEvent, Handoff, ContactAttempt, Deal)


def seed(**options: Any) -> str:
    out = StringIO()
    options = {"leads": 400, "months": 6, "now": NOW.isoformat(), "no_progress": True} | options
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def events_by_lead() -> dict[int, list[dict[str, Any]]]:
    events: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for event in StageEvent.objects.order_by("lead_id", "occurred_at", "id").values(
        "lead_id", "stage", "occurred_at", "actor_id", "reason", "note"
    ):
        events[event["lead_id"]].append(event)
    return events


def first_attempt_hours() -> dict[int, float | None]:
    """Hours from each handoff to its lead's first attempt at or after it (None: no attempt)."""
    attempts: dict[int, list[datetime]] = defaultdict(list)
    for lead_id, at in ContactAttempt.objects.values_list("lead_id", "occurred_at"):
        attempts[lead_id].append(at)
    hours: dict[int, float | None] = {}
    for handoff in Handoff.objects.all():
        later = [at for at in attempts[handoff.lead_id] if at >= handoff.handed_at]
        hours[handoff.pk] = (
            (min(later) - handoff.handed_at).total_seconds() / 3600 if later else None
        )
    return hours


def snapshot() -> dict[str, list[tuple]]:
    """Every demo row, by external ids and usernames (database ids may differ between runs)."""
    return {
        "campaigns": list(
            Campaign.objects.order_by("external_id").values_list(
                "external_id", "name", "channel", "starts_on", "ends_on", "cost"
            )
        ),
        "leads": list(
            Lead.objects.order_by("external_id").values_list(
                "external_id",
                "name",
                "email",
                "company",
                "created_at",
                "segment",
                "attributes",
                "stage",
                "stage_changed_at",
                "owner__username",
                "campaign__external_id",
            )
        ),
        "touches": list(
            Touch.objects.order_by("external_id").values_list(
                "external_id", "lead__external_id", "campaign__external_id", "occurred_at", "kind"
            )
        ),
        "events": list(
            StageEvent.objects.order_by("external_id").values_list(
                "external_id",
                "lead__external_id",
                "stage",
                "occurred_at",
                "actor__username",
                "reason",
                "note",
                "source",
            )
        ),
        "handoffs": list(
            Handoff.objects.order_by("lead__external_id", "handed_at").values_list(
                "lead__external_id",
                "handed_at",
                "owner__username",
                "status",
                "decided_at",
                "decided_by__username",
                "reason__code",
                "feedback",
                "rating",
            )
        ),
        "attempts": list(
            ContactAttempt.objects.order_by("external_id").values_list(
                "external_id",
                "lead__external_id",
                "occurred_at",
                "channel",
                "outcome",
                "actor__username",
            )
        ),
        "deals": list(
            Deal.objects.order_by("external_id").values_list(
                "external_id",
                "lead__external_id",
                "amount",
                "created_at",
                "closed_at",
                "status",
                "lost_reason",
            )
        ),
    }


def test_it_creates_named_users_of_both_teams_who_log_in_with_demo() -> None:
    seed(leads=20)

    users = {u.username: u for u in get_user_model().objects.all()}
    assert set(users) == {spec.username for spec in DEMO_USERS}
    roles = [user_role(user) for user in users.values()]
    assert roles.count(Role.ADMIN) == 1
    assert roles.count(Role.MARKETING_MANAGER) == 1
    assert roles.count(Role.SALES_MANAGER) >= 1
    assert roles.count(Role.MARKETING_REP) >= 2
    assert roles.count(Role.SALES_REP) >= 4
    for user in users.values():
        assert user.first_name and user.last_name
        assert user.username == user.username.lower()
        assert user.check_password(DEMO_PASSWORD)
    assert [(spec.username, spec.role.label) for spec in DEMO_USERS] == DEMO_LOGINS


def test_the_heads_of_marketing_and_sales_are_appointed() -> None:
    from alignment.models import TeamHead

    seed(leads=20)
    heads = dict(TeamHead.objects.values_list("team", "user__username"))
    assert heads == {"marketing": "maria", "sales": "tom"}


def test_it_builds_a_believable_funnel() -> None:
    seed()

    assert Lead.objects.count() == 400
    assert 8 <= Campaign.objects.count() <= 20
    assert not Campaign.objects.filter(cost__lt=0).exists()
    statuses = set(Handoff.objects.values_list("status", flat=True))
    assert statuses == {"pending", "accepted", "rejected"}
    accepted = Handoff.objects.filter(status="accepted").count()
    rejected = Handoff.objects.filter(status="rejected").count()
    assert 0.6 < accepted / (accepted + rejected) < 0.85
    handed_off = Lead.objects.filter(handoffs__isnull=False).distinct().count()
    assert 0.3 < handed_off / 400 < 0.6
    assert {"won", "lost", "open"} == set(Deal.objects.values_list("status", flat=True))
    assert set(Lead.objects.values_list("segment", flat=True)) == {
        "smb",
        "mid_market",
        "enterprise",
    }
    assert Handoff.objects.filter(status="rejected", feedback="").count() == 0


def test_recycled_leads_come_back_for_a_second_handoff() -> None:
    seed()

    twice = [
        lead
        for lead in Lead.objects.filter(stage_events__stage="recycled").distinct()
        if lead.handoffs.count() >= 2
    ]
    assert twice
    for lead in twice:
        first, second = lead.handoffs.order_by("handed_at")[:2]
        assert first.status != "pending"
        assert first.decided_at < second.handed_at


def test_every_handoff_is_what_its_stage_events_derive() -> None:
    seed()

    events = events_by_lead()
    for lead in Lead.objects.prefetch_related("handoffs__reason"):
        derived = [
            (h.handed_at, str(h.status), h.decided_at, h.decided_by_id, h.reason_code)
            for h in derive_handoffs(events[lead.pk])
        ]
        handoffs = sorted(lead.handoffs.all(), key=lambda h: (h.handed_at, h.pk))
        stored = [
            (
                h.handed_at,
                h.status,
                h.decided_at,
                h.decided_by_id,
                h.reason.code if h.reason else "",
            )
            for h in handoffs
        ]
        assert stored == derived, lead.external_id
        if handoffs:
            assert lead.owner_id == handoffs[-1].owner_id


def test_handoff_sla_facts_are_what_the_app_derives() -> None:
    seed()

    assert not Handoff.objects.filter(sla__isnull=True).exists()
    assert Handoff.objects.filter(first_attempt_at__gt=F("first_contact_due_at")).exists()
    assert handoffs_refresh_sla() == 0


def test_the_stored_stage_is_the_latest_event() -> None:
    seed()

    events = events_by_lead()
    for lead in Lead.objects.all():
        latest = events[lead.pk][-1]
        assert (lead.stage, lead.stage_changed_at) == (latest["stage"], latest["occurred_at"])
        assert events[lead.pk][0]["stage"] == "inquiry"
        assert events[lead.pk][0]["occurred_at"] == lead.created_at


def test_touches_come_from_running_campaigns_mostly_before_the_mql() -> None:
    seed()

    first_mql = dict(
        StageEvent.objects.filter(stage="mql")
        .order_by("-occurred_at")
        .values_list("lead_id", "occurred_at")
    )
    before = after = 0
    for lead in Lead.objects.prefetch_related("touches__campaign"):
        touches = sorted(lead.touches.all(), key=lambda t: (t.occurred_at, t.pk))
        assert 1 <= len(touches) <= 8
        assert lead.campaign_id == touches[0].campaign_id
        for touch in touches:
            day = touch.occurred_at.date()
            assert touch.campaign.starts_on <= day <= touch.campaign.ends_on + timedelta(days=7)
            if lead.pk in first_mql:
                before += touch.occurred_at <= first_mql[lead.pk]
                after += touch.occurred_at > first_mql[lead.pk]
    assert before > 2 * after


def test_contact_attempts_sometimes_breach_the_sla_in_effect() -> None:
    seed()

    hours = first_attempt_hours()
    assert any(h is None for h in hours.values())
    contacted = Handoff.objects.filter(first_attempt_at__isnull=False)
    met = contacted.filter(first_attempt_at__lte=F("first_contact_due_at")).count()
    assert contacted.count() / 2 < met < contacted.count()
    owners = dict(Handoff.objects.values_list("lead_id", "owner_id"))
    for lead_id, actor_id in ContactAttempt.objects.values_list("lead_id", "actor_id"):
        assert actor_id == owners[lead_id]


def test_reps_call_and_decide_in_office_hours() -> None:
    seed()

    for at in [
        *ContactAttempt.objects.values_list("occurred_at", flat=True),
        *Handoff.objects.exclude(decided_at=None).values_list("decided_at", flat=True),
    ]:
        local = timezone.localtime(at)
        assert local.weekday() < 5 and time(8) <= local.time() <= time(18), local


def test_deals_agree_with_their_status_and_stage_events() -> None:
    seed()

    for deal in Deal.objects.all():
        assert (deal.status == "open") == (deal.closed_at is None)
        assert deal.closed_at is None or deal.closed_at >= deal.created_at
        stages = set(deal.lead.stage_events.values_list("stage", flat=True))
        assert "opportunity" in stages
        if deal.status != "open":
            assert deal.status in stages
            assert deal.lead.stage_events.get(stage=deal.status).occurred_at == deal.closed_at


def test_nothing_happens_after_now() -> None:
    seed(now=None)

    now = timezone.now()
    for model, field in [
        (Lead, "created_at"),
        (Lead, "stage_changed_at"),
        (Touch, "occurred_at"),
        (StageEvent, "occurred_at"),
        (StageEvent, "recorded_at"),
        (Handoff, "handed_at"),
        (Handoff, "decided_at"),
        (ContactAttempt, "occurred_at"),
        (Deal, "created_at"),
        (Deal, "closed_at"),
    ]:
        assert not model.objects.filter(**{f"{field}__gt": now}).exists(), (model, field)
    assert not Campaign.objects.filter(ends_on__gt=timezone.localdate()).exists()
    assert Lead.objects.filter(created_at__gte=now - timedelta(days=14)).exists()


def test_it_is_deterministic_for_a_seed() -> None:
    seed(seed=7)
    first = snapshot()

    seed(seed=7, flush=True, chunk_size=37)
    assert snapshot() == first

    seed(seed=8, flush=True)
    assert snapshot()["leads"] != first["leads"]


def test_it_refuses_a_database_with_leads_unless_flushed() -> None:
    seed(leads=50)

    with pytest.raises(CommandError, match="--flush"):
        seed(leads=50)
    assert "already has leads" in seed(leads=80, if_empty=True)
    assert Lead.objects.count() == 50

    seed(leads=80, flush=True)
    assert Lead.objects.count() == 80
    assert Campaign.objects.filter(external_id="cmp-1").count() == 1


def test_it_prints_a_summary_of_what_it_loaded() -> None:
    output = seed(leads=100)

    assert "Demo data loaded in" in output
    for model in FUNNEL:
        label = str(model._meta.verbose_name_plural)
        count = f"{model.objects.count():,}"
        assert any(line.split()[-1] == count and label in line for line in output.splitlines())

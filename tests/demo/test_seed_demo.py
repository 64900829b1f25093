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
from django.db.models import F, Sum
from django.utils import timezone

from alignment import scoring
from alignment.models import (
    Goal,
    GoalCheckIn,
    LeadDefinition,
    PayoutCurve,
    RevenueForecast,
    ServiceLevelAgreement,
)
from alignment.roles import Role, user_role
from alignment.selectors import lead_definition_in_effect, sla_in_effect
from core.catalog import GOAL_EXCLUDED_METRICS, METRICS
from core.periods import local_midnight, next_period, period_start, periods_overlapping
from demo.generator import DEMO_LOGINS, DEMO_PASSWORD, DEMO_USERS
from kpis.goals import goal_progress
from kpis.models import KpiSnapshot
from kpis.services import kpis_recompute
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
                "score",
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
                "matched_rules",
                "sla__version",
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
    assert ServiceLevelAgreement.objects.count() == 3  # the demo's own, once
    assert LeadDefinition.objects.count() == 2 and PayoutCurve.objects.count() == 1
    assert Goal.objects.count() == 10


def test_it_prints_a_summary_of_what_it_loaded() -> None:
    output = seed(leads=100)

    assert "Demo data loaded in" in output
    for model in FUNNEL:
        label = str(model._meta.verbose_name_plural)
        count = f"{model.objects.count():,}"
        assert any(line.split()[-1] == count and label in line for line in output.splitlines())


# --- the agreements and shared numbers of the demo company ---------------------------------


def lead_fields(lead: Lead) -> dict[str, Any]:
    """A lead as `leads.services.leads_score` reads it."""
    return {
        "email": lead.email,
        "name": lead.name,
        "company": lead.company,
        "segment": lead.segment,
        "campaign": lead.campaign.external_id if lead.campaign else "",
        "channel": lead.campaign.channel if lead.campaign else "",
        "attributes": lead.attributes,
    }


def lead_with(path: str, value: Any) -> dict[str, Any]:
    """A lead that has only `value`, at `path` (a lead field or an attribute path)."""
    if path in scoring.LEAD_FIELDS:
        return {path: value}
    *parents, name = path.removeprefix("attributes.").split(".")
    lead: dict[str, Any] = {"attributes": {}}
    node = lead["attributes"]
    for part in parents:
        node = node.setdefault(part, {})
    node[name] = value
    return lead


def rules_of(definition: LeadDefinition) -> list[scoring.Rule]:
    return [
        scoring.Rule(r.field, r.operator, r.value, r.points)
        for r in definition.rules.order_by("position")
    ]


def test_lead_definition_v1_is_signed_by_both_heads_and_in_effect_from_the_window_start() -> None:
    seed()

    definition = LeadDefinition.objects.get(version=1)
    assert (definition.version, definition.status) == (1, "approved")
    assert definition.marketing_approved_by.username == "maria"
    assert definition.sales_approved_by.username == "tom"
    assert definition.marketing_approved_at < definition.sales_approved_at == definition.approved_at
    assert definition.approved_at < definition.effective_from
    assert definition.effective_from <= Lead.objects.order_by("created_at").first().created_at
    assert lead_definition_in_effect(at=NOW) == definition
    fields = {rule.field for rule in definition.rules.all()}
    assert {"segment", "channel", "attributes.employees", "attributes.seniority"} <= fields


def test_sales_proposes_lead_definition_v2_with_its_what_if_done() -> None:
    seed()

    draft = LeadDefinition.objects.get(version=2)
    assert (draft.status, draft.created_by.username) == ("draft", "tom")
    assert draft.sales_approved_by.username == "tom" and draft.marketing_approved_at is None
    assert draft.mql_threshold > LeadDefinition.objects.get(version=1).mql_threshold
    run = draft.what_ifs.get()
    assert (run.status, run.baseline.version) == ("done", 1)
    assert run.done == run.total == Lead.objects.filter(created_at__gte=run.since).count() > 0


def test_leads_and_handoffs_carry_the_scores_the_rules_give() -> None:
    seed()

    definition = LeadDefinition.objects.get(version=1)
    rules, threshold = rules_of(definition), definition.mql_threshold
    by_key = {(r.field, r.operator, repr(r.value), r.points): r for r in rules}
    leads = Lead.objects.select_related("campaign").prefetch_related("handoffs")
    assert Handoff.objects.exists()
    for lead in leads:
        final = scoring.score(rules, lead_fields(lead))
        assert lead.score == final.points, lead.external_id
        if lead.stage == "inquiry":  # scoring would have handed it off
            assert final.points < threshold, lead.external_id
        for handoff in lead.handoffs.all():
            matched = handoff.matched_rules
            assert matched and {m["definition_version"] for m in matched} == {1}
            assert sum(m["points"] for m in matched) >= threshold, lead.external_id
            for m in matched:
                rule = by_key[(m["field"], m["operator"], repr(m["value"]), m["points"])]
                # the rule holds for the value the lead had then, and still holds (the
                # engagement counts only grow)
                assert scoring.score([rule], lead_with(m["field"], m["actual"])).matched, m
                assert any(f.rule is rule for f in final.matched), m


def test_sla_v2_is_in_effect_v1_is_superseded_and_v3_awaits_sales() -> None:
    seed()

    v1, v2, v3 = ServiceLevelAgreement.objects.order_by("version")
    for version in (v1, v2):
        assert version.status == "approved"
        assert version.marketing_approved_by.username == "maria"
        assert version.sales_approved_by.username == "tom"
        assert version.approved_at <= version.effective_from
    assert v1.effective_from < Lead.objects.order_by("created_at").first().created_at
    assert v1.effective_from < v2.effective_from < NOW
    assert sla_in_effect(at=NOW) == v2
    assert sla_in_effect(at=v2.effective_from - timedelta(seconds=1)) == v1
    assert v3.status == "draft" and v3.first_contact_hours == 2
    assert v3.marketing_approved_by.username == "maria" and v3.marketing_approved_at < NOW
    assert v3.sales_approved_by is None and v3.sales_approved_at is None
    assert v3.monthly_sal_commitment > v2.monthly_sal_commitment
    governed = set()
    for handoff in Handoff.objects.all():
        assert handoff.sla_id == sla_in_effect(at=handoff.handed_at).pk
        governed.add(handoff.sla_id)
    assert governed == {v1.pk, v2.pk}


def test_six_goals_run_now_with_weekly_check_ins_and_last_quarter_has_its_own() -> None:
    seed()

    today = timezone.localdate(NOW)
    running = [g for g in Goal.objects.all() if period_start(g.period, today) == g.period_start]
    assert len(running) == 6
    assert {g.period for g in running} == {"month", "quarter"}
    assert {g.owner_team for g in running} == {"both", "marketing", "sales"}
    last_quarter = period_start("quarter", period_start("quarter", today) - timedelta(days=1))
    assert Goal.objects.filter(period="quarter", period_start=last_quarter).count() >= 3
    for goal in Goal.objects.all():
        assert goal.metric in METRICS and goal.metric not in GOAL_EXCLUDED_METRICS
        assert goal.target > 0
        assert all([goal.specific, goal.measurable, goal.achievable, goal.relevant])
        assert goal.created_at < local_midnight(goal.period_start, timezone.get_current_timezone())
        check_ins = list(goal.check_ins.order_by("week"))
        assert check_ins, goal.name
        end = next_period(goal.period, goal.period_start)
        for check_in in check_ins:
            assert check_in.week.weekday() == 0
            assert goal.period_start <= check_in.week + timedelta(days=4) < end
            assert check_in.at <= NOW
            assert check_in.by.username in {"maria", "tom", "grace"}
            assert check_in.status in {"on_track", "at_risk", "off_track"} and check_in.note
    weeks = GoalCheckIn.objects.values_list("goal_id", "week")
    assert len(set(weeks)) == len(weeks)


def test_the_running_goals_read_on_track_at_risk_and_one_off_track() -> None:
    seed(leads=2000, months=12)  # what `make run` loads
    today = timezone.localdate(NOW)
    for kind in ("month", "quarter"):
        kpis_recompute(kind=kind, periods=[period_start(kind, today)], now=NOW)

    running = Goal.objects.filter(
        period_start__in=[period_start(kind, today) for kind in ("month", "quarter")]
    )
    statuses = [progress.status for progress in goal_progress(goals=running, now=NOW)]
    assert len(statuses) == 6
    assert statuses.count("off_track") == 1
    assert "at_risk" in statuses
    assert {"on_track", "achieved"} & set(statuses)


def test_forecasts_for_past_quarters_and_the_current_one_were_entered_before_they_began() -> None:
    seed()

    tz = timezone.get_current_timezone()
    current = period_start("quarter", timezone.localdate(NOW))
    forecasts = {f.period_start: f for f in RevenueForecast.objects.filter(period="quarter")}
    assert current in forecasts
    assert any(start < current for start in forecasts)
    for start, forecast in forecasts.items():
        assert forecast.entered_at < local_midnight(start, tz)
        assert forecast.entered_by.username == "tom"
        if start < current:
            won = Deal.objects.filter(
                status="won",
                closed_at__gte=local_midnight(start, tz),
                closed_at__lt=local_midnight(next_period("quarter", start), tz),
            ).aggregate(s=Sum("amount"))["s"]
            assert 0.07 <= abs(forecast.amount / won - 1) <= 0.33, (start, forecast.amount, won)
    curve = PayoutCurve.objects.get()
    assert curve.effective_from < Lead.objects.order_by("created_at").first().created_at.date()


def test_most_campaigns_earn_a_believable_roi_under_linear_attribution() -> None:
    seed(leads=2000, months=12)
    first = timezone.localdate(Lead.objects.order_by("created_at").first().created_at)
    months = periods_overlapping("month", first, timezone.localdate(NOW))
    kpis_recompute(kind="month", periods=months, now=NOW)

    totals: dict[str, list] = defaultdict(lambda: [0, 0])
    for key, numerator, denominator in KpiSnapshot.objects.filter(
        metric="campaign_roi", period="month", dimension="campaign", model="linear"
    ).values_list("key", "numerator", "denominator"):
        totals[key][0] += numerator
        totals[key][1] += denominator or 0
    rois = {key: n / d for key, (n, d) in totals.items() if d > 0}
    assert len(rois) == Campaign.objects.filter(cost__gt=0).count()
    believable = [key for key, roi in rois.items() if -0.8 <= roi <= 6]
    assert len(believable) >= 0.8 * len(rois), sorted(rois.values())

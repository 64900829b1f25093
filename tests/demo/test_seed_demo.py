"""`manage.py seed_demo`: a believable, consistent, deterministic demo funnel."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.utils import timezone

from alignment import scoring
from alignment.models import (
    ActionItem,
    CampaignRating,
    FieldInsight,
    Goal,
    GoalCheckIn,
    Idea,
    IdeaComment,
    IdeaVote,
    InsightTag,
    LeadDefinition,
    Meeting,
    MeetingAttendee,
    PayoutCurve,
    RevenueForecast,
    ServiceLevelAgreement,
    ShadowingSession,
    Spotlight,
    SpotlightPerson,
    SpotlightThanks,
)
from alignment.roles import Role, user_role, user_team
from alignment.selectors import (
    action_items_open,
    insights_unanswered,
    lead_definition_in_effect,
    meetings_with_teams,
    shadowing_between,
    sla_in_effect,
    spotlights_latest,
)
from core.catalog import GOAL_EXCLUDED_METRICS, METRICS
from core.periods import local_midnight, next_period, period_start, periods_overlapping
from demo.generator import DEMO_LOGINS, DEMO_PASSWORD, DEMO_USERS
from demo.together import ALWAYS_ON_CHANNELS
from kpis.goals import goal_progress
from kpis.models import KpiSnapshot
from kpis.services import kpis_recompute
from leads import evidence
from leads.models import (
    Campaign,
    ContactAttempt,
    Deal,
    Dispute,
    FunnelChange,
    Handoff,
    Lead,
    StageEvent,
    Touch,
)
from leads.services import derive_handoffs, handoffs_refresh_sla, leads_sync_stages

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
        "events": list(  # the system events of overturned disputes have no external id
            StageEvent.objects.order_by(
                "external_id", "lead__external_id", "occurred_at"
            ).values_list(
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
                "opening_event__occurred_at",
                "closing_event__stage",
                "won_after_decision",
                "disqualified_after_decision",
            )
        ),
        "disputes": list(
            Dispute.objects.order_by("raised_at", "handoff__lead__external_id").values_list(
                "handoff__lead__external_id",
                "handoff__handed_at",
                "raised_by__username",
                "raised_at",
                "comment",
                "status",
                "outcome",
                "outcome_note",
                "outcome_by__username",
                "outcome_at",
                "awaiting_team",
                "notified_at",
                "resolved_by__username",
                "resolved_at",
                "reopen_event__occurred_at",
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
    assert statuses == {"pending", "accepted", "rejected", "withdrawn"}
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
    # Each attempt is by the owner of the lead's handoff then (an overturned dispute hands the
    # lead to another rep).
    owners: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for lead_id, handed_at, owner_id in Handoff.objects.order_by("handed_at").values_list(
        "lead_id", "handed_at", "owner_id"
    ):
        owners[lead_id].append((handed_at, owner_id))
    for lead_id, at, actor_id in ContactAttempt.objects.values_list(
        "lead_id", "occurred_at", "actor_id"
    ):
        assert actor_id == [owner for handed, owner in owners[lead_id] if handed <= at][-1]


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
        "channel": lead.campaign.channel_id if lead.campaign else "",
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


# --- the teams working together (SPEC §8) ----------------------------------------------------

TOGETHER = {
    "meetings": Meeting,
    "meeting attendees": MeetingAttendee,
    "action items": ActionItem,
    "shadowing sessions": ShadowingSession,
    "campaign ratings": CampaignRating,
    "ideas": Idea,
    "idea comments": IdeaComment,
    "idea votes": IdeaVote,
    "field insights": FieldInsight,
    "insight tags": InsightTag,
    "spotlights": Spotlight,
    "spotlight people": SpotlightPerson,
    "spotlight thanks": SpotlightThanks,
}


def summary_counts(output: str) -> dict[str, int]:
    counts = {}
    for line in output.splitlines():
        label, _, number = line.strip().rpartition(" ")
        if label and number.replace(",", "").isdigit():
            counts[label.strip()] = int(number.replace(",", ""))
    return counts


def together_snapshot() -> dict[str, list[tuple]]:
    """The working-together rows by natural keys (ids may differ between runs)."""
    return {
        "meetings": list(
            Meeting.objects.order_by("starts_at", "kind", "title").values_list(
                "kind", "title", "starts_at", "ends_at", "campaign__external_id", "agenda",
                "notes", "decisions", "created_by__username", "created_at",
            )
        ),
        "attendees": sorted(
            MeetingAttendee.objects.values_list(
                "meeting__starts_at", "meeting__kind", "user__username", "team"
            )
        ),
        "items": sorted(
            ActionItem.objects.values_list(
                "meeting__starts_at", "meeting__kind", "text", "owner__username", "due_on",
                "done_at",
            )
        ),
        "ideas": sorted(
            Idea.objects.values_list(
                "title", "status", "author__username", "created_at", "opened_at", "decided_at",
                "campaign__external_id", "goal__name", "parked_reason",
            )
        ),
        "comments": sorted(
            IdeaComment.objects.values_list("idea__title", "author__username", "created_at")
        ),
        "votes": sorted(IdeaVote.objects.values_list("idea__title", "user__username", "team")),
        "insights": sorted(
            FieldInsight.objects.values_list(
                "text", "kind", "posted_by__username", "posted_at", "answer", "answered_at",
                "campaign__external_id", "answer_campaign__external_id",
            )
        ),
        "tags": sorted(FieldInsight.tags.through.objects.values_list("fieldinsight__text", "insighttag__name")),
        "spotlights": sorted(
            Spotlight.objects.values_list("title", "deal__external_id", "created_at")
        ),
        "credits": sorted(SpotlightPerson.objects.values_list("spotlight__title", "user__username")),
        "thanks": sorted(SpotlightThanks.objects.values_list("spotlight__title", "user__username")),
        "shadowing": sorted(
            ShadowingSession.objects.values_list(
                "person__username", "host__username", "starts_at", "status", "logged_at",
                "debrief__starts_at",
            )
        ),
        "ratings": sorted(
            CampaignRating.objects.values_list(
                "campaign__external_id", "rater__username", "rating", "comment", "created_at"
            )
        ),
    }  # fmt: skip


def local_monday(at: datetime) -> date:
    day = timezone.localdate(at)
    return day - timedelta(days=day.weekday())


def test_it_writes_every_working_together_record_and_counts_them() -> None:
    counts = summary_counts(seed())

    for label, model in TOGETHER.items():
        assert counts[label] == model.objects.count() > 0, label


def test_reseeding_with_flush_writes_the_same_records_once() -> None:
    seed(seed=7)
    first = together_snapshot()
    assert all(first.values())

    seed(seed=7, flush=True)
    assert together_snapshot() == first

    seed(leads=300, seed=8, flush=True)
    assert Meeting.objects.filter(kind="weekly_alignment").count() == len(
        [m for m in first["meetings"] if m[0] == "weekly_alignment"]
    )
    assert InsightTag.objects.count() == len({name for _, name in first["tags"]})


def test_every_record_keeps_its_peoples_teams_and_nothing_happens_after_now() -> None:
    seed()

    users = {u.pk: user_team(u) for u in get_user_model().objects.all()}
    for model, user, team in [
        (MeetingAttendee, "user_id", "team"),
        (IdeaComment, "author_id", "team"),
        (IdeaVote, "user_id", "team"),
        (SpotlightPerson, "user_id", "team"),
        (Idea, "author_id", "author_team"),
        (ShadowingSession, "person_id", "person_team"),
        (ShadowingSession, "host_id", "host_team"),
    ]:
        for pk, recorded in model.objects.values_list(user, team):
            assert recorded == users[pk], (model, pk)
    for model, field in [
        (Meeting, "ends_at"),
        (Meeting, "created_at"),
        (Meeting, "updated_at"),
        (ActionItem, "done_at"),
        (ActionItem, "created_at"),
        (Idea, "updated_at"),
        (IdeaComment, "created_at"),
        (IdeaVote, "created_at"),
        (FieldInsight, "answered_at"),
        (FieldInsight, "updated_at"),
        (Spotlight, "created_at"),
        (SpotlightThanks, "created_at"),
        (CampaignRating, "updated_at"),
        (ShadowingSession, "created_at"),
        (ShadowingSession, "logged_at"),
    ]:
        assert not model.objects.filter(**{f"{field}__gt": NOW}).exists(), (model, field)
    assert not ShadowingSession.objects.filter(starts_at__gt=NOW).exclude(status="scheduled")
    assert not FunnelChange.objects.exists()  # the seed logs nothing: all of it is recomputed


def test_two_months_of_weekly_meetings_with_action_items_mostly_done() -> None:
    seed()

    weekly = list(meetings_with_teams().filter(kind="weekly_alignment").order_by("starts_at"))
    weeks = {local_monday(m.starts_at) for m in weekly}
    this_week = local_monday(NOW)
    tz = timezone.get_current_timezone()
    tuesdays = [this_week - timedelta(weeks=n, days=-1) for n in range(9)]
    held = [d for d in tuesdays if local_midnight(d, tz) + timedelta(hours=10, minutes=45) <= NOW]
    assert len(weeks) == len(weekly) == len(held) - 1  # two months to this week, one skipped
    assert min(weeks) == this_week - timedelta(weeks=8)
    for meeting in weekly:
        local = timezone.localtime(meeting.starts_at)
        assert (local.weekday(), local.time()) == (1, time(10))
        assert meeting.ends_at - meeting.starts_at == timedelta(minutes=45)
        assert meeting.agenda and meeting.notes and meeting.decisions
        assert meeting.has_marketing
    assert sum(1 for m in weekly if not m.has_sales) == 1
    assert all(m.has_sales for m in weekly[-3:])
    assert "MQLs handed to sales" in weekly[-1].notes

    last = weekly[-1]
    assert 2 <= action_items_open(meeting=last).count() <= 4
    items = ActionItem.objects.all()
    assert items.filter(done_at__isnull=False).count() > 3 * items.filter(done_at=None).count()
    today = timezone.localdate(NOW)
    overdue = items.filter(done_at=None, due_on__lt=today)
    assert 1 <= overdue.count() <= 2
    assert items.filter(done_at=None, due_on__gte=today, due_on__lt=this_week + timedelta(7))
    for item in items.filter(done_at__isnull=False):
        assert item.meeting.ends_at < item.done_at and item.done_by_id == item.owner_id
    for meeting in weekly:  # owners from both teams
        teams = {user_team(i.owner) for i in meeting.action_items.all()}
        assert teams == {"marketing", "sales"}, meeting


def test_the_teams_meet_about_as_often_as_high_performers_lately() -> None:
    seed()

    this_week = local_monday(NOW)
    tz = timezone.get_current_timezone()
    begin, end = (local_midnight(this_week - timedelta(weeks=4), tz), local_midnight(this_week, tz))
    both = Meeting.objects.filter(
        Exists(MeetingAttendee.objects.filter(meeting=OuterRef("pk"), team="marketing")),
        Exists(MeetingAttendee.objects.filter(meeting=OuterRef("pk"), team="sales")),
        starts_at__gte=begin,
        starts_at__lt=end,
    )
    assert 6 <= both.count() <= 9  # a 4-week mean of 1.5 to 2.25 joint meetings a week
    kinds = set(Meeting.objects.values_list("kind", flat=True))
    assert kinds == set(Meeting.Kind.values)
    syncs = Meeting.objects.filter(kind="leadership_sync")
    assert syncs and all(
        {"maria", "tom"} <= set(m.attendees.values_list("username", flat=True)) for m in syncs
    )


def test_campaigns_have_kickoffs_and_post_mortems_with_sales_mostly() -> None:
    seed()

    today = timezone.localdate(NOW)
    without_sales = post_mortem_due = 0
    for campaign in Campaign.objects.all():
        meetings = {m.kind: m for m in meetings_with_teams(campaign.meetings.all())}
        kickoff = meetings["campaign_kickoff"]
        assert 3 <= (campaign.starts_on - timezone.localdate(kickoff.starts_at)).days <= 8
        assert kickoff.has_marketing
        without_sales += not kickoff.has_sales
        post_mortem = meetings.get("campaign_postmortem")
        if campaign.channel in ALWAYS_ON_CHANNELS:  # they run on: no post-mortem, none due
            assert kickoff.has_sales and campaign.ends_on == today and post_mortem is None
        elif post_mortem is not None:
            assert campaign.ends_on < today
            assert 5 <= (timezone.localdate(post_mortem.starts_at) - campaign.ends_on).days <= 21
            assert post_mortem.has_sales and post_mortem.notes.startswith("**Numbers:**")
        elif campaign.ends_on < today - timedelta(days=14):
            post_mortem_due += 1
    assert 1 <= without_sales <= 3
    assert 2 <= post_mortem_due <= 3
    assert Meeting.objects.filter(kind="campaign_postmortem").count() >= 2


def test_sales_rates_most_campaigns_about_as_well_as_it_accepted_their_leads() -> None:
    seed(leads=1000)

    decided = {
        row["lead__campaign"]: row
        for row in Handoff.objects.filter(status__in=["accepted", "rejected"])
        .values("lead__campaign")
        .annotate(n=Count("id"), accepted=Count("id", filter=Q(status="accepted")))
    }
    ratings: dict[int, list[int]] = defaultdict(list)
    for rating in CampaignRating.objects.select_related("rater"):
        assert user_team(rating.rater) == "sales" and 1 <= rating.rating <= 5 and rating.comment
        ratings[rating.campaign_id].append(rating.rating)
    with_leads = [pk for pk, row in decided.items() if row["n"] >= 3]
    assert len(ratings) >= 0.6 * len(with_leads) and set(ratings) <= set(with_leads)
    by_share = sorted(ratings, key=lambda pk: decided[pk]["accepted"] / decided[pk]["n"])
    half = len(by_share) // 2
    mean = lambda pks: sum(sum(ratings[pk]) / len(ratings[pk]) for pk in pks) / len(pks)  # noqa: E731
    assert mean(by_share[:half]) < mean(by_share[half:])


def test_ideas_are_on_the_board_in_every_state() -> None:
    seed()

    assert set(Idea.objects.values_list("status", flat=True)) == set(Idea.Status.values)
    for idea in Idea.objects.all():
        comments = set(idea.comments.values_list("team", flat=True))
        votes = set(idea.votes.values_list("team", flat=True))
        if idea.status == "draft":
            assert idea.opened_at is None and not comments and not votes
            continue
        assert idea.created_at <= idea.opened_at
        assert not idea.comments.filter(created_at__lt=idea.opened_at).exists()
        assert not idea.votes.filter(user=idea.author).exists()
        if idea.status == "open":
            assert comments == votes == {"marketing", "sales"}, idea
        else:
            assert idea.decided_at > idea.opened_at and idea.decided_by is not None
        if idea.status == "adopted":
            assert idea.campaign_id or idea.goal_id, idea
        if idea.status == "parked":
            assert idea.parked_reason


def test_field_insights_of_every_kind_mostly_answered_the_newest_waiting() -> None:
    seed()

    insights = FieldInsight.objects.prefetch_related("tags").select_related("posted_by")
    assert set(insights.values_list("kind", flat=True)) == set(FieldInsight.Kind.values)
    assert {"pricing", "security", "integrations", "competitor", "onboarding", "roi"} <= set(
        InsightTag.objects.values_list("name", flat=True)
    )
    for insight in insights:
        assert insight.tags.all() and user_team(insight.posted_by) == "sales"
        if insight.answered_at:
            assert user_team(insight.answered_by) == "marketing" and insight.answer_text
            assert timedelta(days=1) <= insight.answered_at - insight.posted_at <= timedelta(11)
    assert set(insights.values_list("answer", flat=True)) == {"", "used", "not_used"}
    waiting = insights_unanswered()
    assert 4 <= waiting.count() <= 6
    assert not waiting.filter(posted_at__lt=NOW - timedelta(days=11)).exists()
    assert FieldInsight.objects.filter(answer_campaign__isnull=False).exists()


def test_spotlights_tell_won_deals_of_both_teams_and_get_thanked() -> None:
    seed(leads=1000)  # 400 leads close too few deals

    spotlights = spotlights_latest(limit=10)
    assert 3 <= len(spotlights) <= 5
    assert len({s.deal_id for s in spotlights}) == len(spotlights)
    for spotlight in spotlights:
        assert spotlight.deal.status == "won" and spotlight.created_at > spotlight.deal.closed_at
        teams = {credit.team for credit in spotlight.credits.all()}
        assert teams == {"marketing", "sales"}
        assert spotlight.deal.lead.owner_id in {c.user_id for c in spotlight.credits.all()}
        assert spotlight.thanks_count >= 3 and spotlight.story


def test_shadowing_sessions_are_logged_debriefed_and_scheduled() -> None:
    seed()

    sessions = ShadowingSession.objects.all()
    assert set(sessions.values_list("status", flat=True)) == {"done", "scheduled", "cancelled"}
    for session in sessions:
        assert session.person_team != session.host_team
        if session.status == "done":
            assert session.learned and session.ends_at <= session.logged_at <= NOW
        else:
            assert not session.learned and session.logged_at is None
    assert sessions.filter(status="done").count() >= 3
    assert sessions.filter(status="scheduled", starts_at__gt=NOW).count() >= 2
    debriefed = sessions.get(debrief__isnull=False)
    assert debriefed.debrief.kind == "shadowing_debrief"
    assert debriefed.debrief.starts_at > debriefed.ends_at
    attendees = set(debriefed.debrief.attendees.all())
    assert {debriefed.person, debriefed.host} <= attendees
    tz = timezone.get_current_timezone()
    month = period_start("month", timezone.localdate(NOW))
    this_month = shadowing_between(
        start=local_midnight(month, tz), end=local_midnight(next_period("month", month), tz)
    )
    assert this_month.count() >= 2


# --- the lead-quality ledger (issue 12): withdrawals, rejections later won, disputes ---------


@pytest.fixture(scope="class")
def ledger_demo(django_db_setup: None, django_db_blocker: Any) -> Iterator[dict[str, int]]:
    """What `make run` loads (2,000 leads over 12 months) with its months' numbers computed,
    seeded once for the class, in a transaction rolled back after it (each test runs in a
    savepoint of it). Yields the seed's summary counts."""
    with django_db_blocker.unblock(), transaction.atomic():
        counts = summary_counts(seed(leads=2000, months=12))
        first = timezone.localdate(Lead.objects.order_by("created_at").first().created_at)
        months = periods_overlapping("month", first, timezone.localdate(NOW))
        kpis_recompute(kind="month", periods=months, now=NOW)
        yield counts
        transaction.set_rollback(True)


def ledger_totals(metric: str) -> tuple[Decimal, Decimal | None]:
    """A metric's numerator and denominator summed over the demo's months (the totals)."""
    totals = KpiSnapshot.objects.filter(metric=metric, period="month", dimension="").aggregate(
        n=Sum("numerator"), d=Sum("denominator")
    )
    return totals["n"] or Decimal(0), totals["d"]


@pytest.mark.usefixtures("ledger_demo")
class TestTheLedgerInTheDemo:
    def test_every_handoff_names_the_events_that_opened_and_closed_it(self) -> None:
        for handoff in Handoff.objects.select_related("opening_event", "closing_event"):
            opening, closing = handoff.opening_event, handoff.closing_event
            assert (opening.lead_id, opening.stage, opening.occurred_at) == (
                handoff.lead_id,
                "mql",
                handoff.handed_at,
            )
            if handoff.status == "pending":
                assert closing is None
                continue
            assert (closing.lead_id, closing.occurred_at) == (handoff.lead_id, handoff.decided_at)
            assert closing.actor_id == handoff.decided_by_id

    def test_replaying_every_lead_changes_no_handoff(self) -> None:
        columns = [f.attname for f in Handoff._meta.concrete_fields]
        before = list(Handoff.objects.order_by("pk").values_list(*columns))

        leads_sync_stages(lead_ids=Lead.objects.values_list("pk", flat=True))
        assert list(Handoff.objects.order_by("pk").values_list(*columns)) == before

    def test_a_few_percent_of_handoffs_are_withdrawn_by_the_lead_leaving_the_funnel(
        self,
    ) -> None:
        handoffs = Handoff.objects.count()
        withdrawn = Handoff.objects.filter(evidence.withdrawn()).select_related("closing_event")
        assert 0.01 <= withdrawn.count() / handoffs <= 0.08, withdrawn.count()
        handed_again = 0
        for handoff in withdrawn:
            event = handoff.closing_event
            assert event.stage in {"recycled", "disqualified", "lost"}
            assert handoff.handed_at < event.occurred_at == handoff.decided_at
            assert handoff.reason_id is None and handoff.rating is None
            # A withdrawal is no response to the lead: only an attempt is, before it (a later
            # one answers the lead's next handoff).
            first = handoff.first_attempt_at
            in_time = first is not None and first <= handoff.decided_at
            assert handoff.responded_at == (first if in_time else None)
            handed_again += Handoff.objects.filter(
                lead_id=handoff.lead_id, handed_at__gt=handoff.decided_at
            ).exists()
        assert 0 < handed_again < withdrawn.count()

    def test_some_rejections_are_later_won_and_some_acceptances_later_disqualified(
        self,
    ) -> None:
        rejected = Handoff.objects.filter(status="rejected")
        won = rejected.filter(evidence.rejected_then_won())
        assert 0.01 <= won.count() / rejected.count() <= 0.1, won.count()
        for handoff in won:  # sales took the lead on a later handoff and won it
            assert Deal.objects.filter(
                lead_id=handoff.lead_id, status="won", closed_at__gt=handoff.decided_at
            ).exists()
            assert Handoff.objects.filter(
                lead_id=handoff.lead_id, status="accepted", handed_at__gt=handoff.decided_at
            ).exists()
        accepted = Handoff.objects.filter(status="accepted")
        disqualified = accepted.filter(evidence.accepted_then_disqualified())
        assert 0.02 <= disqualified.count() / accepted.count() <= 0.2, disqualified.count()
        for handoff in disqualified:
            assert StageEvent.objects.filter(
                lead_id=handoff.lead_id, stage="disqualified", occurred_at__gt=handoff.decided_at
            ).exists()

    def test_disputes_of_recent_rejections_are_in_every_state(self) -> None:
        disputes = list(
            Dispute.objects.select_related(
                "handoff__reason", "raised_by", "outcome_by", "resolved_by"
            ).order_by("raised_at")
        )
        states = Counter(d.status for d in disputes)
        assert 1 <= states["open"] <= 2 and 1 <= states["awaiting"] <= 2
        assert states["resolved"] > states["open"] + states["awaiting"]  # the heads settle most
        assert {d.outcome for d in disputes if d.status == "resolved"} == {"upheld", "overturned"}
        reasons = Counter(d.handoff.reason.code for d in disputes)
        assert reasons["no_budget"] + reasons["not_ready"] + reasons["bad_fit"] > len(disputes) / 2
        window = timedelta(days=settings.DISPUTE_WINDOW_DAYS)
        for dispute in disputes:
            handoff = dispute.handoff
            assert handoff.status == "rejected"
            assert handoff.decided_at <= dispute.raised_at <= handoff.decided_at + window
            assert NOW - timedelta(days=61) <= dispute.raised_at <= NOW
            assert user_team(dispute.raised_by) == "marketing" and dispute.comment
            if dispute.status == "open":
                assert not dispute.outcome and dispute.outcome_by is None
                continue
            assert dispute.raised_at < dispute.outcome_at <= NOW
            assert dispute.outcome_by.username in {"maria", "tom"}
            assert dispute.outcome_at < dispute.notified_at  # the head awaited was told then
            if dispute.status == "awaiting":  # Tom has to confirm what Maria recorded
                assert (dispute.outcome_by.username, dispute.awaiting_team) == ("maria", "sales")
                continue
            heads = {dispute.outcome_by.username, dispute.resolved_by.username}
            assert heads == {"maria", "tom"}
            assert dispute.outcome_at < dispute.resolved_at <= NOW
        assert [d.status for d in disputes][-states["open"] :] == ["open"] * states["open"]

    def test_every_overturned_rejection_has_a_note_and_went_to_another_rep(self) -> None:
        assert not Dispute.objects.filter(outcome="overturned", outcome_note="").exists()
        overturned = Dispute.objects.filter(status="resolved", outcome="overturned")
        assert overturned.exists()
        for dispute in overturned.select_related("handoff", "reopen_event"):
            rejection, event = dispute.handoff, dispute.reopen_event
            assert (event.lead_id, event.stage, event.source) == (
                rejection.lead_id,
                "mql",
                "system",
            )
            assert event.occurred_at == dispute.resolved_at
            reopened = Handoff.objects.select_related("owner").get(opening_event=event)
            assert reopened.handed_at == dispute.resolved_at
            assert user_role(reopened.owner) == Role.SALES_REP
            assert reopened.owner_id not in {rejection.decided_by_id, rejection.owner_id}
            assert reopened.lead.owner_id == reopened.owner_id or reopened.lead.handoffs.filter(
                handed_at__gt=reopened.handed_at
            )
        assert not Dispute.objects.filter(outcome="upheld", reopen_event__isnull=False).exists()

    def test_the_demos_numbers_show_both_sides_of_the_ledger(
        self, ledger_demo: dict[str, int]
    ) -> None:
        for metric in (
            "followed_up_rate",
            "rejected_without_contact_rate",
            "rejected_then_won_rate",
            "accepted_then_disqualified_rate",
            "dispute_rate",
            "dispute_overturn_rate",
        ):
            numerator, denominator = ledger_totals(metric)
            assert 0 < numerator < denominator, metric
        withdrawn = Handoff.objects.filter(status="withdrawn").count()
        assert ledger_totals("handoffs_withdrawn")[0] == withdrawn
        assert ledger_totals("dispute_rate")[0] == Dispute.objects.count()
        resolved = Dispute.objects.filter(status="resolved")
        assert ledger_totals("dispute_overturn_rate") == (
            resolved.filter(outcome="overturned").count(),
            resolved.count(),
        )
        for model in (Dispute, Handoff, StageEvent, ContactAttempt, Deal):
            label = str(model._meta.verbose_name_plural)
            assert ledger_demo[label] == model.objects.count(), label

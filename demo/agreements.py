"""The demo company's agreements and shared numbers: the SLA's history, the lead definition,
the payout curve, shared goals with their weekly check-ins, and revenue forecasts.

Before the funnel is loaded, `agreements_write` signs the agreements in effect over the window
(through the alignment services, approvals dated in the past by the real heads), so that the
generator derives every handoff's SLA facts and score under them. After the load,
`numbers_write` sets what must agree with the generated numbers: the SAL commitments, goals
whose targets put some on track, some at risk and one off track, check-ins that say what the
pace said each week, and forecasts within 10–30 % of what was won. Every query here is an
aggregate or one read per goal: nothing runs per lead.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count
from django.db.models.functions import TruncMonth

from alignment import scorecard as card
from alignment import scoring
from alignment.models import (
    Goal,
    GoalCheckIn,
    LeadDefinition,
    PayoutCurve,
    RevenueForecast,
    ServiceLevelAgreement,
    VersionStatus,
)
from alignment.roles import Team
from alignment.selectors import team_heads
from alignment.services.forecasts import revenue_forecast_set
from alignment.services.goals import goal_check_in, goal_create
from alignment.services.lead_definitions import lead_definition_approve, lead_definition_create
from alignment.services.sla import sla_approve, sla_create
from core.catalog import METRICS
from core.periods import elapsed_share, local_midnight, next_period, period_start, previous_period
from leads.models import Deal, Handoff, Lead

# --- the lead definition ----------------------------------------------------------------------

MQL_THRESHOLD = 50
SCORING_RULES: tuple[dict[str, Any], ...] = (
    # Interest: what the lead did (marketing automation counts it in `engagement`).
    {"field": "attributes.engagement.demo_requests", "operator": "gte", "value": 1, "points": 40},
    {"field": "attributes.engagement.meetings", "operator": "gte", "value": 1, "points": 30},
    {"field": "attributes.engagement.replies", "operator": "gte", "value": 1, "points": 25},
    {"field": "attributes.engagement.webinars_attended", "operator": "gte", "value": 1,
     "points": 20},
    {"field": "attributes.engagement.downloads", "operator": "gte", "value": 2, "points": 10},
    {"field": "attributes.engagement.touches", "operator": "gte", "value": 4, "points": 15},
    {"field": "channel", "operator": "in", "value": ["referral", "partner"], "points": 25},
    # Fit: who the lead is.
    {"field": "segment", "operator": "equals", "value": "enterprise", "points": 20},
    {"field": "segment", "operator": "equals", "value": "mid_market", "points": 10},
    {"field": "attributes.employees", "operator": "gte", "value": 1000, "points": 5},
    {"field": "attributes.seniority", "operator": "in", "value": ["c_level", "vp", "head"],
     "points": 15},
    {"field": "attributes.job_title", "operator": "in", "value": ["Student", "Intern"],
     "points": -50},
)  # fmt: skip
CRITERIA = (
    "A lead is marketing-qualified when the company fits and the person shows real interest. "
    f"It reaches {MQL_THRESHOLD} points: a demo request, a meeting at an event or a reply to "
    "outbound counts most; attending a webinar, downloading content twice and four or more "
    "touches count too. Referred and partner leads start warm. Mid-market and enterprise "
    "companies and senior buyers (heads, VPs, C-level) score extra; students and interns "
    "never qualify on interest alone."
)


ENGAGEMENT = "attributes.engagement."  # the rules on what a lead did, not who it is


@dataclass(frozen=True)
class DemoDefinition:
    """The rules the generator scores leads with; `version` is the stored lead definition
    they are (None: the database had its own definition, so the leads stay unscored).

    Scores are `scoring.score`'s, made fast enough to score a million leads after every
    touch: a lead's score is its fit (the rules on who it is, scored once per lead and
    remembered for the values those rules read) plus its engagement (the rules on
    `attributes.engagement`, remembered for each set of engagement counts).
    """

    rules: tuple[scoring.Rule, ...]
    threshold: int
    version: int | None
    fit_rules: tuple[scoring.Rule, ...] = ()
    engagement_rules: tuple[scoring.Rule, ...] = ()
    _fits: dict[tuple, scoring.Score] = field(default_factory=dict)
    _engagements: dict[tuple, scoring.Score] = field(default_factory=dict)

    @classmethod
    def of(cls, version: int | None) -> DemoDefinition:
        rules = tuple(scoring.Rule(**rule) for rule in SCORING_RULES)
        return cls(
            rules,
            MQL_THRESHOLD,
            version,
            fit_rules=tuple(r for r in rules if not r.field.startswith(ENGAGEMENT)),
            engagement_rules=tuple(r for r in rules if r.field.startswith(ENGAGEMENT)),
        )

    def fit(self, lead: dict[str, Any]) -> scoring.Score:
        """The score of the rules on who the lead is (not on its engagement)."""
        key = tuple(repr(scoring.resolve(rule.field, lead)) for rule in self.fit_rules)
        found = self._fits.get(key)
        if found is None:
            found = self._fits[key] = scoring.score(self.fit_rules, lead)
        return found

    def engagement(self, counts: dict[str, int]) -> scoring.Score:
        """The score of the rules on `attributes.engagement`, for these counts."""
        key = tuple(sorted(counts.items()))
        found = self._engagements.get(key)
        if found is None:
            lead = {"attributes": {"engagement": dict(counts)}}
            found = self._engagements[key] = scoring.score(self.engagement_rules, lead)
        return found

    def total(self, fit: scoring.Score, engagement: scoring.Score) -> scoring.Score:
        """Both parts as one score, its matched rules in the definition's order."""
        order = {id(rule): n for n, rule in enumerate(self.rules)}
        matched = sorted((*fit.matched, *engagement.matched), key=lambda m: order[id(m.rule)])
        return scoring.Score(points=fit.points + engagement.points, matched=tuple(matched))

    def stored_points(self, points: int) -> int | None:
        """The lead's `score` column: its points, when the leads are scored."""
        return None if self.version is None else points

    def matched_rules(self, score: scoring.Score | None) -> list[dict[str, Any]]:
        """What `leads.services` keeps on a handoff opened by a score."""
        if self.version is None or score is None:
            return []
        return [{**m.as_dict(), "definition_version": self.version} for m in score.matched]


# --- when things happened ---------------------------------------------------------------------


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    """A moment of a working day in the organisation's time zone."""
    return datetime.combine(day, time(hour, minute), _zone())


def _workday(day: date) -> date:
    """The day itself, or the Friday before a weekend day."""
    return day - timedelta(days=max(day.weekday() - 4, 0))


def _backdate(model: type, pk: int, **moments: datetime) -> None:
    """Set auto_now(_add) columns to when the demo says it happened."""
    model.objects.filter(pk=pk).update(**moments)


@dataclass(frozen=True)
class People:
    marketing: AbstractBaseUser  # the head of marketing
    sales: AbstractBaseUser  # the head of sales
    enterprise: AbstractBaseUser  # the enterprise sales manager


def demo_people(users: dict[str, int]) -> People | None:
    """The heads who sign (whoever heads each team) and grace; None without both heads."""
    heads = team_heads()
    if heads[Team.MARKETING] is None or heads[Team.SALES] is None:
        return None
    grace = get_user_model().objects.filter(pk=users.get("grace")).first()
    return People(heads[Team.MARKETING], heads[Team.SALES], grace or heads[Team.SALES])


# --- before the funnel: versions and the curve ------------------------------------------------


def agreements_flush() -> None:
    """Delete what the demo writes besides the funnel (the default SLA v1 stays)."""
    GoalCheckIn.objects.all().delete()
    Goal.objects.all().delete()
    RevenueForecast.objects.all().delete()
    PayoutCurve.objects.all().delete()
    LeadDefinition.objects.all().delete()
    ServiceLevelAgreement.objects.exclude(version=1).delete()


def agreements_write(*, start: datetime, now: datetime, people: People | None) -> DemoDefinition:
    """SLA v1 (superseded) and v2 (in effect), a v3 draft awaiting sales, lead definition v1
    from the window's `start`, and the payout curve. Each is written only where the database
    has none of its own (the SLA: only the migrations' default v1)."""
    if people is None:
        return DemoDefinition.of(None)
    slas = list(ServiceLevelAgreement.objects.order_by("version"))
    if len(slas) == 1 and slas[0].version == 1:  # the migrations' default, or the demo's v1
        _sla_history(slas[0], start=start, now=now, people=people)
    version = None
    if not LeadDefinition.objects.exists():
        version = _lead_definition(start=start, people=people).version
    if not PayoutCurve.objects.exists():
        before = start.astimezone(_zone()).date() - timedelta(days=1)
        curve = PayoutCurve.objects.create(
            effective_from=period_start("quarter", before),
            threshold=Decimal("0.6"),
            threshold_payout=Decimal("0.4"),
            target=Decimal(1),
            cap=Decimal("1.5"),
            cap_payout=Decimal("1.75"),
            created_by=people.sales,
        )
        _backdate(PayoutCurve, curve.pk, created_at=_at(_workday(curve.effective_from), 11, 20))
    return DemoDefinition.of(version)


def _sla_history(
    v1: ServiceLevelAgreement, *, start: datetime, now: datetime, people: People
) -> None:
    zone = _zone()
    first_day, today = start.astimezone(zone).date(), now.astimezone(zone).date()
    # v1: signed before the window; looser terms, calendar hours.
    v1_from = period_start("month", first_day - timedelta(days=100))
    signed = _at(_workday(v1_from - timedelta(days=12)), 15, 10)
    countersigned = _at(_workday(v1_from - timedelta(days=9)), 9, 40)
    ServiceLevelAgreement.objects.filter(pk=v1.pk).update(
        effective_from=local_midnight(v1_from, zone),
        first_contact_hours=Decimal(8),
        attempts=5,
        attempt_spacing_days=Decimal(3),
        notes="Our first agreement: every MQL gets a first call the same working day and five "
        "attempts over two weeks.",
        created_by=people.marketing,
        created_at=signed - timedelta(days=6),
        updated_at=countersigned,
        marketing_approved_by=people.marketing,
        marketing_approved_at=signed,
        sales_approved_by=people.sales,
        sales_approved_at=countersigned,
        approved_at=countersigned,
        applied_at=countersigned + timedelta(minutes=4),
    )
    # v2: from the first of a month about halfway through the window, in business hours.
    middle = first_day + (today - first_day) * 45 // 100
    v2_day = min(
        max(next_period("month", period_start("month", middle)), first_day + timedelta(days=14)),
        today - timedelta(days=14),
    )
    v2_from = local_midnight(v2_day, zone)
    v2 = sla_create(
        by=people.sales,
        effective_from=v2_from,
        first_contact_hours=Decimal(4),
        attempts=6,
        attempt_spacing_days=Decimal(2),
        monthly_sal_commitment=100,  # set from the generated SALs (`sal_commitments_set`)
        business_days="1,2,3,4,5",
        business_start=time(8, 0),
        business_end=time(18, 0),
        notes="Tighter follow-up: leads called the next morning went cold. Deadlines count "
        "business hours (Mon–Fri 8:00–18:00), so a Friday-evening MQL is not a breach.",
    )
    sla_approve(sla=v2, by=people.marketing, now=_at(_workday(v2_day - timedelta(days=9)), 16, 30))
    v2 = sla_approve(sla=v2, by=people.sales, now=_at(_workday(v2_day - timedelta(days=7)), 11, 15))
    _backdate(
        ServiceLevelAgreement,
        v2.pk,
        created_at=_at(_workday(v2_day - timedelta(days=16)), 10, 5),
        updated_at=v2.approved_at,
        applied_at=v2_from,  # the generated handoffs are derived under it
    )
    # v3: proposed by marketing this week, approved by marketing, waiting for sales.
    proposed = _at(_workday(max(today - timedelta(days=3), v2_day + timedelta(days=2))), 9, 45)
    proposed = min(proposed, now - timedelta(hours=3))
    v3 = sla_create(
        by=people.marketing,
        effective_from=local_midnight(next_period("month", today), zone),
        first_contact_hours=Decimal(2),
        attempts=6,
        attempt_spacing_days=Decimal(2),
        monthly_sal_commitment=100,
        business_days="1,2,3,4,5",
        business_start=time(8, 0),
        business_end=time(18, 0),
        notes="Proposed by marketing: first contact within 2 business hours. Leads called "
        "within the hour accept and convert better; marketing raises its SAL commitment "
        "in return.",
    )
    v3 = sla_approve(sla=v3, by=people.marketing, now=proposed + timedelta(hours=2))
    _backdate(
        ServiceLevelAgreement, v3.pk, created_at=proposed, updated_at=v3.marketing_approved_at
    )


def _lead_definition(*, start: datetime, people: People) -> LeadDefinition:
    day = start.astimezone(_zone()).date()
    definition = lead_definition_create(
        by=people.marketing,
        effective_from=start,
        criteria=CRITERIA,
        mql_threshold=MQL_THRESHOLD,
        rules=list(SCORING_RULES),
        notes="Replaces the hand-picked MQL list: both teams score every lead the same way.",
    )
    lead_definition_approve(
        definition=definition,
        by=people.marketing,
        now=_at(_workday(day - timedelta(days=6)), 14, 20),
    )
    definition = lead_definition_approve(
        definition=definition, by=people.sales, now=_at(_workday(day - timedelta(days=4)), 10, 5)
    )
    _backdate(
        LeadDefinition,
        definition.pk,
        created_at=_at(_workday(day - timedelta(days=11)), 9, 30),
        updated_at=definition.approved_at,
        applied_at=start,  # the generated leads are scored under it
    )
    return definition


# --- after the funnel: commitments, forecasts, goals and check-ins ----------------------------


def numbers_write(
    *, start: datetime, now: datetime, people: People | None, seed: int
) -> dict[str, int]:
    """What must agree with the generated funnel; returns how many rows of each it wrote."""
    if people is None:
        return {}
    rng = random.Random(f"{seed}:agreements")
    _sal_commitments_set(start=start, now=now)
    counts = {"revenue forecasts": 0, "goals": 0, "goal check-ins": 0}
    if not RevenueForecast.objects.exists():
        counts["revenue forecasts"] = _forecasts(start=start, now=now, people=people, rng=rng)
    if not Goal.objects.exists():
        counts["goals"], counts["goal check-ins"] = _goals(now=now, people=people, rng=rng)
    counts["what-if runs"] = _definition_draft(now=now, people=people)
    return counts


#: What sales proposes for lead definition v2: touches alone make no buyer, webinars say more.
DRAFT_THRESHOLD = 60
DRAFT_POINTS = {"attributes.engagement.touches": 5, "attributes.engagement.webinars_attended": 25}
#: A what-if scores every lead of the last 90 days in Python; a big demo (the benchmark's
#: million leads) leaves it to a head to run.
WHAT_IF_MAX_LEADS = 50_000


def _definition_draft(*, now: datetime, people: People) -> int:
    """Lead definition v2, drafted by the head of sales and approved for sales, awaiting
    marketing, with the what-if the two heads discuss; returns the what-if runs written."""
    from leads.what_if import WHAT_IF_DAYS, what_if_run, what_if_start

    current = LeadDefinition.objects.filter(status=VersionStatus.APPROVED).order_by("-version")
    if current.count() != 1 or LeadDefinition.objects.exclude(pk=current[0].pk).exists():
        return 0
    proposed = min(_at(_workday(now.astimezone(_zone()).date() - timedelta(days=2)), 11, 10), now)
    rules = [
        {**rule, "points": DRAFT_POINTS.get(rule["field"], rule["points"])}
        for rule in SCORING_RULES
    ]
    draft = lead_definition_create(
        by=people.sales,
        effective_from=local_midnight(
            next_period("month", now.astimezone(_zone()).date()), _zone()
        ),
        criteria=CRITERIA.replace(f"{MQL_THRESHOLD} points", f"{DRAFT_THRESHOLD} points"),
        mql_threshold=DRAFT_THRESHOLD,
        rules=rules,
        notes="Proposed by sales: four touches alone don't make a buyer, and webinar attendees "
        f"convert. Raise the bar to {DRAFT_THRESHOLD} points, count touches less and webinars "
        "more.",
    )
    draft = lead_definition_approve(definition=draft, by=people.sales, now=proposed)
    _backdate(LeadDefinition, draft.pk, created_at=proposed - timedelta(hours=1))
    recent = Lead.objects.filter(created_at__gte=now - timedelta(days=WHAT_IF_DAYS)).count()
    if recent > WHAT_IF_MAX_LEADS:
        return 0
    # Run here, so that the page has its numbers on first start; the task queued after commit
    # finds the run done.
    what_if_run(run_id=str(what_if_start(definition=draft, by=people.sales, now=now).pk))
    return 1


def _round_to(value: float, step: float) -> int:
    return max(int(step), int(round(value / step) * step))


def _sal_commitments_set(*, start: datetime, now: datetime) -> None:
    """The SAL commitment of each version: what marketing delivered in its full months (v2
    asks 5 % more, the v3 draft 15 % more again), so the marketing side reads believably."""
    zone = _zone()
    first, this_month = (
        start.astimezone(zone).date(),
        period_start("month", now.astimezone(zone).date()),
    )
    per_month = {
        row["m"].date() if isinstance(row["m"], datetime) else row["m"]: row["n"]
        for row in Handoff.objects.filter(status=Handoff.Status.ACCEPTED, decided_at__isnull=False)
        .annotate(m=TruncMonth("decided_at", tzinfo=zone))
        .values("m")
        .annotate(n=Count("id"))
    }
    full = [m for m in per_month if m >= first and m < this_month]
    approved = list(
        ServiceLevelAgreement.objects.filter(status=VersionStatus.APPROVED).order_by(
            "effective_from"
        )
    )
    if not full or len(approved) < 2:
        return
    v2_start = approved[-1].effective_from.astimezone(zone).date()
    older = [per_month[m] for m in full if m < v2_start] or [per_month[m] for m in full]
    newer = [per_month[m] for m in full if m >= v2_start] or older
    step = 5 if statistics.mean(newer) >= 20 else 1
    commitments = {
        approved[-2].pk: _round_to(statistics.mean(older), step),
        approved[-1].pk: _round_to(statistics.mean(newer) * 1.05, step),
    }
    for pk, n in commitments.items():
        ServiceLevelAgreement.objects.filter(pk=pk).update(monthly_sal_commitment=n)
    ServiceLevelAgreement.objects.filter(status=VersionStatus.DRAFT).update(
        monthly_sal_commitment=_round_to(commitments[approved[-1].pk] * 1.15, step)
    )


def _won(begin: datetime, end: datetime) -> Decimal:
    deals = Deal.objects.filter(status=Deal.Status.WON, closed_at__gte=begin, closed_at__lt=end)
    return sum((amount for amount in deals.values_list("amount", flat=True)), Decimal(0))


def _forecasts(*, start: datetime, now: datetime, people: People, rng: random.Random) -> int:
    """Revenue forecasts of the quarters in the window and the running one, entered before
    each started and 10–30 % off what was won (the running one: off its projection)."""
    zone = _zone()
    first, today = start.astimezone(zone).date(), now.astimezone(zone).date()
    current = period_start("quarter", today)
    quarters = [q for q in _quarters(first, current) if q >= first] + [current]
    rows, expected = [], Decimal(0)
    for quarter in quarters:
        begin = local_midnight(quarter, zone)
        end = local_midnight(next_period("quarter", quarter), zone)
        won = _won(begin, min(end, now))
        share = elapsed_share("quarter", quarter, now, zone)
        if share >= 1:
            expected = won
        elif share >= card.PACE_MIN_ELAPSED and won > 0:
            expected = won / share
        # else: too little of it gone to project; sales went by the quarter before
        if expected <= 0:
            continue
        miss = Decimal(str(round(rng.uniform(0.1, 0.3), 3))) * rng.choice((1, -1))
        step = 5000 if expected >= 100_000 else 500
        amount = Decimal(_round_to(float(expected * (1 + miss)), step))
        entered = _at(
            _workday(quarter - timedelta(days=rng.randint(6, 12))), 16, rng.randint(0, 59)
        )
        rows.append(
            RevenueForecast(
                period="quarter",
                period_start=quarter,
                amount=amount,
                note=rng.choice(FORECAST_NOTES),
                entered_by=people.sales,
                entered_at=entered,
            )
        )
    RevenueForecast.objects.bulk_create(rows)
    if rows:  # next quarter's, entered this week (before it starts, as the service requires)
        ahead = next_period("quarter", current)
        share = elapsed_share("quarter", current, now, zone)
        running = rows[-1].amount if rows[-1].period_start == current else Decimal(0)
        if share >= card.PACE_MIN_ELAPSED and running > 0:
            revenue_forecast_set(
                period="quarter",
                period_start=ahead,
                amount=Decimal(
                    _round_to(float(running) * 1.08, 5000 if running >= 100_000 else 500)
                ),
                by=people.sales,
                note="First cut: this quarter's forecast plus the growth of the last two.",
                now=min(now - timedelta(hours=2), local_midnight(ahead, zone) - timedelta(days=1)),
            )
            return len(rows) + 1
    return len(rows)


def _quarters(first: date, last: date) -> list[date]:
    out, quarter = [], period_start("quarter", first)
    while quarter < last:
        out.append(quarter)
        quarter = next_period("quarter", quarter)
    return out


FORECAST_NOTES = (
    "Weighted pipeline: 60 % of commit-stage deals, 25 % of best case.",
    "Bottom-up from the AEs' commits, minus the usual slippage on enterprise deals.",
    "Last quarter's run rate plus the two enterprise renewals we expect to land.",
    "Commit deals only; the webinar pipeline is not in it yet.",
)


# --- goals --------------------------------------------------------------------------------


Reader = Callable[[datetime], Decimal | None]


def _reader(metric: str, begin: datetime, end: datetime) -> Reader:
    """The metric of the period [begin, end) as it stood at any moment (one query), by the
    catalog's definition of it (core/catalog.py)."""
    handed = Handoff.objects.filter(handed_at__gte=begin, handed_at__lt=end)
    if metric == "sals":
        times = sorted(
            Handoff.objects.filter(
                status=Handoff.Status.ACCEPTED, decided_at__gte=begin, decided_at__lt=end
            ).values_list("decided_at", flat=True)
        )
        return lambda at: Decimal(sum(1 for t in times if t <= at))
    if metric == "mqls":
        times = sorted(handed.values_list("handed_at", flat=True))
        return lambda at: Decimal(sum(1 for t in times if t <= at))
    if metric == "leads_created":
        times = sorted(
            Lead.objects.filter(created_at__gte=begin, created_at__lt=end).values_list(
                "created_at", flat=True
            )
        )
        return lambda at: Decimal(sum(1 for t in times if t <= at))
    if metric == "revenue_won":
        deals = list(
            Deal.objects.filter(
                status=Deal.Status.WON, closed_at__gte=begin, closed_at__lt=end
            ).values_list("closed_at", "amount")
        )
        return lambda at: sum((a for t, a in deals if t <= at), Decimal(0))
    if metric == "acceptance_rate":
        # Over decided handoffs: a withdrawal is neither accepted nor rejected.
        decided_statuses = [Handoff.Status.ACCEPTED, Handoff.Status.REJECTED]
        rows = list(handed.filter(status__in=decided_statuses).values_list("decided_at", "status"))

        def rate(at: datetime) -> Decimal | None:
            decided = [status for t, status in rows if t <= at]
            accepted = sum(1 for status in decided if status == Handoff.Status.ACCEPTED)
            return Decimal(accepted) / len(decided) if decided else None

        return rate
    if metric == "speed_to_lead_median_hours":
        speeds = list(
            handed.filter(speed_to_lead_hours__isnull=False).values_list(
                "first_attempt_at", "speed_to_lead_hours"
            )
        )

        def median(at: datetime) -> Decimal | None:
            known = [speed for t, speed in speeds if t <= at]
            return Decimal(repr(statistics.median(known))) if known else None

        return median
    raise ValueError(f"The demo sets no goal on {metric}.")


@dataclass(frozen=True)
class GoalPlan:
    """A shared goal the demo sets, and the pace its target is chosen for: the projected
    attainment at the time of seeding (≥ 1 on track, ≥ 0.9 at risk, below that off track)."""

    metric: str
    period: str
    owner: str
    pace: float
    name: str  # {period} is the period's name
    specific: str  # {target}
    achievable: str  # {basis}
    relevant: str


GOALS_NOW: tuple[GoalPlan, ...] = (
    GoalPlan(
        "sals",
        "month",
        Goal.Owner.BOTH,
        1.12,
        "{target} SALs in {period}",
        "Sales accepts {target} marketing-qualified leads in {period}.",
        "We are delivering about {basis} a month; the webinar series adds to it.",
        "SALs are where both teams' work meets: marketing's leads, sales' acceptance.",
    ),
    GoalPlan(
        "mqls",
        "month",
        Goal.Owner.MARKETING,
        1.08,
        "{target} MQLs handed to sales in {period}",
        "Marketing hands {target} leads that reach the MQL threshold to sales in {period}.",
        "The running campaigns produce about {basis} a month at the current threshold.",
        "Enough qualified leads to fill the reps' calendars without lowering the bar.",
    ),
    GoalPlan(
        "acceptance_rate",
        "month",
        Goal.Owner.BOTH,
        0.95,
        "Acceptance rate of {target} in {period}",
        "Sales accepts at least {target} of the handoffs marketing makes in {period}.",
        "The rate stands at {basis}; the new scoring rules should lift it.",
        "A high acceptance rate means marketing hands over leads sales wants to work.",
    ),
    GoalPlan(
        "revenue_won",
        "quarter",
        Goal.Owner.SALES,
        1.1,
        "Win {target} of revenue in {period}",
        "Sales closes deals worth {target} in {period}.",
        "The pipeline supports about {basis} this quarter at our win rate.",
        "Revenue is what both teams are paid on; the forecast depends on it.",
    ),
    GoalPlan(
        "leads_created",
        "quarter",
        Goal.Owner.MARKETING,
        0.94,
        "{target} new leads in {period}",
        "Marketing brings in {target} new leads in {period}.",
        "Campaigns ran at about {basis} a quarter; the events season adds to it.",
        "The top of the funnel sets what sales can close next quarter.",
    ),
    GoalPlan(
        "speed_to_lead_median_hours",
        "quarter",
        Goal.Owner.SALES,
        0.78,
        "Median speed to lead under {target} in {period}",
        "Half of all handoffs get a first contact attempt within {target} business hours in "
        "{period}.",
        "The median is {basis} today; the 2-hour SLA draft asks for better.",
        "Leads called quickly accept and convert far more often.",
    ),
)
GOALS_BEFORE: tuple[GoalPlan, ...] = (
    GoalPlan(
        "revenue_won",
        "quarter",
        Goal.Owner.SALES,
        1.06,
        "Win {target} of revenue in {period}",
        "Sales closes deals worth {target} in {period}.",
        "The pipeline supported about {basis} a quarter.",
        "Revenue is what both teams are paid on.",
    ),
    GoalPlan(
        "sals",
        "quarter",
        Goal.Owner.BOTH,
        0.93,
        "{target} SALs in {period}",
        "Sales accepts {target} marketing-qualified leads in {period}.",
        "About {basis} a quarter at the current lead volume.",
        "SALs are where both teams' work meets.",
    ),
    GoalPlan(
        "mqls",
        "quarter",
        Goal.Owner.MARKETING,
        1.04,
        "{target} MQLs in {period}",
        "Marketing hands {target} qualified leads to sales in {period}.",
        "About {basis} a quarter from the running campaigns.",
        "Enough qualified leads for the whole sales team.",
    ),
    GoalPlan(
        "acceptance_rate",
        "quarter",
        Goal.Owner.BOTH,
        0.97,
        "Acceptance rate of {target} in {period}",
        "Sales accepts at least {target} of the handoffs made in {period}.",
        "The rate stood at {basis}.",
        "Marketing hands over leads sales wants to work.",
    ),
)

CHECK_IN_REMARKS: dict[str, tuple[str, ...]] = {
    "on_track": (
        "Webinar follow-ups are converting well.",
        "The enterprise team accepted most of last week's handoffs.",
        "Good week; no blockers.",
        "Steady. Keep the Thursday pipeline review as it is.",
        "The new scoring rules send fewer but better leads.",
    ),
    "at_risk": (
        "A slow week: two reps were at the Summit.",
        "Too many handoffs still undecided after three days; Tom is on it.",
        "Paid search volume dropped after the budget cut.",
        "Rejections for 'not ready' are up; marketing reviews the nurture track.",
        "We need a strong last week to make it.",
    ),
    "off_track": (
        "Follow-up on Friday handoffs waits until Monday; the SLA draft addresses it.",
        "Nina's queue is overloaded; reassigning part of it.",
        "Not there. We agreed on a call block every morning from 9 to 10.",
        "Discussed in the joint meeting: the 2-hour SLA draft is the fix.",
    ),
}


def _format(metric: str, value: Decimal | None) -> str:
    if value is None:
        return "no value yet"
    unit = METRICS[metric].unit
    if unit == "currency":
        return f"€{float(value) / 1000:,.0f}k"
    if unit == "ratio":
        return f"{float(value) * 100:.0f} %"
    if unit == "hours":
        return f"{float(value):.1f} h"
    return f"{float(value):,.0f}"


def _target(plan: GoalPlan, basis: Decimal) -> Decimal:
    """The target that puts a goal whose metric heads for `basis` at `plan.pace`."""
    higher = METRICS[plan.metric].higher_is_better
    value = float(basis) / plan.pace if higher else float(basis) * plan.pace
    unit = METRICS[plan.metric].unit
    if unit == "ratio":
        return Decimal(str(round(min(value, 0.99), 2)))
    if unit == "hours":
        return Decimal(str(max(round(value, 1), 0.1)))
    if unit == "currency":
        return Decimal(_round_to(value, 5000 if value >= 100_000 else 500))
    return Decimal(_round_to(value, 5 if value >= 200 else 1))


def _goals(*, now: datetime, people: People, rng: random.Random) -> tuple[int, int]:
    zone = _zone()
    today = now.astimezone(zone).date()
    cap = PayoutCurve.objects.order_by("-effective_from").values_list("cap", flat=True).first()
    cap = cap or card.DEFAULT_CURVE.cap
    goals = check_ins = 0
    plans = [(plan, period_start(plan.period, today)) for plan in GOALS_NOW]
    last_quarter = previous_period("quarter", period_start("quarter", today))
    plans += [(plan, last_quarter) for plan in GOALS_BEFORE]
    for plan, start in plans:
        _, weeks = _goal(plan, start, now=now, people=people, cap=cap, rng=rng)
        goals += 1
        check_ins += weeks
    return goals, check_ins


def _goal(
    plan: GoalPlan,
    start: date,
    *,
    now: datetime,
    people: People,
    cap: Decimal,
    rng: random.Random,
) -> tuple[Goal, int]:
    zone = _zone()
    metric = METRICS[plan.metric]
    begin, end = local_midnight(start, zone), local_midnight(next_period(plan.period, start), zone)
    read = _reader(plan.metric, begin, end)
    basis = _heading(plan, read, start, now)
    if basis is None or basis <= 0:  # nothing to go by yet: the period before
        before = previous_period(plan.period, start)
        earlier = _reader(plan.metric, local_midnight(before, zone), begin)
        basis = _heading(plan, earlier, before, now) or Decimal(1)
    target = _target(plan, basis)
    period = _period_name(plan.period, start)
    shown = _format(plan.metric, target)
    if plan.metric == "speed_to_lead_median_hours":
        shown = f"{float(target):.1f} business hours"
    created = _at(_workday(start - timedelta(days=3)), 14, rng.randint(0, 59))
    author = people.marketing if plan.owner == Goal.Owner.MARKETING else people.sales
    goal = goal_create(
        by=author,
        now=created,
        name=plan.name.format(target=shown, period=period),
        metric=plan.metric,
        target=target,
        period=plan.period,
        period_start=start,
        specific=plan.specific.format(target=shown, period=period),
        measurable=f"{metric.label}, as Tandem computes it: {metric.definition}",
        achievable=plan.achievable.format(basis=_format(plan.metric, basis)),
        relevant=plan.relevant,
        time_bound=f"By the end of {period}, reviewed every Friday.",
    )
    _backdate(Goal, goal.pk, owner_team=plan.owner, created_at=created, updated_at=created)
    goal.owner_team = plan.owner
    return goal, _check_ins(goal, read, now=now, people=people, cap=cap, rng=rng)


def _heading(plan: GoalPlan, read: Reader, start: date, now: datetime) -> Decimal | None:
    """Where the metric heads by its period's end, as the scorecard projects it."""
    metric, zone = METRICS[plan.metric], _zone()
    elapsed = elapsed_share(plan.period, start, now, zone)
    if elapsed < card.PACE_MIN_ELAPSED:
        return None
    return card.project(read(now), elapsed=elapsed, accumulates=metric.accumulates)


def _period_name(kind: str, start: date) -> str:
    if kind == "quarter":
        return f"Q{(start.month - 1) // 3 + 1} {start.year}"
    return f"{start:%B %Y}"


def _check_ins(
    goal: Goal,
    read: Reader,
    *,
    now: datetime,
    people: People,
    cap: Decimal,
    rng: random.Random,
) -> int:
    """A check-in every Friday afternoon of the period so far, saying what the pace said."""
    zone, metric = _zone(), METRICS[goal.metric]
    end = next_period(goal.period, goal.period_start)
    week = period_start("week", goal.period_start)
    written = 0
    while week < end:
        friday = week + timedelta(days=4)
        at = _at(friday, 16, rng.randint(0, 50))
        if at > now or friday >= end:
            break
        if friday >= goal.period_start:
            elapsed = elapsed_share(goal.period, goal.period_start, at, zone)
            actual = read(at)
            score = card.goal_score(
                actual,
                goal.target,
                higher_is_better=goal.higher_is_better,
                cap=cap,
                elapsed=elapsed,
                accumulates=metric.accumulates,
            )
            status = str(score.pace) if score.pace else "on_track"
            goal_check_in(
                goal=goal,
                by=_author(goal, written, people),
                status=status,
                note=_note(goal, score, status, rng),
                now=at,
            )
            written += 1
        week += timedelta(days=7)
    return written


def _author(goal: Goal, week: int, people: People) -> AbstractBaseUser:
    if goal.owner_team == Goal.Owner.MARKETING:
        return people.marketing
    if goal.owner_team == Goal.Owner.SALES:
        return (people.sales, people.enterprise)[week % 2]
    return (people.marketing, people.sales)[week % 2]


def _note(goal: Goal, score: card.GoalScore, status: str, rng: random.Random) -> str:
    metric = goal.metric
    actual, target = _format(metric, score.actual), _format(metric, goal.target)
    if score.pace is None:
        return f"Early days: {actual} so far. {rng.choice(CHECK_IN_REMARKS['on_track'])}"
    if METRICS[metric].accumulates:
        fact = f"{actual} so far, heading for {_format(metric, score.projected)} against {target}."
    else:
        fact = f"At {actual} against a target of {target}."
    return f"{fact} {rng.choice(CHECK_IN_REMARKS[status])}"

"""Reads of the alignment app: versions in effect, heads, goals with progress, the scorecard."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from alignment import scorecard as card
from alignment.models import (
    Goal,
    LeadDefinition,
    PayoutCurve,
    RescoreJob,
    RevenueForecast,
    RoundRobinMember,
    ServiceLevelAgreement,
    SlaBreach,
    TeamHead,
    VersionStatus,
)
from alignment.roles import Role, Team
from kpis.models import KpiSnapshot
from kpis.periods import next_period, period_bounds
from kpis.registry import METRICS, Metric

# --- versions in effect ---------------------------------------------------------------------


def sla_in_effect(*, at: datetime) -> ServiceLevelAgreement | None:
    """The approved SLA version that applies to a handoff made at `at`."""
    return (
        ServiceLevelAgreement.objects.filter(status=VersionStatus.APPROVED, effective_from__lte=at)
        .order_by("-effective_from", "-version")
        .first()
    )


def sla_list() -> QuerySet[ServiceLevelAgreement]:
    return ServiceLevelAgreement.objects.select_related(
        "marketing_approved_by", "sales_approved_by", "created_by"
    ).order_by("-version")


def lead_definition_in_effect(*, at: datetime) -> LeadDefinition | None:
    """The approved lead definition whose rules score leads at `at` (rules prefetched)."""
    return (
        LeadDefinition.objects.filter(status=VersionStatus.APPROVED, effective_from__lte=at)
        .prefetch_related("rules")
        .order_by("-effective_from", "-version")
        .first()
    )


def lead_definition_list() -> QuerySet[LeadDefinition]:
    return (
        LeadDefinition.objects.select_related(
            "marketing_approved_by", "sales_approved_by", "created_by"
        )
        .prefetch_related("rules")
        .order_by("-version")
    )


def rescore_job_get(*, pk: object) -> RescoreJob | None:
    return RescoreJob.objects.select_related("definition").filter(pk=pk).first()


# --- people ---------------------------------------------------------------------------------


def team_heads() -> dict[Team, AbstractBaseUser | None]:
    found = {h.team: h.user for h in TeamHead.objects.select_related("user")}
    return {team: found.get(team.value) for team in Team}


def user_heads_team(*, user: AbstractBaseUser | AnonymousUser) -> Team | None:
    """The team the user heads, if any."""
    if not user.is_authenticated:
        return None
    team = TeamHead.objects.filter(user=user).values_list("team", flat=True).first()
    return Team(team) if team else None


def users_in_role(*, role: Role) -> QuerySet:
    """Active users holding a role (group), by username."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name=role.value)
        .distinct()
        .order_by("username")
    )


def round_robin_members() -> QuerySet[RoundRobinMember]:
    return RoundRobinMember.objects.select_related("user").order_by("position", "id")


def api_token_for(*, user: object) -> str | None:
    from rest_framework.authtoken.models import Token

    return Token.objects.filter(user=user).values_list("key", flat=True).first()


# --- goals and their progress ---------------------------------------------------------------

# Metrics a goal may not target: they are computed from the goals themselves.
GOAL_EXCLUDED_METRICS = frozenset({"goal_attainment", "scorecard_attainment"})


def metric_accumulates(metric: Metric) -> bool:
    """Whether a metric adds up over its period (so a partial period projects linearly)."""
    return (
        not metric.is_ratio
        and metric.unit in {"count", "currency"}
        and metric.family in {"flow", "marketing", "attribution"}
        and metric.key != "pipeline_open"
    )


def period_elapsed(*, kind: str, start: date, now: datetime) -> Decimal:
    """The share (0..1) of a period gone by at `now`, in the organisation's time zone."""
    begin, end = period_bounds(kind, start, ZoneInfo(settings.TIME_ZONE))
    if now <= begin:
        return Decimal(0)
    if now >= end:
        return Decimal(1)
    return Decimal((now - begin).total_seconds()) / Decimal((end - begin).total_seconds())


def goal_list(
    *, period: str | None = None, start: date | None = None, end: date | None = None
) -> QuerySet[Goal]:
    qs = Goal.objects.select_related("created_by")
    if period:
        qs = qs.filter(period=period)
    if start:
        qs = qs.filter(period_start__gte=start)
    if end:
        qs = qs.filter(period_start__lte=end)
    return qs.order_by("period", "period_start", "name", "id")


def payout_curves() -> list[tuple[date, card.PayoutCurve]]:
    """Every stored curve, oldest first, as (effective_from, curve)."""
    return [
        (
            row.effective_from,
            card.PayoutCurve(
                row.threshold, row.threshold_payout, row.target, row.cap, row.cap_payout
            ),
        )
        for row in PayoutCurve.objects.order_by("effective_from")
    ]


def payout_curve_for(*, period_start: date, curves: Sequence | None = None) -> card.PayoutCurve:
    """The curve in effect at the period's start; the default curve where none was set."""
    found = card.DEFAULT_CURVE
    for since, curve in payout_curves() if curves is None else curves:
        if since <= period_start:
            found = curve
    return found


def payout_curve_list() -> QuerySet[PayoutCurve]:
    return PayoutCurve.objects.select_related("created_by").order_by("-effective_from")


def goal_actual(
    *, metric: Metric, cell: tuple[Decimal, Decimal | None, bool] | None
) -> Decimal | None:
    """A goal metric's value from a (numerator, denominator, empty) cell, stored or computed.

    A missing cell is zero for counts and sums, and no value for anything else.
    """
    if cell is None:
        return Decimal(0) if not metric.is_ratio and metric.unit in {"count", "currency"} else None
    numerator, denominator, empty = cell
    if empty:
        return None
    if denominator is None:
        return Decimal(numerator)
    return None if denominator == 0 else Decimal(numerator) / Decimal(denominator)


@dataclass(frozen=True)
class GoalProgress:
    goal: Goal
    actual: Decimal | None
    numerator: Decimal | None
    denominator: Decimal | None
    computed_at: datetime | None
    elapsed: Decimal
    attainment: Decimal | None
    projected: Decimal | None
    projected_attainment: Decimal | None
    pace: card.Pace | None

    @property
    def pace_label(self) -> str:
        return self.pace.label if self.pace else "Not started"


def goal_progress(*, goals: Iterable[Goal], now: datetime | None = None) -> list[GoalProgress]:
    """Each goal's progress from the KPI snapshots, with its pace projection (SPEC §4)."""
    now = now or timezone.now()
    goals = list(goals)
    if not goals:
        return []
    snapshots = {
        (s.metric, s.period, s.period_start, s.dimension, s.key, s.model): s
        for s in KpiSnapshot.objects.filter(
            metric__in={g.metric for g in goals},
            period__in={g.period for g in goals},
            period_start__in={g.period_start for g in goals},
        )
    }
    curves = payout_curves()
    out = []
    for goal in goals:
        metric = METRICS.get(goal.metric)
        if metric is None:  # a metric removed from the catalog since
            continue
        snapshot = snapshots.get(
            (goal.metric, goal.period, goal.period_start, goal.dimension, goal.key, goal.model)
        )
        actual = goal_actual(
            metric=metric,
            cell=(
                snapshot.numerator,
                snapshot.denominator,
                snapshot.value is None and snapshot.denominator is None,
            )
            if snapshot
            else None,
        )
        cap = payout_curve_for(period_start=goal.period_start, curves=curves).cap
        elapsed = period_elapsed(kind=goal.period, start=goal.period_start, now=now)
        attained = card.attainment(
            actual, goal.target, higher_is_better=goal.higher_is_better, cap=cap
        )
        projected = card.project(actual, elapsed=elapsed, accumulates=metric_accumulates(metric))
        projected_attained = card.attainment(
            projected, goal.target, higher_is_better=goal.higher_is_better, cap=cap
        )
        out.append(
            GoalProgress(
                goal=goal,
                actual=actual,
                numerator=snapshot.numerator if snapshot else None,
                denominator=snapshot.denominator if snapshot else None,
                computed_at=snapshot.computed_at if snapshot else None,
                elapsed=elapsed,
                attainment=attained.value if attained else None,
                projected=projected,
                projected_attainment=projected_attained.value if projected_attained else None,
                pace=card.pace(projected_attained.value if projected_attained else None),
            )
        )
    return out


@dataclass(frozen=True)
class Scorecard:
    period: str
    period_start: date
    period_end: date
    elapsed: Decimal
    curve: card.PayoutCurve
    goals: list[GoalProgress]
    attainment: Decimal | None
    payout_multiplier: Decimal
    projected_attainment: Decimal | None
    projected_payout_multiplier: Decimal
    computed_at: datetime | None


def scorecard_for(*, period: str, start: date, now: datetime | None = None) -> Scorecard:
    """The joint scorecard of one period: weighted attainment and the shared bonus multiplier."""
    now = now or timezone.now()
    progress = goal_progress(goals=goal_list(period=period, start=start, end=start), now=now)
    curve = payout_curve_for(period_start=start)
    actual = card.scorecard_attainment(
        [(p.attainment, p.goal.weight) for p in progress], cap=curve.cap
    )
    projected = card.scorecard_attainment(
        [(p.projected_attainment, p.goal.weight) for p in progress], cap=curve.cap
    )
    stamps = [p.computed_at for p in progress if p.computed_at is not None]
    return Scorecard(
        period=period,
        period_start=start,
        period_end=next_period(period, start),
        elapsed=period_elapsed(kind=period, start=start, now=now),
        curve=curve,
        goals=progress,
        attainment=actual.value,
        payout_multiplier=curve.payout(actual.value),
        projected_attainment=projected.value,
        projected_payout_multiplier=curve.payout(projected.value),
        computed_at=min(stamps) if stamps else None,
    )


# --- forecasts and breaches -----------------------------------------------------------------


def forecast_list(*, period: str | None = None) -> QuerySet[RevenueForecast]:
    """Forecasts with the accuracy and actual revenue of their snapshots, newest first."""

    def snapshot(metric: str, field: str) -> Subquery:
        return Subquery(
            KpiSnapshot.objects.filter(
                metric=metric,
                period=OuterRef("period"),
                period_start=OuterRef("period_start"),
                dimension="",
                model="",
            ).values(field)[:1]
        )

    qs = RevenueForecast.objects.select_related("entered_by").annotate(
        accuracy=snapshot("forecast_accuracy", "value"),
        actual=snapshot("revenue_won", "numerator"),
    )
    if period:
        qs = qs.filter(period=period)
    return qs.order_by("period", "-period_start")


def sla_breach_list(*, owner: str | None = None, kind: str | None = None) -> QuerySet[SlaBreach]:
    qs = SlaBreach.objects.select_related("handoff__lead", "handoff__owner")
    if owner:
        qs = qs.filter(handoff__owner__username=owner)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-due_at", "-id")

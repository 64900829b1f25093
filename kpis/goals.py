"""Reads of the shared goals' progress and of the joint scorecard, from the KPI snapshots.

The evaluation itself (attainment, projection, pace) is `alignment.scorecard.goal_score`, the
same function the engine uses when it stores `goal_attainment`; the share of a period gone by
is `core.periods.elapsed_share`. So the API, the pages and the stored snapshots agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from alignment import scorecard as card
from alignment.models import Goal, RevenueForecast
from alignment.roles import Team
from alignment.selectors import goal_list, payout_curve_for, payout_curves
from core.catalog import METRICS, Metric
from core.periods import KINDS, elapsed_share, next_period, period_span_label, period_start
from kpis.models import KpiSnapshot


@dataclass(frozen=True)
class GoalProgress:
    """One goal with its snapshot and its score; what the API and the pages show of it."""

    goal: Goal
    metric: Metric
    numerator: Decimal | None
    denominator: Decimal | None
    computed_at: datetime | None
    elapsed: Decimal
    score: card.GoalScore

    # -- what the pages and the API read --
    @property
    def key(self) -> str:
        return str(self.goal.pk)

    @property
    def label(self) -> str:
        return self.goal.name

    @property
    def unit(self) -> str:
        return self.metric.unit

    @property
    def target(self) -> Decimal:
        return self.goal.target

    @property
    def period_label(self) -> str:
        return period_span_label(self.goal.period, self.goal.period_start)

    @property
    def actual(self) -> Decimal | None:
        return self.score.actual

    @property
    def attainment(self) -> Decimal | None:
        return self.score.attainment.value if self.score.attainment else None

    @property
    def projected(self) -> Decimal | None:
        return self.score.projected

    @property
    def projected_attainment(self) -> Decimal | None:
        ratio = self.score.projected_attainment
        return ratio.value if ratio else None

    @property
    def pace(self) -> card.Pace | None:
        return self.score.pace

    @property
    def status(self) -> str:
        return self.score.status

    @property
    def status_label(self) -> str:
        return self.score.status_label

    @property
    def expected(self) -> Decimal:
        return self.score.expected

    @property
    def percent(self) -> float:
        return min(float(self.attainment or 0) * 100, 100.0)

    @property
    def expected_percent(self) -> float:
        return float(self.expected) * 100


@dataclass(frozen=True)
class GoalReading:
    """What the snapshots say of one goal: all its progress needs but the moment, so that a
    page can keep it until the snapshots change and score it on every request."""

    goal: Goal
    metric: Metric
    numerator: Decimal | None
    denominator: Decimal | None
    computed_at: datetime | None
    actual: Decimal | None
    cap: Decimal


def goal_readings(*, goals: Iterable[Goal]) -> list[GoalReading]:
    """Each goal's snapshot and payout cap (two queries; goals of metrics no longer in the
    catalog are left out)."""
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
        out.append(
            GoalReading(
                goal=goal,
                metric=metric,
                numerator=snapshot.numerator if snapshot else None,
                denominator=snapshot.denominator if snapshot else None,
                computed_at=snapshot.computed_at if snapshot else None,
                actual=card.goal_actual(
                    metric,
                    snapshot.numerator if snapshot else None,
                    snapshot.denominator if snapshot else None,
                    empty=bool(snapshot)
                    and snapshot.value is None
                    and snapshot.denominator is None,
                ),
                cap=payout_curve_for(period_start=goal.period_start, curves=curves).cap,
            )
        )
    return out


def goal_scored(reading: GoalReading, *, now: datetime | None = None) -> GoalProgress:
    """A goal's progress at `now`: its reading, with the pace projection (SPEC §4)."""
    goal = reading.goal
    elapsed = elapsed_share(
        goal.period, goal.period_start, now or timezone.now(), ZoneInfo(settings.TIME_ZONE)
    )
    score = card.goal_score(
        reading.actual,
        goal.target,
        higher_is_better=goal.higher_is_better,
        cap=reading.cap,
        elapsed=elapsed,
        accumulates=reading.metric.accumulates,
    )
    return GoalProgress(
        goal=goal,
        metric=reading.metric,
        numerator=reading.numerator,
        denominator=reading.denominator,
        computed_at=reading.computed_at,
        elapsed=elapsed,
        score=score,
    )


def goal_progress(*, goals: Iterable[Goal], now: datetime | None = None) -> list[GoalProgress]:
    """Each goal's progress from the KPI snapshots, with its pace projection (SPEC §4)."""
    now = now or timezone.now()
    return [goal_scored(r, now=now) for r in goal_readings(goals=goals)]


def goals_running_readings(*, today: date | None = None) -> list[GoalReading]:
    """The readings of the shared goals of the week, month and quarter running `today`."""
    today = today or timezone.localdate()
    running = Q()
    for kind in KINDS:
        running |= Q(period=kind, period_start=period_start(kind, today))
    goals = Goal.objects.filter(running).order_by("period", "name", "id")
    return goal_readings(goals=goals)


def goals_running(*, now: datetime | None = None) -> list[GoalProgress]:
    """The shared goals of the week, month and quarter running now, with their progress."""
    now = now or timezone.now()
    readings = goals_running_readings(today=timezone.localdate(now))
    return [goal_scored(r, now=now) for r in readings]


@dataclass(frozen=True)
class ScorecardLine:
    """One goal on the scorecard: its progress, its attainment clamped to the cap and its
    weighted part of the scorecard attainment (now and at the current pace)."""

    progress: GoalProgress
    capped: Decimal | None
    contribution: Decimal | None
    projected_capped: Decimal | None

    @property
    def goal(self) -> Goal:
        return self.progress.goal


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
    lines: list[ScorecardLine]
    teams: list[card.TeamPayout]

    @property
    def period_label(self) -> str:
        return period_span_label(self.period, self.period_start)


def scorecard_for(*, period: str, start: date, now: datetime | None = None) -> Scorecard:
    """The joint scorecard of one period: weighted attainment and the shared bonus multiplier,
    each goal's part in it, and each team's payout over the goals it owns (if the period
    ended today, and at the current pace)."""
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
    parts = card.contributions([(p.attainment, p.goal.weight) for p in progress], cap=curve.cap)
    lines = [
        ScorecardLine(
            progress=p,
            capped=card.capped(p.attainment, cap=curve.cap),
            contribution=part,
            projected_capped=card.capped(p.projected_attainment, cap=curve.cap),
        )
        for p, part in zip(progress, parts, strict=True)
    ]
    owned = [
        (p.goal.owner_team, p.attainment, p.projected_attainment, p.goal.weight) for p in progress
    ]
    return Scorecard(
        period=period,
        period_start=start,
        period_end=next_period(period, start),
        elapsed=elapsed_share(period, start, now, ZoneInfo(settings.TIME_ZONE)),
        curve=curve,
        goals=progress,
        attainment=actual.value,
        payout_multiplier=curve.payout(actual.value),
        projected_attainment=projected.value,
        projected_payout_multiplier=curve.payout(projected.value),
        computed_at=min(stamps) if stamps else None,
        lines=lines,
        teams=[card.team_payout(team.value, owned, curve=curve) for team in Team],
    )


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

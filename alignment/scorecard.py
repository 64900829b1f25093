"""The joint scorecard's arithmetic (SPEC §4 alignment rows), pure Python on Decimals.

* **Goal attainment**: actual ÷ target for higher-is-better goals, target ÷ actual for
  lower-is-better ones. A lower-is-better goal whose actual is zero (or below) cannot do
  better: it attains the payout curve's cap.
* **Pace**: where a goal is heading by the end of its period. Amounts that accumulate over a
  period (counts and sums of events) are projected linearly: projected = actual ÷ elapsed
  share of the period. Everything else (rates, medians, stocks such as open pipeline) is
  taken at its current value. The projection's attainment says the pace: **on track** at
  ≥ 100 %, **at risk** at ≥ 90 %, **off track** below.
* **Scorecard attainment**: the weighted mean of the goals' attainments, each clamped to
  [0, cap]; goals without a value yet (a rate with nothing to divide) are left out.
* **Payout curve**: the shared bonus multiplier of an attainment ``a``. Below ``threshold``
  nothing; at ``threshold`` the multiplier is ``threshold_payout``, rising linearly to 1 at
  ``target``, then linearly to ``cap_payout`` at ``cap``, and flat beyond. The defaults —
  0 below 50 %, 50 % at 50 %, 100 % at target, capped at 150 % — make the multiplier equal
  to the attainment between 50 % and 150 %.
* **Goal score** (`goal_score`): the one evaluation of a goal that the engine, the API and the
  pages share: its attainment, projection, pace and where a goal on pace stands today.
* **Contribution**: a goal's share of the scorecard attainment, its capped attainment
  (clamped to [0, cap]) × its weight ÷ the weights of the goals that have a value; the
  contributions add up to the scorecard attainment.
* **Team payout**: each team is paid on the goals it owns (its own and those of both teams):
  the payout curve of the scorecard attainment over those goals: as it stands ("if the
  period ended today") and at the current pace (the projected attainments).
* **Forecast accuracy**: 1 − |actual − forecast| ÷ actual; no value when actual is zero.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from core.catalog import Metric
from core.periods import PACE_MIN_ELAPSED

__all__ = [
    "AT_RISK_SHARE",
    "CURVE_POINTS",
    "DEFAULT_CURVE",
    "GoalScore",
    "Pace",
    "PayoutCurve",
    "Ratio",
    "TeamPayout",
    "attainment",
    "capped",
    "contributions",
    "curve_errors",
    "forecast_accuracy",
    "goal_actual",
    "goal_score",
    "pace",
    "project",
    "scorecard_attainment",
    "team_owns",
    "team_payout",
]

ZERO, ONE = Decimal(0), Decimal(1)
AT_RISK_SHARE = Decimal("0.9")


@dataclass(frozen=True, slots=True)
class Ratio:
    """A value kept as numerator and denominator, as the KPI snapshots store it."""

    numerator: Decimal
    denominator: Decimal

    @property
    def value(self) -> Decimal | None:
        return None if self.denominator == 0 else self.numerator / self.denominator


class Pace(StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OFF_TRACK = "off_track"

    @property
    def label(self) -> str:
        return {"on_track": "On track", "at_risk": "At risk", "off_track": "Off track"}[self]


CURVE_POINTS = ("threshold", "threshold_payout", "target", "cap", "cap_payout")


def curve_errors(
    *,
    threshold: Decimal,
    threshold_payout: Decimal,
    target: Decimal,
    cap: Decimal,
    cap_payout: Decimal,
) -> list[str]:
    """What makes a payout curve unusable (empty when it is fine)."""
    found = []
    if not ZERO <= threshold < target:
        found.append("The threshold must be at least 0 and below the target.")
    if not target < cap:
        found.append("The cap must be above the target.")
    if not ZERO <= threshold_payout <= ONE:
        found.append("The payout at the threshold must be between 0 and 1.")
    if cap_payout < ONE:
        found.append("The payout at the cap must be at least 1.")
    return found


@dataclass(frozen=True, slots=True)
class PayoutCurve:
    threshold: Decimal = Decimal("0.5")
    threshold_payout: Decimal = Decimal("0.5")
    target: Decimal = ONE
    cap: Decimal = Decimal("1.5")
    cap_payout: Decimal = Decimal("1.5")

    def __post_init__(self) -> None:
        for name in CURVE_POINTS:
            object.__setattr__(self, name, Decimal(getattr(self, name)))
        problems = curve_errors(**{name: getattr(self, name) for name in CURVE_POINTS})
        if problems:
            raise ValueError(" ".join(problems))

    def payout(self, attainment: Decimal | None) -> Decimal:
        """The bonus multiplier for an attainment (0 for none)."""
        if attainment is None or attainment < self.threshold:
            return ZERO
        if attainment < self.target:
            share = (attainment - self.threshold) / (self.target - self.threshold)
            return self.threshold_payout + (ONE - self.threshold_payout) * share
        if attainment < self.cap:
            share = (attainment - self.target) / (self.cap - self.target)
            return ONE + (self.cap_payout - ONE) * share
        return self.cap_payout


DEFAULT_CURVE = PayoutCurve()


def attainment(
    actual: Decimal | None, target: Decimal, *, higher_is_better: bool, cap: Decimal
) -> Ratio | None:
    """Goal attainment as a ratio (``None`` when there is no actual value)."""
    if actual is None:
        return None
    if target <= 0:
        raise ValueError("a goal's target must be above zero")
    if higher_is_better:
        return Ratio(Decimal(actual), Decimal(target))
    if actual <= 0:
        return Ratio(Decimal(cap), ONE)
    return Ratio(Decimal(target), Decimal(actual))


def project(actual: Decimal | None, *, elapsed: Decimal, accumulates: bool) -> Decimal | None:
    """The value expected at the period's end, from the value so far.

    ``elapsed`` is the share of the period gone by (0..1). Nothing is projected before the
    period starts.
    """
    if actual is None or elapsed <= 0:
        return None
    if not accumulates or elapsed >= 1:
        return Decimal(actual)
    return Decimal(actual) / Decimal(elapsed)


def pace(attained: Decimal | None) -> Pace | None:
    """The pace for a projected attainment."""
    if attained is None:
        return None
    if attained >= ONE:
        return Pace.ON_TRACK
    if attained >= AT_RISK_SHARE:
        return Pace.AT_RISK
    return Pace.OFF_TRACK


def scorecard_attainment(goals: Iterable[tuple[Decimal | None, Decimal]], *, cap: Decimal) -> Ratio:
    """Weighted mean of (attainment, weight) pairs, each attainment clamped to [0, cap]."""
    numerator = denominator = ZERO
    for attained, weight in goals:
        if attained is None:
            continue
        numerator += capped(attained, cap=cap) * Decimal(weight)
        denominator += Decimal(weight)
    return Ratio(numerator, denominator)


def capped(attained: Decimal | None, *, cap: Decimal) -> Decimal | None:
    """An attainment as the scorecard counts it: clamped to [0, cap]."""
    if attained is None:
        return None
    return min(max(Decimal(attained), ZERO), Decimal(cap))


def contributions(
    goals: Iterable[tuple[Decimal | None, Decimal]], *, cap: Decimal
) -> list[Decimal | None]:
    """Each (attainment, weight)'s part of the scorecard attainment: capped × weight ÷ the
    weights of the goals with a value (None for a goal without one). They add up to
    `scorecard_attainment`."""
    goals = list(goals)
    total = sum((Decimal(w) for a, w in goals if a is not None), ZERO)
    return [
        None if a is None or total == 0 else capped(a, cap=cap) * Decimal(w) / total
        for a, w in goals
    ]


def team_owns(owner_team: str, team: str) -> bool:
    """Whether a goal owned by `owner_team` ("both", "marketing", "sales") counts for `team`."""
    return owner_team in ("both", team)


@dataclass(frozen=True, slots=True)
class TeamPayout:
    """A team's pay on the goals it owns: if the period ended today, and at the current pace."""

    team: str
    goals: int
    attainment: Decimal | None
    payout: Decimal
    projected_attainment: Decimal | None
    projected_payout: Decimal


def team_payout(
    team: str,
    goals: Iterable[tuple[str, Decimal | None, Decimal | None, Decimal]],
    *,
    curve: PayoutCurve,
) -> TeamPayout:
    """`team`'s payout from (owner_team, attainment, projected attainment, weight) per goal:
    the curve's multiplier of the weighted, capped attainment of the goals the team owns."""
    owned = [g for g in goals if team_owns(g[0], team)]
    actual = scorecard_attainment([(a, w) for _, a, _, w in owned], cap=curve.cap).value
    projected = scorecard_attainment([(p, w) for _, _, p, w in owned], cap=curve.cap).value
    return TeamPayout(
        team=team,
        goals=len(owned),
        attainment=actual,
        payout=curve.payout(actual),
        projected_attainment=projected,
        projected_payout=curve.payout(projected),
    )


def forecast_accuracy(actual: Decimal, forecast: Decimal) -> Ratio:
    """1 − |actual − forecast| ÷ actual, kept as (actual − |actual − forecast|) ÷ actual."""
    actual, forecast = Decimal(actual), Decimal(forecast)
    return Ratio(actual - abs(actual - forecast), actual)


def goal_actual(
    metric: Metric, numerator: Decimal | None, denominator: Decimal | None, *, empty: bool = False
) -> Decimal | None:
    """A goal metric's value from its (numerator, denominator), stored or just computed.

    No row at all (``numerator`` None) is the catalog's empty value: zero for sums and stocks,
    no value for anything else. ``empty`` is a percentile over nothing.
    """
    if numerator is None:
        return metric.empty_value()
    if empty:
        return None
    if denominator is None:
        return Decimal(numerator)
    return None if denominator == 0 else Decimal(numerator) / Decimal(denominator)


@dataclass(frozen=True, slots=True)
class GoalScore:
    """Where a goal stands: its attainment now, its projection to the period's end, its pace
    and `expected`, the attainment a goal exactly on pace has at this point of the period."""

    actual: Decimal | None
    attainment: Ratio | None
    projected: Decimal | None
    projected_attainment: Ratio | None
    pace: Pace | None
    expected: Decimal

    @property
    def achieved(self) -> bool:
        value = self.attainment.value if self.attainment else None
        return value is not None and value >= ONE

    too_early: bool = False  # too little of the period is gone for a pace to say anything

    @property
    def status(self) -> str:
        """achieved | on_track | at_risk | off_track | too_early | not_started"""
        if self.achieved:
            return "achieved"
        if self.pace:
            return str(self.pace)
        return "too_early" if self.too_early else "not_started"

    @property
    def status_label(self) -> str:
        if self.achieved:
            return "Achieved"
        if self.pace:
            return self.pace.label
        return "Too early to tell" if self.too_early else "Not started"


def goal_score(
    actual: Decimal | None,
    target: Decimal,
    *,
    higher_is_better: bool,
    cap: Decimal,
    elapsed: Decimal,
    accumulates: bool,
) -> GoalScore:
    """Score a goal whose metric stands at ``actual`` when ``elapsed`` of its period is gone.

    Before `PACE_MIN_ELAPSED` of the period (the point from which the dashboard's tiles compare
    too) there is a projection but no pace: a few hours of a month say nothing yet.
    """
    attained = attainment(actual, target, higher_is_better=higher_is_better, cap=cap)
    projected = project(actual, elapsed=elapsed, accumulates=accumulates)
    projected_attained = attainment(projected, target, higher_is_better=higher_is_better, cap=cap)
    too_early = Decimal(elapsed) < PACE_MIN_ELAPSED
    return GoalScore(
        actual=actual,
        attainment=attained,
        projected=projected,
        projected_attainment=projected_attained,
        pace=None if too_early else pace(projected_attained.value if projected_attained else None),
        expected=Decimal(elapsed) if accumulates else ONE,
        too_early=too_early,
    )

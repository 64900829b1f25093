"""The goals pages' builders: the goals of a period with their pace and latest check-in, one
goal with its check-ins, the joint scorecard with its payout curve, and the revenue forecasts
with their accuracy. Every number comes from `kpis.goals` (the snapshots, scored at `now`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from alignment import scorecard as card
from alignment.models import Goal, GoalCheckIn, RevenueForecast
from alignment.selectors import goal_check_ins, goal_latest_check_ins, goal_list
from config.dates import date_in_range_problem
from core.catalog import GOAL_EXCLUDED_METRICS, METRICS
from core.periods import (
    KINDS,
    elapsed_share,
    next_period,
    period_label,
    period_span_label,
    period_start,
    previous_period,
)
from kpis.charts import forecast_accuracy_figure_json, payout_curve_figure_json
from kpis.goals import GoalProgress, Scorecard, forecast_list, goal_progress, scorecard_for
from kpis.pages.common import UNIT_WORDS, csv_value

KIND_LABELS = {"week": "Weeks", "month": "Months", "quarter": "Quarters"}
# How many periods of each kind the period pickers offer before and after the running one.
PERIODS_AHEAD = {"week": 4, "month": 3, "quarter": 2}
PERIODS_BACK = {"week": 4, "month": 6, "quarter": 4}
OWNER_LABELS = dict(Goal.Owner.choices)


def period_value(kind: str, start: date) -> str:
    """A period as one form value: 'month:2026-03-01'."""
    return f"{kind}:{start.isoformat()}"


def period_parse(value: str) -> tuple[str, date] | None:
    """'month:2026-03-01' → ('month', date(2026, 3, 1)); None for anything else. The start is
    not checked to start its period: the goal service says so in its own words."""
    kind, _, day = (value or "").partition(":")
    if kind not in KINDS:
        return None
    try:
        start = date.fromisoformat(day)
    except ValueError:
        return None
    return None if date_in_range_problem(start) else (kind, start)


def period_options(
    *, today: date, back: bool = False, keep: tuple[str, date] | None = None
) -> list[tuple[str, list[tuple[str, str]]]]:
    """The periods a picker offers, grouped by kind: the running one and the next few (and,
    with `back`, the last few); `keep` is added where it is missing (a goal's own period)."""
    groups = []
    for kind in KINDS:
        running = period_start(kind, today)
        starts = [running]
        for _ in range(PERIODS_AHEAD[kind]):
            starts.append(next_period(kind, starts[-1]))
        if back:
            for _ in range(PERIODS_BACK[kind]):
                starts.insert(0, previous_period(kind, starts[0]))
        if keep and keep[0] == kind and keep[1] not in starts:
            starts = sorted([*starts, keep[1]])
        options = [
            (
                period_value(kind, s),
                period_span_label(kind, s) + (" (running)" if s == running else ""),
            )
            for s in starts
        ]
        groups.append((KIND_LABELS[kind], options))
    return groups


@dataclass(frozen=True)
class GoalRow:
    """A goal on the goals page: its progress (`kpis.goals.GoalProgress`) and latest check-in."""

    progress: GoalProgress
    check_in: GoalCheckIn | None

    @property
    def goal(self) -> Goal:
        return self.progress.goal

    @property
    def owner_label(self) -> str:
        return OWNER_LABELS[self.goal.owner_team]

    @property
    def metric_label(self) -> str:
        return self.progress.metric.label

    @property
    def slice_label(self) -> str:
        """'channel webinar', or '' for the metric's total."""
        goal = self.goal
        return f"{goal.dimension} {goal.key}" if goal.dimension else ""


def goal_rows(progress: list[GoalProgress]) -> list[GoalRow]:
    latest = goal_latest_check_ins(goals=[p.goal for p in progress])
    return [GoalRow(progress=p, check_in=latest.get(p.goal.pk)) for p in progress]


@dataclass(frozen=True)
class GoalSection:
    """The goals of one period."""

    kind: str
    start: date
    rows: list[GoalRow]
    elapsed: Decimal
    running: bool

    @property
    def label(self) -> str:
        return period_span_label(self.kind, self.start)

    @property
    def elapsed_percent(self) -> float:
        return float(self.elapsed) * 100

    @property
    def value(self) -> str:
        return period_value(self.kind, self.start)

    @property
    def previous(self) -> str:
        return period_value(self.kind, previous_period(self.kind, self.start))

    @property
    def next(self) -> str:
        return period_value(self.kind, next_period(self.kind, self.start))

    @property
    def over(self) -> bool:
        return self.elapsed >= 1


def goal_sections(
    *, chosen: tuple[str, date] | None, now: datetime | None = None
) -> list[GoalSection]:
    """The goals of the chosen period, or by default of the running month and quarter."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    tz = ZoneInfo(settings.TIME_ZONE)
    if chosen:
        periods = [(chosen[0], period_start(*chosen))]
    else:
        periods = [(kind, period_start(kind, today)) for kind in ("month", "quarter")]
    sections = []
    for kind, start in periods:
        goals = goal_list(period=kind, start=start, end=start)
        elapsed = elapsed_share(kind, start, now, tz)
        sections.append(
            GoalSection(
                kind=kind,
                start=start,
                rows=goal_rows(goal_progress(goals=goals, now=now)),
                elapsed=elapsed,
                running=0 < elapsed < 1,
            )
        )
    return sections


@dataclass(frozen=True)
class GoalDetail:
    row: GoalRow
    check_ins: list[GoalCheckIn]
    period_label: str
    open_for_edit: bool  # its period is not over: it may change or go

    @property
    def goal(self) -> Goal:
        return self.row.goal


def goal_detail(*, goal: Goal, now: datetime | None = None) -> GoalDetail:
    now = now or timezone.now()
    (progress,) = goal_progress(goals=[goal], now=now) or [None]
    if progress is None:  # a metric no longer in the catalog
        raise LookupError(f"{goal.metric} is no longer a metric of the catalog.")
    check_ins = list(goal_check_ins(goal=goal))
    return GoalDetail(
        row=GoalRow(progress=progress, check_in=check_ins[0] if check_ins else None),
        check_ins=check_ins,
        period_label=period_span_label(goal.period, goal.period_start),
        open_for_edit=progress.elapsed < 1,
    )


@dataclass(frozen=True)
class ScorecardPage:
    card: Scorecard
    figure: str
    value: str
    previous: str
    next: str

    @property
    def elapsed_percent(self) -> float:
        return float(self.card.elapsed) * 100


def scorecard_page(*, kind: str, start: date, now: datetime | None = None) -> ScorecardPage:
    """The joint scorecard of one period, its payout curve drawn with today's attainment."""
    start = period_start(kind, start)
    card = scorecard_for(period=kind, start=start, now=now)
    return ScorecardPage(
        card=card,
        figure=payout_curve_figure_json(
            card.curve,
            attainment=card.attainment,
            payout=card.payout_multiplier,
            projected=card.projected_attainment if 0 < card.elapsed < 1 else None,
            projected_payout=card.projected_payout_multiplier,
        ),
        value=period_value(kind, start),
        previous=period_value(kind, previous_period(kind, start)),
        next=period_value(kind, next_period(kind, start)),
    )


@dataclass(frozen=True)
class ForecastRow:
    forecast: RevenueForecast
    state: str  # upcoming | running | ended

    @property
    def label(self) -> str:
        return period_span_label(self.forecast.period, self.forecast.period_start)

    @property
    def short_label(self) -> str:
        return period_label(self.forecast.period, self.forecast.period_start)

    @property
    def actual(self) -> Decimal | None:
        return getattr(self.forecast, "actual", None)

    @property
    def accuracy(self) -> float | None:
        """Shown once the period is over (a running period's accuracy says little)."""
        value = getattr(self.forecast, "accuracy", None)
        return None if value is None or self.state != "ended" else value


@dataclass(frozen=True)
class ForecastsPage:
    rows: list[ForecastRow]
    figure: str
    mean_accuracy: float | None


def forecasts_page(*, now: datetime | None = None) -> ForecastsPage:
    """Every forecast, the latest period first, with its actual revenue and (once its period
    is over) its accuracy; the chart shows the accuracy by period, oldest first."""
    now = now or timezone.now()
    tz = ZoneInfo(settings.TIME_ZONE)
    rows = []
    for forecast in forecast_list():
        elapsed = elapsed_share(forecast.period, forecast.period_start, now, tz)
        state = "upcoming" if elapsed <= 0 else "ended" if elapsed >= 1 else "running"
        rows.append(ForecastRow(forecast=forecast, state=state))
    rows.sort(key=lambda r: (r.forecast.period_start, KINDS.index(r.forecast.period)), reverse=True)
    scored = [r for r in reversed(rows) if r.accuracy is not None]
    figure = forecast_accuracy_figure_json(
        [(r.short_label, float(r.accuracy), r.forecast.period) for r in scored]
    )
    mean = sum(float(r.accuracy) for r in scored) / len(scored) if scored else None
    return ForecastsPage(rows=rows, figure=figure, mean_accuracy=mean)


def metric_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The catalog's metrics a goal may target, grouped by team, each with its unit."""
    groups: dict[str, list[tuple[str, str]]] = {"marketing": [], "joint": [], "sales": []}
    for m in METRICS.values():
        if m.key in GOAL_EXCLUDED_METRICS:
            continue
        better = "higher" if m.higher_is_better else "lower"
        groups[str(m.team)].append((m.key, f"{m.label} · {m.unit}, {better} is better"))
    names = {"marketing": "Marketing", "joint": "Joint", "sales": "Sales"}
    return [(f"{names[team]} metrics", options) for team, options in groups.items() if options]


# --- the goals pages as CSV -----------------------------------------------------------------

Table = tuple[list[str], Iterator[Sequence[object]]]


def _parts(ratio: card.Ratio | None) -> list[object]:
    return [ratio.numerator, ratio.denominator] if ratio else [None, None]


def _who(user: object) -> str:
    return "" if user is None else user.get_full_name() or user.get_username()


def goals_table(sections: Iterable[GoalSection]) -> Table:
    """The goals of the page's periods (`goal_sections`), each value rounded as the page
    shows it in the goal's unit (a ratio in percent), the attainment beside its numerator and
    denominator, and the latest check-in."""
    header = ["Period", "Goal", "Metric", "Slice", "Owned by", "Better", "Weight", "Unit",
              "Target", "Actual", "Actual numerator", "Actual denominator", "Attainment (%)",
              "Attainment numerator", "Attainment denominator", "Pace", "Latest check-in",
              "Check-in week", "Check-in by", "Check-in note"]  # fmt: skip

    def lines() -> Iterator[Sequence[object]]:
        for s in sections:
            for r in s.rows:
                g, goal, c = r.progress, r.goal, r.check_in
                yield [
                    s.label, goal.name, r.metric_label, r.slice_label, r.owner_label,
                    "higher" if goal.higher_is_better else "lower", goal.weight,
                    UNIT_WORDS.get(g.unit, g.unit), csv_value(g.target, g.unit),
                    csv_value(g.actual, g.unit), g.numerator, g.denominator,
                    csv_value(g.attainment, "ratio"), *_parts(g.score.attainment),
                    g.status_label, c.get_status_display() if c else "", c.week if c else None,
                    _who(c.by) if c else "", c.note if c else "",
                ]  # fmt: skip

    return header, lines()


def scorecard_table(sc: Scorecard) -> Table:
    """The scorecard's goals as its table shows them, ratios in percent, each attainment
    beside its numerator and denominator; its last row the scorecard's attainment."""
    header = ["Goal", "Owned by", "Metric", "Unit", "Target", "Actual", "Weight",
              "Attainment (%)", "Attainment numerator", "Attainment denominator",
              "Capped (%)", "Contribution (%)", "At pace (%)"]  # fmt: skip

    def lines() -> Iterator[Sequence[object]]:
        for line in sc.lines:
            g = line.progress
            yield [
                g.goal.name, g.goal.get_owner_team_display(), g.metric.label,
                UNIT_WORDS.get(g.unit, g.unit), csv_value(g.target, g.unit),
                csv_value(g.actual, g.unit), g.goal.weight, csv_value(g.attainment, "ratio"),
                *_parts(g.score.attainment), csv_value(line.capped, "ratio"),
                csv_value(line.contribution, "ratio"), csv_value(line.projected_capped, "ratio"),
            ]  # fmt: skip
        if sc.lines:
            total = ["Scorecard attainment", *[None] * 10]
            yield [*total, csv_value(sc.attainment, "ratio"),
                   csv_value(sc.projected_attainment, "ratio")]  # fmt: skip

    return header, lines()


def forecasts_table(page: ForecastsPage) -> Table:
    """Every forecast as the page lists it, the latest period first: the revenue won so far,
    and the accuracy (in percent) once its period is over."""
    header = ["Period", "Kind", "Starts", "State", "Forecast", "Revenue won", "Accuracy (%)",
              "Entered at", "Entered by", "Note"]  # fmt: skip

    def lines() -> Iterator[Sequence[object]]:
        for r in page.rows:
            f = r.forecast
            won = None if r.state == "upcoming" else csv_value(r.actual or 0, "currency")
            yield [
                r.label, f.get_period_display(), f.period_start, r.state.capitalize(),
                csv_value(f.amount, "currency"), won, csv_value(r.accuracy, "ratio"),
                f.entered_at, _who(f.entered_by), f.note,
            ]  # fmt: skip

    return header, lines()

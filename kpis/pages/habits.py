"""How often the two teams meet, for the dashboard and the meeting view: the 4-week rolling mean
of joint meetings per week (`joint_meetings_per_week`, from the snapshots) beside the Aberdeen
Group's 2011 figures (1.89 a week at the best-aligned firms, 1.12 at the rest)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from core.catalog import METRICS
from core.periods import period_label, period_span_label, period_start
from kpis.pages.common import Dataset, format_value, period_rows, series_dataset
from kpis.selectors import Agg, kpi_table

METRIC = "joint_meetings_per_week"
HIGH_PERFORMERS = Decimal("1.89")
THE_REST = Decimal("1.12")
BENCHMARKS = (("Best-aligned firms: 1.89", 1.89), ("The rest: 1.12", 1.12))
WEEKS = 12


@dataclass(frozen=True)
class JointMeetings:
    week: date  # the last complete week
    week_label: str
    now: Agg  # its 4-week rolling mean
    meetings: Decimal  # joint meetings in those four weeks
    verdict: str  # "high" (at or above 1.89) | "middle" | "low" (below 1.12) | "" (no value)
    words: str
    trend: Dataset
    high_performers: Decimal = HIGH_PERFORMERS
    the_rest: Decimal = THE_REST

    @property
    def scale(self) -> Decimal:
        """The top of a bar that shows the value beside both benchmarks."""
        return max(self.now.value or Decimal(0), HIGH_PERFORMERS) * Decimal("1.25")

    @property
    def sparkline(self) -> tuple[float | None, ...]:
        return tuple(None if r[1] is None else float(r[1]) for r in self.trend.rows)


def _verdict(value: Decimal | None) -> tuple[str, str]:
    if value is None:
        return "", "Not computed yet."
    shown = format_value(value, METRICS[METRIC].unit)
    if value >= HIGH_PERFORMERS:
        return "high", f"{shown} a week: as often as the best-aligned firms (1.89)."
    if value >= THE_REST:
        return "middle", f"{shown} a week: more than most firms (1.12), short of the best (1.89)."
    return "low", f"{shown} a week: less often than most firms (1.12); the best meet 1.89 times."


def joint_meetings(*, today: date | None = None, weeks: int = WEEKS) -> JointMeetings:
    """The last complete week's rolling mean and the `weeks` before it, as a trend."""
    today = today or timezone.localdate()
    last = period_start("week", today) - timedelta(weeks=1)
    first = last - timedelta(weeks=weeks - 1)
    table = kpi_table(metrics=[METRIC], period="week", start=first, end=last)
    now = table.get(METRIC, last)
    verdict, words = _verdict(now.value)
    rows = period_rows(table, "week", [METRIC])
    trend = series_dataset(
        table, "week", [METRIC], rows, slug="meetings",
        title="Joint meetings per week (4-week rolling mean)",
        summary=f"Week of {period_label('week', last)}: {words}",
    )  # fmt: skip
    return JointMeetings(
        week=last,
        week_label=period_span_label("week", last),
        now=now,
        meetings=now.numerator,
        verdict=verdict,
        words=words,
        trend=Dataset(**{**trend.__dict__, "benchmarks": BENCHMARKS}),
    )

"""Reads of the KPI snapshots for pages and the API. Pages never aggregate raw events."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from kpis.models import KpiSnapshot
from kpis.periods import periods_between
from kpis.registry import METRICS


@dataclass(frozen=True)
class KpiValue:
    metric: str
    period: str
    period_start: date
    dimension: str | None
    key: str | None
    model: str | None
    value: Decimal | None
    numerator: Decimal
    denominator: Decimal | None
    computed_at: datetime | None


def kpi_series(
    *,
    metric: str,
    period: str,
    start: date,
    end: date,
    dimension: str | None = None,
    model: str | None = None,
) -> list[KpiValue]:
    """Snapshots of one metric for the periods whose start falls in [start, end].

    Totals come for every period, with zero counts (and no value for ratios) where nothing was
    computed yet; a dimension gives the members that have values.
    """
    definition = METRICS[metric]
    model = (model or "linear") if definition.by_model else ""
    rows = KpiSnapshot.objects.filter(
        metric=metric,
        period=period,
        period_start__gte=start,
        period_start__lte=end,
        dimension=dimension or "",
        model=model,
    ).order_by("period_start", "key")
    values = [
        KpiValue(
            metric=metric,
            period=period,
            period_start=r.period_start,
            dimension=dimension,
            key=r.key if dimension else None,
            model=model or None,
            value=r.value,
            numerator=r.numerator,
            denominator=r.denominator,
            computed_at=r.computed_at,
        )
        for r in rows
    ]
    if dimension:
        return values
    present = {v.period_start for v in values}
    percentile = definition.unit in {"hours", "days"}
    for missing in set(periods_between(period, start, end)) - present:
        values.append(
            KpiValue(
                metric=metric,
                period=period,
                period_start=missing,
                dimension=None,
                key=None,
                model=model or None,
                value=None if definition.is_ratio or percentile else Decimal(0),
                numerator=Decimal(0),
                denominator=Decimal(0) if definition.is_ratio else None,
                computed_at=None,
            )
        )
    return sorted(values, key=lambda v: v.period_start)


# --- pages: several metrics at once, re-aggregated over periods and members -----------------
#
# The dashboard, the meeting view and the campaign pages read snapshots only. `kpi_table`
# reads many metrics of one slice in one query; `kpi_members` sums a dimension's members over a
# range in one GROUP BY (of snapshots, not of events). Ratios keep numerator and denominator so
# that a range of periods re-aggregates exactly ("34 of 80"); percentiles cannot be summed and
# are only read per period.


@dataclass(frozen=True)
class Agg:
    """A value re-aggregated from snapshots: numerator, denominator (ratios) and value."""

    numerator: Decimal
    denominator: Decimal | None
    value: Decimal | None
    supported: bool = True

    @property
    def is_ratio(self) -> bool:
        return self.denominator is not None


UNSUPPORTED = Agg(Decimal(0), None, None, supported=False)


def _zero(metric: str) -> Agg:
    definition = METRICS[metric]
    if definition.is_ratio:
        return Agg(Decimal(0), Decimal(0), None)
    if definition.unit in {"hours", "days"}:
        return Agg(Decimal(0), None, None)
    return Agg(Decimal(0), None, Decimal(0))


def _summed(metric: str, numerator: Decimal, denominator: Decimal | None) -> Agg:
    definition = METRICS[metric]
    if definition.is_ratio:
        denominator = denominator or Decimal(0)
        return Agg(numerator, denominator, numerator / denominator if denominator else None)
    return Agg(numerator, None, numerator)


def metric_supports(metric: str, dimension: str | None) -> bool:
    return not dimension or dimension in METRICS[metric].dimensions


class KpiTable:
    """Snapshots of several metrics of one slice (total or one member) over a run of periods."""

    def __init__(
        self,
        *,
        metrics: Sequence[str],
        periods: Sequence[date],
        dimension: str | None,
        rows: Iterable[KpiSnapshot],
    ) -> None:
        self.metrics = list(metrics)
        self.periods = list(periods)
        self.dimension = dimension
        self.computed_at: datetime | None = None
        self._cells: dict[tuple[str, date], Agg] = {}
        for r in rows:
            self._cells[(r.metric, r.period_start)] = Agg(r.numerator, r.denominator, r.value)
            if self.computed_at is None or r.computed_at > self.computed_at:
                self.computed_at = r.computed_at

    def supports(self, metric: str) -> bool:
        return metric_supports(metric, self.dimension)

    def get(self, metric: str, period: date) -> Agg:
        if not self.supports(metric):
            return UNSUPPORTED
        return self._cells.get((metric, period)) or _zero(metric)

    def series(self, metric: str, periods: Sequence[date] | None = None) -> list[Agg]:
        return [self.get(metric, p) for p in (self.periods if periods is None else periods)]

    def over(self, metric: str, periods: Sequence[date] | None = None) -> Agg:
        """The metric re-aggregated over these periods (all by default); none for percentiles."""
        if not self.supports(metric):
            return UNSUPPORTED
        definition = METRICS[metric]
        cells = self.series(metric, periods)
        if definition.unit in {"hours", "days"}:
            return cells[0] if len(cells) == 1 else Agg(Decimal(0), None, None)
        if metric == "pipeline_open":  # a stock: its value at the end of the last period
            return cells[-1] if cells else _zero(metric)
        numerator = sum((c.numerator for c in cells), Decimal(0))
        denominator = (
            sum((c.denominator or Decimal(0) for c in cells), Decimal(0))
            if definition.is_ratio
            else None
        )
        return _summed(metric, numerator, denominator)


def kpi_table(
    *,
    metrics: Sequence[str],
    period: str,
    start: date,
    end: date,
    dimension: str | None = None,
    key: str | None = None,
    model: str = "linear",
) -> KpiTable:
    """Several metrics for the periods whose start falls in [start, end], in one query."""
    wanted = [m for m in metrics if metric_supports(m, dimension)]
    rows = (
        KpiSnapshot.objects.filter(
            metric__in=wanted,
            period=period,
            period_start__gte=start,
            period_start__lte=end,
            dimension=dimension or "",
            key=key or "",
            model__in=["", model],
        ).only("metric", "period_start", "value", "numerator", "denominator", "computed_at")
        if wanted
        else []
    )
    return KpiTable(
        metrics=metrics,
        periods=periods_between(period, start, end),
        dimension=dimension,
        rows=rows,
    )


def kpi_members(
    *,
    metrics: Sequence[str],
    period: str,
    start: date,
    end: date,
    dimension: str,
    model: str = "linear",
    keys: Iterable[str] | None = None,
) -> dict[str, dict[str, Agg]]:
    """Each member of a dimension → metric → value summed over the range (one GROUP BY).

    Percentile metrics cannot be summed and are refused; members missing a metric read zero.
    """
    from django.db.models import Sum

    if any(METRICS[m].unit in {"hours", "days"} for m in metrics):
        raise ValueError("Percentiles cannot be summed over members and periods.")
    qs = KpiSnapshot.objects.filter(
        metric__in=[m for m in metrics if metric_supports(m, dimension)],
        period=period,
        period_start__gte=start,
        period_start__lte=end,
        dimension=dimension,
        model__in=["", model],
    )
    if keys is not None:
        qs = qs.filter(key__in=list(keys))
    out: dict[str, dict[str, Agg]] = {}
    for row in qs.values("key", "metric").annotate(n=Sum("numerator"), d=Sum("denominator")):
        out.setdefault(row["key"], {})[row["metric"]] = _summed(row["metric"], row["n"], row["d"])
    for member in out.values():
        for m in metrics:
            member.setdefault(m, _zero(m) if metric_supports(m, dimension) else UNSUPPORTED)
    return out


# --- page building blocks --------------------------------------------------------------------

# Which team a metric belongs to on the pages (its colour): marketing, sales or joint.
TEAM_OF = {
    **dict.fromkeys(
        ["leads_created", "mqls", "campaign_cost", "cost_per_lead", "cost_per_sql",
         "cost_per_customer", "attributed_revenue", "campaign_roi", "marketing_sla_attainment"],
        "marketing",
    ),
    **dict.fromkeys(
        ["sals", "rejections", "handoffs_pending", "acceptance_rate", "mql_to_won_rate",
         "goal_attainment", "scorecard_attainment", "forecast_accuracy",
         "joint_meetings_per_week"],
        "joint",
    ),
}  # fmt: skip


def team_of(metric: str) -> str:
    return TEAM_OF.get(metric, "sales")


def period_label(kind: str, start: date) -> str:
    if kind == "week":
        year, week, _ = start.isocalendar()
        return f"W{week:02d} {year}"
    if kind == "quarter":
        return f"Q{(start.month - 1) // 3 + 1} {start.year}"
    return start.strftime("%b %Y")


def period_span_label(kind: str, start: date) -> str:
    """'16–22 Nov 2026' for a week, 'November 2026', 'Q4 2026 (Oct–Dec)'."""
    from datetime import timedelta

    from kpis.periods import next_period

    last = next_period(kind, start) - timedelta(days=1)
    if kind == "week":
        first = f"{start.day}" if start.month == last.month else f"{start.day} {start:%b}"
        return f"{first}–{last.day} {last:%b %Y}"
    if kind == "quarter":
        return f"{period_label(kind, start)} ({start:%b}–{last:%b})"
    return start.strftime("%B %Y")


@dataclass(frozen=True)
class KpiFilter:
    """What a page shows: a period kind, a range of periods, one slice and a model.

    Snapshots are kept per single dimension, so a page slices by at most one of channel,
    campaign, owner (the filter form enforces it).
    """

    period: str
    start: date
    end: date
    dimension: str | None = None
    key: str | None = None
    model: str = "linear"

    @property
    def focus(self) -> date:
        """The period the tiles describe: the one holding the range's last day."""
        from kpis.periods import period_start

        return period_start(self.period, self.end)

    @property
    def previous(self) -> date:
        from kpis.periods import previous_period

        return previous_period(self.period, self.focus)

    @property
    def periods(self) -> list[date]:
        return periods_between(self.period, self.start, self.end)


def kpi_filter_default(
    *, period: str = "month", end: date | None = None, periods: int = 12
) -> KpiFilter:
    """The last `periods` periods of `period` up to `end` (today)."""
    from django.utils import timezone

    from kpis.periods import period_start, previous_period

    end = end or timezone.localdate()
    start = period_start(period, end)
    for _ in range(periods - 1):
        start = previous_period(period, start)
    return KpiFilter(period=period, start=start, end=end)


@dataclass(frozen=True)
class Column:
    label: str
    unit: str = "text"  # text | period | count | currency | ratio | hours | days


@dataclass(frozen=True)
class Dataset:
    """The data of one chart or table: what the figure draws, the table shows, the CSV holds."""

    slug: str
    title: str
    columns: tuple[Column, ...]
    rows: list[tuple]
    summary: str = ""
    chart: str = ""  # funnel | lines | bars | hbar | revenue; empty: a table only
    teams: tuple[str, ...] = ()  # the colour of each value column
    note: str = ""
    x: tuple[date, ...] = ()  # period starts of the rows, for a time axis
    period: str = ""

    @property
    def is_empty(self) -> bool:
        return not self.rows


def _number(agg: Agg) -> float | None:
    return None if agg.value is None else float(agg.value)


@dataclass(frozen=True)
class Tile:
    metric: str
    label: str
    unit: str
    team: str
    direction: str
    current: Agg
    previous: Agg
    basis: Decimal | None  # what the change compares with: the previous value, maybe pro-rated
    prorated: bool
    change: Decimal | None  # percent for amounts, percentage points for ratios
    change_unit: str
    verdict: str  # good | bad | flat | "" (nothing to compare)
    spark: tuple[float | None, ...]


def accumulates(metric: str) -> bool:
    """Whether a metric grows through its period (a flow count or sum), so that a period in
    progress compares with the previous one pro-rated to the same share of its days."""
    definition = METRICS[metric]
    return (
        definition.unit in {"count", "currency"}
        and not definition.is_ratio
        and metric not in {"pipeline_open", "handoffs_pending"}
    )


def _change(
    metric: str, current: Agg, previous: Agg, elapsed: Decimal = Decimal(1)
) -> tuple[Decimal | None, str, str]:
    definition = METRICS[metric]
    if current.value is None or previous.value is None:
        return None, "", ""
    basis = previous.value * elapsed if accumulates(metric) else previous.value
    if definition.unit == "ratio":
        change, unit = (current.value - basis) * 100, "pts"
    elif basis == 0:
        return None, "", ""
    else:
        change, unit = (current.value - basis) / abs(basis) * 100, "%"
    if abs(change) < Decimal("0.05"):
        return change, unit, "flat"
    better = (change > 0) == definition.higher_is_better
    return change, unit, "good" if better else "bad"


def period_elapsed_share(kind: str, start: date, today: date) -> Decimal:
    """The share of a period's days gone by on `today` (1 for a period that is over)."""
    from kpis.periods import next_period

    end = next_period(kind, start)
    if today >= end:
        return Decimal(1)
    if today < start:
        return Decimal(0)
    return Decimal((today - start).days + 1) / Decimal((end - start).days)


def tile(
    table: KpiTable, metric: str, current: date, previous: date, elapsed: Decimal = Decimal(1)
) -> Tile:
    definition = METRICS[metric]
    now, before = table.get(metric, current), table.get(metric, previous)
    prorated = accumulates(metric) and elapsed < 1
    change, unit, verdict = _change(metric, now, before, elapsed if prorated else Decimal(1))
    basis = None if before.value is None else before.value * (elapsed if prorated else 1)
    return Tile(
        metric=metric,
        label=definition.label,
        unit=definition.unit,
        team=team_of(metric),
        direction=definition.direction,
        current=now,
        previous=before,
        basis=basis,
        prorated=prorated,
        change=change,
        change_unit=unit,
        verdict=verdict,
        spark=tuple(_number(a) for a in table.series(metric)),
    )


DASHBOARD_TILES = (
    "leads_created", "mqls", "cost_per_lead", "acceptance_rate",
    "mql_to_won_rate", "sqls", "win_rate", "revenue_won",
)  # fmt: skip
FUNNEL = (
    ("leads_created", "Leads"),
    ("mqls", "MQLs"),
    ("sals", "SALs"),
    ("sqls", "SQLs"),
    ("opportunities", "Opportunities"),
    ("deals_won", "Won"),
)
TRENDS = {
    "volume": ("Handoffs and pipeline stages", ("mqls", "sals", "rejections", "sqls"), "lines"),
    "rates": ("Conversion rates", ("acceptance_rate", "sql_rate", "win_rate"), "lines"),
    "revenue": ("Revenue", ("revenue_won", "pipeline_open"), "revenue"),
}
SLA_METRICS = (
    "sla_first_contact_rate",
    "sla_cadence_rate",
    "speed_to_lead_median_hours",
    "speed_to_lead_p90_hours",
)
CAMPAIGN_METRICS = (
    "campaign_cost", "leads_created", "mqls", "sqls", "deals_won",
    "attributed_revenue", "campaign_roi",
)  # fmt: skip
DASHBOARD_METRICS = tuple(
    dict.fromkeys(
        [
            *DASHBOARD_TILES,
            *(m for m, _ in FUNNEL),
            *(m for t in TRENDS.values() for m in t[1]),
            *SLA_METRICS,
        ]
    )
)


def funnel_dataset(table: KpiTable, periods: Sequence[date], slug: str = "funnel") -> Dataset:
    """The demand waterfall over the range, with stage-to-stage conversion and drop-off."""
    rows = []
    before: Decimal | None = None
    for metric, label in FUNNEL:
        agg = table.over(metric, periods)
        count = agg.value if agg.supported else None
        conversion = count / before if count is not None and before else None
        drop = before - count if count is not None and before is not None else None
        rows.append((label, count, conversion, drop))
        before = count
    first, last = rows[0], rows[-1]
    summary = (
        f"{_int(first[1])} leads became {_int(rows[1][1])} MQLs, {_int(rows[2][1])} SALs, "
        f"{_int(rows[3][1])} SQLs, {_int(rows[4][1])} opportunities and {_int(last[1])} won deals."
    )
    return Dataset(
        slug=slug,
        title="Demand waterfall",
        columns=(
            Column("Stage"),
            Column("Count", "count"),
            Column("From previous stage", "ratio"),
            Column("Drop-off", "count"),
        ),
        rows=rows,
        summary=summary,
        chart="funnel",
        teams=("marketing", "marketing", "joint", "sales", "sales", "sales"),
        note="Flow counts in the range: each stage counts the events of the range, so a "
        "stage can hold leads that entered the previous one earlier.",
    )


def _int(value: Decimal | None) -> str:
    return "no" if value is None else f"{int(value):,}"


def trend_dataset(table: KpiTable, kind: str, slug: str) -> Dataset:
    title, metrics, chart = TRENDS[slug]
    metrics = tuple(m for m in metrics if table.supports(m))
    rows = [
        (period_label(kind, p), *(table.get(m, p).value for m in metrics)) for p in table.periods
    ]
    last = rows[-1] if rows else None
    summary = (
        "; ".join(
            f"{METRICS[m].label}: {_fmt(last[i + 1], METRICS[m].unit)} in {last[0]}"
            for i, m in enumerate(metrics)
        )
        if last
        else "No periods in the range."
    )
    return Dataset(
        slug=slug,
        title=title,
        columns=(
            Column("Period", "period"),
            *(Column(METRICS[m].label, METRICS[m].unit) for m in metrics),
        ),
        rows=rows,
        summary=summary,
        chart=chart,
        teams=tuple(team_of(m) for m in metrics),
        x=tuple(table.periods),
        period=kind,
    )


def _fmt(value: Decimal | None, unit: str) -> str:
    if value is None:
        return "no value"
    if unit == "ratio":
        return f"{value * 100:.1f} %"
    if unit in {"hours", "days"}:
        return f"{value:.1f} {unit}"
    return f"{value:,.0f}"


def sla_dataset(table: KpiTable, kind: str) -> Dataset:
    rows = [
        (period_label(kind, p), *(table.get(m, p).value for m in SLA_METRICS))
        for p in table.periods
    ]
    first_contact = table.get("sla_first_contact_rate", table.periods[-1]) if rows else None
    return Dataset(
        slug="sla",
        title="SLA over time",
        columns=(
            Column("Period", "period"),
            *(Column(METRICS[m].label, METRICS[m].unit) for m in SLA_METRICS),
        ),
        rows=rows,
        summary=(
            f"First contact within SLA in {rows[-1][0]}: {_fmt(first_contact.value, 'ratio')}."
            if rows and first_contact
            else ""
        ),
        chart="lines",
        teams=("sales", "joint", "sales", "sales"),
        x=tuple(table.periods),
        period=kind,
    )


def reasons_dataset(
    *, period: str, start: date, end: date, dimension: str | None = None
) -> Dataset:
    """Rejections by reason over the range, most frequent first (totals only)."""
    from leads.models import RejectionReason

    title = "Why sales rejected leads"
    columns = (Column("Reason"), Column("Rejections", "count"), Column("Share", "ratio"))
    if dimension:
        return Dataset(
            "reasons",
            title,
            columns,
            [],
            note=f"Rejection reasons are not broken down by {dimension}; clear the filter to see them.",
            chart="hbar",
        )
    members = kpi_members(
        metrics=["rejections"], period=period, start=start, end=end, dimension="reason"
    )
    labels = dict(RejectionReason.objects.values_list("code", "label"))
    counts = sorted(
        ((labels.get(code, code), agg["rejections"].numerator) for code, agg in members.items()),
        key=lambda r: (-r[1], r[0]),
    )
    counts = [(label, n) for label, n in counts if n]
    total = sum((n for _, n in counts), Decimal(0))
    rows = [(label, n, n / total) for label, n in counts]
    summary = (
        f"{int(total):,} rejections; the most frequent reason: {rows[0][0]} ({int(rows[0][1]):,})."
        if rows
        else "No rejections in the range."
    )
    return Dataset("reasons", title, columns, rows, summary=summary, chart="hbar", teams=("joint",))


@dataclass(frozen=True)
class CampaignRow:
    key: str
    name: str
    channel: str
    values: dict[str, Agg]


def campaign_rows(
    *,
    period: str,
    start: date,
    end: date,
    model: str,
    channel: str | None = None,
    campaign: str | None = None,
    include_idle: bool = False,
) -> list[CampaignRow]:
    """Campaigns with their closed-loop numbers over the range, best attributed revenue first.

    With `include_idle`, campaigns without any number in the range are listed too (at zero).
    """
    from leads.models import Campaign, Channel

    campaigns = Campaign.objects.all()
    if channel:
        campaigns = campaigns.filter(channel=channel)
    if campaign:
        campaigns = campaigns.filter(external_id=campaign)
    info = {c[0]: c[1:] for c in campaigns.values_list("external_id", "name", "channel")}
    keys = list(info) if (channel or campaign) else None
    members = kpi_members(
        metrics=CAMPAIGN_METRICS,
        period=period,
        start=start,
        end=end,
        dimension="campaign",
        model=model,
        keys=keys,
    )
    channels = dict(Channel.choices)
    if include_idle:
        empty = {m: _zero(m) for m in CAMPAIGN_METRICS}
        for key in info:
            members.setdefault(key, empty)
    rows = [
        CampaignRow(
            key=key,
            name=info.get(key, (key, ""))[0],
            channel=channels.get(info.get(key, ("", ""))[1], ""),
            values=values,
        )
        for key, values in members.items()
    ]
    return sorted(
        rows,
        key=lambda r: (
            -(r.values["attributed_revenue"].numerator),
            -r.values["campaign_cost"].numerator,
            r.name,
        ),
    )


def campaigns_dataset(
    rows: Sequence[CampaignRow], *, model: str, slug: str = "campaigns"
) -> Dataset:
    from kpis.attribution import MODEL_LABELS

    return Dataset(
        slug=slug,
        title=f"Campaigns, closed loop ({MODEL_LABELS[model]} attribution)",
        columns=(
            Column("Campaign"),
            Column("Channel"),
            *(Column(METRICS[m].label, METRICS[m].unit) for m in CAMPAIGN_METRICS),
        ),
        rows=[(r.name, r.channel, *(r.values[m].value for m in CAMPAIGN_METRICS)) for r in rows],
        summary=(
            f"{rows[0].name} earned the most attributed revenue." if rows else "No campaigns."
        ),
    )


@dataclass(frozen=True)
class SlaPanel:
    first_contact: Agg
    cadence: Agg
    speed_median: Agg
    speed_p90: Agg
    breaches: int


def sla_panel(table: KpiTable, period: date, *, breaches: int) -> SlaPanel:
    return SlaPanel(
        first_contact=table.get("sla_first_contact_rate", period),
        cadence=table.get("sla_cadence_rate", period),
        speed_median=table.get("speed_to_lead_median_hours", period),
        speed_p90=table.get("speed_to_lead_p90_hours", period),
        breaches=breaches,
    )


# --- goals (HOOK: the shared goals of alignment/, built in a parallel issue) ------------------


@dataclass(frozen=True)
class GoalProgress:
    key: str
    label: str
    metric: str
    unit: str
    period_label: str
    actual: Decimal | None
    target: Decimal
    attainment: Decimal | None
    expected: Decimal  # the share of the period gone by: where a goal on pace stands today
    status: str  # achieved | on_track | at_risk | off_track | not_started
    status_label: str

    @property
    def percent(self) -> float:
        return min(float(self.attainment or 0) * 100, 100.0)

    @property
    def expected_percent(self) -> float:
        return float(self.expected) * 100


def goals_progress(*, today: date | None = None) -> list[GoalProgress]:
    """The shared goals of the periods running today, with attainment and pace.

    HOOK(goals): goals, their attainment and pace come from `alignment.selectors.goal_progress`
    (which reads the KPI snapshots). Without the alignment goals (not installed, or no goal
    running) the list is empty and the pages say "No shared goals yet".
    """
    from django.db.models import Q
    from django.utils import timezone

    from kpis.periods import KINDS, period_start

    try:
        from alignment.models import Goal
        from alignment.selectors import goal_progress
    except ImportError:
        return []
    today = today or timezone.localdate()
    running = Q()
    for kind in KINDS:
        running |= Q(period=kind, period_start=period_start(kind, today))
    goals = Goal.objects.filter(running).order_by("period", "name", "id")
    out = []
    for p in goal_progress(goals=goals):
        goal, pace = p.goal, getattr(p, "pace", None)
        achieved = p.attainment is not None and p.attainment >= 1
        status = "achieved" if achieved else str(pace) if pace else "not_started"
        definition = METRICS.get(goal.metric)
        out.append(
            GoalProgress(
                key=str(goal.pk),
                label=goal.name,
                metric=goal.metric,
                unit=definition.unit if definition else "count",
                period_label=period_span_label(goal.period, goal.period_start),
                actual=p.actual,
                target=goal.target,
                attainment=p.attainment,
                expected=p.elapsed if accumulates(goal.metric) else Decimal(1),
                status=status,
                status_label="Achieved" if achieved else p.pace_label,
            )
        )
    return out


# --- the meeting view -----------------------------------------------------------------------

MEETING_METRICS = (
    "mqls", "sals", "acceptance_rate", "sqls", "opportunities",
    "deals_won", "revenue_won", "sla_first_contact_rate", "speed_to_lead_median_hours",
)  # fmt: skip


@dataclass(frozen=True)
class WeekRow:
    metric: str
    label: str
    unit: str
    team: str
    last: Agg
    before: Agg
    average: Agg
    change: Decimal | None
    change_unit: str
    verdict: str


@dataclass(frozen=True)
class MeetingWeek:
    last_week: date
    label: str
    rows: list[WeekRow]
    computed_at: datetime | None


def _average(table: KpiTable, metric: str, weeks: Sequence[date]) -> Agg:
    """The 4-week average: ratios re-aggregated, counts divided, percentiles their mean."""
    definition = METRICS[metric]
    if definition.unit in {"hours", "days"}:
        values = [a.value for a in table.series(metric, weeks) if a.value is not None]
        return Agg(Decimal(0), None, sum(values) / len(values) if values else None)
    total = table.over(metric, weeks)
    if definition.is_ratio:
        return total
    return Agg(total.numerator, None, total.numerator / len(weeks))


def meeting_week(*, today: date | None = None) -> MeetingWeek:
    """Last (complete) week vs the week before vs the average of the last four weeks."""
    from django.utils import timezone

    from kpis.periods import period_start, previous_period

    today = today or timezone.localdate()
    last = previous_period("week", period_start("week", today))
    weeks = [last]
    for _ in range(3):
        weeks.insert(0, previous_period("week", weeks[0]))
    table = kpi_table(metrics=MEETING_METRICS, period="week", start=weeks[0], end=last)
    rows = []
    for metric in MEETING_METRICS:
        definition = METRICS[metric]
        now, before = table.get(metric, last), table.get(metric, weeks[-2])
        change, unit, verdict = _change(metric, now, before)
        rows.append(
            WeekRow(
                metric=metric,
                label=definition.label,
                unit=definition.unit,
                team=team_of(metric),
                last=now,
                before=before,
                average=_average(table, metric, weeks),
                change=change,
                change_unit=unit,
                verdict=verdict,
            )
        )
    return MeetingWeek(
        last_week=last,
        label=period_span_label("week", last),
        rows=rows,
        computed_at=table.computed_at,
    )


# --- the joint dashboard ------------------------------------------------------------------


@dataclass(frozen=True)
class DashboardData:
    filter: KpiFilter
    range_label: str
    focus_label: str
    previous_label: str
    focus_is_current: bool
    elapsed: Decimal
    tiles: list[Tile]
    funnel: Dataset
    trends: list[Dataset]
    sla: SlaPanel
    sla_trend: Dataset
    reasons: Dataset
    campaigns: Dataset
    campaign_rows: list[CampaignRow]
    campaigns_note: str
    goals: list[GoalProgress]
    computed_at: datetime | None


def _dashboard_table(f: KpiFilter) -> KpiTable:
    table = kpi_table(
        metrics=DASHBOARD_METRICS,
        period=f.period,
        start=min(f.start, f.previous),
        end=f.end,
        dimension=f.dimension,
        key=f.key,
        model=f.model,
    )
    table.periods = [p for p in table.periods if p >= f.start] or [f.focus]
    return table


def _campaign_slice(f: KpiFilter) -> tuple[list[CampaignRow], str]:
    if f.dimension not in {None, "channel", "campaign"}:
        return [], f"Campaign numbers are not broken down by {f.dimension}."
    rows = campaign_rows(
        period=f.period,
        start=f.start,
        end=f.end,
        model=f.model,
        channel=f.key if f.dimension == "channel" else None,
        campaign=f.key if f.dimension == "campaign" else None,
    )
    return rows, ""


def dashboard(f: KpiFilter) -> DashboardData:
    """Everything the joint dashboard shows, from snapshots (plus one COUNT of live breaches)."""
    from django.utils import timezone

    from leads.selectors import handoffs_breached_count

    table = _dashboard_table(f)
    rows, note = _campaign_slice(f)
    elapsed = period_elapsed_share(f.period, f.focus, timezone.localdate())
    return DashboardData(
        filter=f,
        range_label=f"{period_label(f.period, table.periods[0])} – {period_label(f.period, f.focus)}",
        focus_label=period_span_label(f.period, f.focus),
        previous_label=period_span_label(f.period, f.previous),
        focus_is_current=f.focus == _current_period(f.period, timezone.localdate()),
        elapsed=elapsed,
        tiles=[tile(table, m, f.focus, f.previous, elapsed) for m in DASHBOARD_TILES],
        funnel=funnel_dataset(table, table.periods),
        trends=[trend_dataset(table, f.period, slug) for slug in TRENDS],
        sla=sla_panel(
            table, f.focus, breaches=handoffs_breached_count(dimension=f.dimension, key=f.key)
        ),
        sla_trend=sla_dataset(table, f.period),
        reasons=reasons_dataset(period=f.period, start=f.start, end=f.end, dimension=f.dimension),
        campaigns=campaigns_dataset(rows, model=f.model),
        campaign_rows=rows[:10],
        campaigns_note=note,
        goals=goals_progress(),
        computed_at=table.computed_at,
    )


def _current_period(kind: str, today: date) -> date:
    from kpis.periods import period_start

    return period_start(kind, today)


def tiles_dataset(tiles: Sequence[Tile], f: KpiFilter) -> Dataset:
    return Dataset(
        slug="tiles",
        title="Headline numbers",
        columns=(
            Column("Metric"),
            Column("Period", "period"),
            Column("Value"),
            Column("Numerator"),
            Column("Denominator"),
            Column("Previous period value"),
            Column("Compared with (pro-rated for a period in progress)"),
            Column("Change"),
        ),
        rows=[
            (
                t.label,
                f.focus.isoformat(),
                t.current.value,
                t.current.numerator,
                t.current.denominator,
                t.previous.value,
                t.basis,
                f"{t.change:.1f} {t.change_unit}" if t.change is not None else "",
            )
            for t in tiles
        ],
    )


DASHBOARD_DATASETS = (
    "tiles",
    "funnel",
    "volume",
    "rates",
    "revenue",
    "sla",
    "reasons",
    "campaigns",
)


def dashboard_dataset(f: KpiFilter, slug: str) -> Dataset:
    """One of the dashboard's datasets (for its CSV), reading only what it needs."""
    if slug == "reasons":
        return reasons_dataset(period=f.period, start=f.start, end=f.end, dimension=f.dimension)
    if slug == "campaigns":
        return campaigns_dataset(_campaign_slice(f)[0], model=f.model)
    table = _dashboard_table(f)
    if slug == "tiles":
        from django.utils import timezone

        elapsed = period_elapsed_share(f.period, f.focus, timezone.localdate())
        tiles = [tile(table, m, f.focus, f.previous, elapsed) for m in DASHBOARD_TILES]
        return tiles_dataset(tiles, f)
    if slug == "funnel":
        return funnel_dataset(table, table.periods)
    if slug == "sla":
        return sla_dataset(table, f.period)
    if slug in TRENDS:
        return trend_dataset(table, f.period, slug)
    raise KeyError(slug)


@dataclass(frozen=True)
class OwnerSla:
    username: str
    name: str
    breaches: int
    oldest_due: datetime | None
    first_contact: Agg


@dataclass(frozen=True)
class MeetingSla:
    week_label: str
    total_breaches: int
    team_first_contact: Agg
    rows: list[OwnerSla]


def meeting_sla(*, today: date | None = None) -> MeetingSla:
    """Breaches right now by owner, with each owner's first-contact rate last week."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from kpis.periods import period_start, previous_period
    from leads.selectors import sla_breaches_by_owner

    today = today or timezone.localdate()
    last = previous_period("week", period_start("week", today))
    breaches = {b["username"] or "(unassigned)": b for b in sla_breaches_by_owner()}
    rates = kpi_members(
        metrics=["sla_first_contact_rate"], period="week", start=last, end=last, dimension="owner"
    )
    total = kpi_table(metrics=["sla_first_contact_rate"], period="week", start=last, end=last)
    missing = [u for u in rates if u not in breaches and u != "(unassigned)"]
    names = {
        u: " ".join(filter(None, [f, ln])) or u
        for u, f, ln in get_user_model()
        .objects.filter(username__in=missing)
        .values_list("username", "first_name", "last_name")
    }
    rows = []
    for username in dict.fromkeys([*breaches, *rates]):
        b = breaches.get(username)
        rate = rates.get(username, {}).get("sla_first_contact_rate") or _zero(
            "sla_first_contact_rate"
        )
        rows.append(
            OwnerSla(
                username=username,
                name=b["name"] if b else names.get(username, "Unassigned"),
                breaches=b["count"] if b else 0,
                oldest_due=b["oldest"] if b else None,
                first_contact=rate,
            )
        )
    rows.sort(key=lambda r: (-r.breaches, float(r.first_contact.value or 0), r.name))
    return MeetingSla(
        week_label=period_span_label("week", last),
        total_breaches=sum(r.breaches for r in rows),
        team_first_contact=total.get("sla_first_contact_rate", last),
        rows=rows,
    )


@dataclass(frozen=True)
class ReasonQuotes:
    code: str
    label: str
    count: Decimal
    share: Decimal
    bar: float  # length of its bar: its count relative to the most frequent reason
    quotes: list  # Handoff rows with feedback


@dataclass(frozen=True)
class MeetingReasons:
    range_label: str
    total: Decimal
    reasons: list[ReasonQuotes]


def meeting_reasons(
    *, today: date | None = None, weeks: int = 4, top: int = 5, quoted: int = 3
) -> MeetingReasons:
    """The top rejection reasons of the last weeks, with sales' own words for the first ones."""
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    from kpis.periods import local_midnight, next_period, period_start, previous_period
    from leads.models import RejectionReason
    from leads.selectors import rejection_quotes

    today = today or timezone.localdate()
    last = previous_period("week", period_start("week", today))
    first = last
    for _ in range(weeks - 1):
        first = previous_period("week", first)
    members = kpi_members(
        metrics=["rejections"], period="week", start=first, end=last, dimension="reason"
    )
    counts = sorted(
        ((code, agg["rejections"].numerator) for code, agg in members.items()),
        key=lambda r: (-r[1], r[0]),
    )
    counts = [(code, n) for code, n in counts if n][:top]
    total = sum((agg["rejections"].numerator for agg in members.values()), Decimal(0))
    labels = dict(RejectionReason.objects.values_list("code", "label"))
    tz = ZoneInfo(settings.TIME_ZONE)
    quotes = rejection_quotes(
        since=local_midnight(first, tz),
        until=local_midnight(next_period("week", last), tz),
        reasons=[code for code, _ in counts[:quoted]],
    )
    most = counts[0][1] if counts else Decimal(1)
    return MeetingReasons(
        range_label=_days_label(first, next_period("week", last) - timedelta(days=1)),
        total=total,
        reasons=[
            ReasonQuotes(code, labels.get(code, code), n, n / total if total else Decimal(0),
                         float(n / most), quotes.get(code, []))
            for code, n in counts
        ],
    )  # fmt: skip


def _days_label(first: date, last: date) -> str:
    """'19 Oct – 15 Nov 2026', '28 Dec 2025 – 24 Jan 2026'."""
    if first.year != last.year:
        return f"{first.day} {first:%b %Y} – {last.day} {last:%b %Y}"
    return f"{first.day} {first:%b} – {last.day} {last:%b %Y}"


# --- one campaign -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelRow:
    model: str
    label: str
    revenue: Agg
    roi: Agg


def campaign_models(*, key: str, period: str, start: date, end: date) -> list[ModelRow]:
    """A campaign's attributed revenue and ROI under every attribution model (one GROUP BY)."""
    from django.db.models import Sum

    from kpis.attribution import MODEL_LABELS, MODELS

    sums = {
        (r["metric"], r["model"]): _summed(r["metric"], r["n"], r["d"])
        for r in KpiSnapshot.objects.filter(
            metric__in=["attributed_revenue", "campaign_roi"],
            period=period,
            period_start__gte=start,
            period_start__lte=end,
            dimension="campaign",
            key=key,
        )
        .values("metric", "model")
        .annotate(n=Sum("numerator"), d=Sum("denominator"))
    }
    return [
        ModelRow(
            model=m,
            label=MODEL_LABELS[m],
            revenue=sums.get(("attributed_revenue", m)) or _zero("attributed_revenue"),
            roi=sums.get(("campaign_roi", m)) or _zero("campaign_roi"),
        )
        for m in MODELS
    ]


def models_dataset(rows: Sequence[ModelRow]) -> Dataset:
    best = max(rows, key=lambda r: r.revenue.numerator) if rows else None
    return Dataset(
        slug="models",
        title="Attributed revenue by model",
        columns=(
            Column("Model"),
            Column("Attributed revenue", "currency"),
            Column("ROI", "ratio"),
        ),
        rows=[(r.label, r.revenue.value, r.roi.value) for r in rows],
        summary=(
            f"{best.label} credits this campaign the most: {best.revenue.value:,.0f}."
            if best and best.revenue.numerator
            else "No won revenue credited to this campaign yet."
        ),
        chart="hbar",
        teams=("marketing",),
    )


CAMPAIGN_TREND = ("leads_created", "mqls", "sqls", "deals_won")


@dataclass(frozen=True)
class CampaignDetail:
    filter: KpiFilter
    range_label: str
    totals: dict[str, Agg]
    funnel: Dataset
    trend: Dataset
    models: list[ModelRow]
    models_data: Dataset
    computed_at: datetime | None


def campaign_trend_dataset(table: KpiTable, kind: str) -> Dataset:
    rows = [
        (period_label(kind, p), *(table.get(m, p).value for m in CAMPAIGN_TREND))
        for p in table.periods
    ]
    return Dataset(
        slug="trend",
        title="Leads over time",
        columns=(
            Column("Period", "period"),
            *(Column(METRICS[m].label, METRICS[m].unit) for m in CAMPAIGN_TREND),
        ),
        rows=rows,
        summary=f"{len(rows)} periods of leads, MQLs, SQLs and won deals.",
        chart="lines",
        teams=tuple(team_of(m) for m in CAMPAIGN_TREND),
        x=tuple(table.periods),
        period=kind,
    )


def campaign_detail(*, key: str, f: KpiFilter) -> CampaignDetail:
    """A campaign's closed loop from snapshots: funnel, trend, cost and revenue per model."""
    table = kpi_table(
        metrics=[*(m for m, _ in FUNNEL), *CAMPAIGN_METRICS],
        period=f.period,
        start=f.start,
        end=f.end,
        dimension="campaign",
        key=key,
        model=f.model,
    )
    models = campaign_models(key=key, period=f.period, start=f.start, end=f.end)
    first = table.periods[0] if table.periods else f.focus
    return CampaignDetail(
        filter=f,
        range_label=f"{period_label(f.period, first)} – {period_label(f.period, f.focus)}",
        totals={m: table.over(m) for m in CAMPAIGN_METRICS},
        funnel=funnel_dataset(table, table.periods),
        trend=campaign_trend_dataset(table, f.period),
        models=models,
        models_data=models_dataset(models),
        computed_at=table.computed_at,
    )

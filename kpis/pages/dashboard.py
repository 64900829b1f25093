"""The joint dashboard's builder: headline tiles, the demand waterfall, trends, the SLA panel,
the evidence panel, rejection reasons and the campaigns' closed loop, for one filter, from
snapshots."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from core.attribution import MODEL_LABELS
from core.catalog import METRICS
from core.periods import (
    PACE_MIN_ELAPSED,
    elapsed_share,
    next_period,
    period_label,
    period_span_label,
    period_start,
)
from kpis.goals import GoalProgress, GoalReading, goal_scored, goals_running_readings
from kpis.pages.common import (
    UNIT_WORDS,
    Column,
    Dataset,
    Tile,
    csv_value,
    format_value,
    period_rows,
    series_dataset,
    tile,
    whole_label,
)
from kpis.pages.evidence import EVIDENCE_METRICS, EvidencePanel, evidence_panel
from kpis.pages.habits import JointMeetings, joint_meetings
from kpis.selectors import (
    CAMPAIGN_METRICS,
    Agg,
    CampaignRow,
    KpiFilter,
    KpiTable,
    campaign_rows,
    kpi_table,
    rejections_by_reason,
)
from leads.selectors import evidence_handoffs, handoffs_breached_count, rejection_reason_labels

DASHBOARD_TILES = (
    "leads_created", "mqls", "cost_per_lead", "acceptance_rate",
    "mql_to_won_rate", "sqls", "win_rate", "revenue_won",
)  # fmt: skip


FUNNEL = (  # one cohort: the leads created in the range, by the furthest stage each reached
    ("leads_created", "Leads"),
    ("funnel_mqls", "MQLs"),
    ("funnel_sals", "SALs"),
    ("funnel_sqls", "SQLs"),
    ("funnel_opportunities", "Opportunities"),
    ("funnel_won", "Won"),
)
SLICE_WORDS = {
    "owner": "owned by",
    "campaign": "from campaign",
    "channel": "from channel",
    "segment": "in segment",
}


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


DASHBOARD_METRICS = tuple(
    dict.fromkeys(
        [
            *DASHBOARD_TILES,
            *(m for m, _ in FUNNEL),
            *(m for t in TRENDS.values() for m in t[1]),
            *SLA_METRICS,
            *EVIDENCE_METRICS,
        ]
    )
)


def funnel_dataset(
    table: KpiTable,
    periods: Sequence[date],
    *,
    kind: str,
    key: str | None = None,
    slug: str = "funnel",
) -> Dataset:
    """The demand waterfall over the range, with stage-to-stage conversion and drop-off: the
    leads created in the range (of the table's slice, `key`) and the stages they reached."""
    rows, parts = [], []
    before: Decimal | None = None
    for metric, label in FUNNEL:
        agg = table.over(metric, periods)
        count = agg.value if agg.supported else None
        conversion = count / before if count is not None and before else None
        drop = before - count if count is not None and before is not None else None
        rows.append((label, count, conversion, drop))
        step = Agg(count, before, conversion) if count is not None and before is not None else None
        parts.append((None, None, step, None))
        before = count
    first, last = rows[0], rows[-1]
    summary = (
        f"{whole_label(first[1])} leads became {whole_label(rows[1][1])} MQLs, {whole_label(rows[2][1])} SALs, "
        f"{whole_label(rows[3][1])} SQLs, {whole_label(rows[4][1])} opportunities and {whole_label(last[1])} won deals."
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
        teams=tuple(METRICS[m].team for m, _ in FUNNEL),
        note=_funnel_note(table, periods, kind=kind, key=key),
        parts=tuple(parts),
    )


def _funnel_note(
    table: KpiTable, periods: Sequence[date], *, kind: str, key: str | None = None
) -> str:
    """What set of leads the waterfall counts, in words: the cohort, the slice, as of when."""
    span = "in the range"
    if periods:
        last = next_period(kind, periods[-1]) - timedelta(days=1)
        span = f"from {_day(periods[0])} to {_day(last)}"
    who = ""
    if table.dimension:
        who = f" {SLICE_WORDS.get(table.dimension, table.dimension)} {key}"
    if table.dimension == "owner":
        who += " (the lead's owner: a lead without one gets a rep when it becomes an MQL)"
    as_of = timezone.localtime(table.computed_at).date() if table.computed_at else None
    by = f"by {_day(as_of)}" if as_of else "so far"
    return (
        f"Leads created {span}{who}, and how many of them had reached each stage {by}. "
        "Each lead counts once, at every stage up to the furthest it reached, so no stage "
        "exceeds the one before."
    )


def _day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def trend_dataset(table: KpiTable, kind: str, slug: str, partial: bool = False) -> Dataset:
    """One trend over the table's periods; with `partial`, the last is a period in progress."""
    title, metrics, chart = TRENDS[slug]
    metrics = tuple(m for m in metrics if table.supports(m))
    rows = period_rows(table, kind, metrics, partial=partial)
    last = rows[-1] if rows else None
    summary = (
        "; ".join(
            f"{METRICS[m].label}: {format_value(last[i + 1], METRICS[m].unit, none='no value')} in {last[0]}"
            for i, m in enumerate(metrics)
        )
        if last
        else "No periods in the range."
    )
    return series_dataset(
        table, kind, metrics, rows, slug=slug, title=title, summary=summary, chart=chart,
        partial=partial,
    )  # fmt: skip


def sla_dataset(table: KpiTable, kind: str, partial: bool = False) -> Dataset:
    rows = period_rows(table, kind, SLA_METRICS, partial=partial)
    first_contact = table.get("sla_first_contact_rate", table.periods[-1]) if rows else None
    summary = (
        f"First contact within SLA in {rows[-1][0]}: {format_value(first_contact.value, 'ratio', none='no value')}."
        if rows and first_contact
        else ""
    )
    return series_dataset(
        table, kind, SLA_METRICS, rows, slug="sla", title="SLA over time", summary=summary,
        partial=partial,
    )  # fmt: skip


def reasons_dataset(
    *, period: str, start: date, end: date, dimension: str | None = None
) -> Dataset:
    """Rejections by reason over the range, most frequent first (totals only)."""
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
    labels = rejection_reason_labels()
    counts = [
        (labels.get(code, code), n)
        for code, n in rejections_by_reason(period=period, start=start, end=end)
    ]
    total = sum((n for _, n in counts), Decimal(0))
    rows = [(label, n, n / total) for label, n in counts]
    summary = (
        f"{int(total):,} rejections; the most frequent reason: {rows[0][0]} ({int(rows[0][1]):,})."
        if rows
        else "No rejections in the range."
    )
    parts = tuple((None, None, Agg(n, total, n / total)) for _, n in counts)
    return Dataset(
        "reasons", title, columns, rows, summary=summary, chart="hbar", teams=("joint",),
        parts=parts,
    )  # fmt: skip


def campaigns_dataset(
    rows: Sequence[CampaignRow], *, model: str, slug: str = "campaigns"
) -> Dataset:
    return Dataset(
        slug=slug,
        title=f"Campaigns, closed loop ({MODEL_LABELS[model]} attribution)",
        columns=(
            Column("Campaign"),
            Column("Channel"),
            *(Column(METRICS[m].label, METRICS[m].unit) for m in CAMPAIGN_METRICS),
        ),
        rows=[(r.name, r.channel, *(r.values[m].value for m in CAMPAIGN_METRICS)) for r in rows],
        parts=tuple(
            (
                None,
                None,
                *(r.values[m] if METRICS[m].unit == "ratio" else None for m in CAMPAIGN_METRICS),
            )
            for r in rows
        ),
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
    breaches: int | None  # live, counted on each request (None in a `DashboardBase`)


def sla_panel(table: KpiTable, period: date, *, breaches: int | None) -> SlaPanel:
    return SlaPanel(
        first_contact=table.get("sla_first_contact_rate", period),
        cadence=table.get("sla_cadence_rate", period),
        speed_median=table.get("speed_to_lead_median_hours", period),
        speed_p90=table.get("speed_to_lead_p90_hours", period),
        breaches=breaches,
    )


@dataclass(frozen=True)
class DashboardBase:
    """What the snapshots and today's date decide of the dashboard, so that it can be kept
    until either changes (`kpis.render_cache`): everything but what moves with the clock."""

    filter: KpiFilter
    table: KpiTable  # what the tiles read on every request (their metrics only)
    range_label: str
    focus_label: str
    previous_label: str
    focus_is_current: bool
    funnel: Dataset
    trends: list[Dataset]
    sla: SlaPanel
    sla_trend: Dataset
    reasons: Dataset
    campaigns: Dataset
    campaign_rows: list[CampaignRow]
    campaigns_note: str
    goals: list[GoalReading]  # scored on every request: their pace follows the clock
    meetings: JointMeetings
    evidence: EvidencePanel
    computed_at: datetime | None


@dataclass(frozen=True)
class DashboardData:
    filter: KpiFilter
    range_label: str
    focus_label: str
    previous_label: str
    focus_is_current: bool
    elapsed: Decimal
    too_early: bool  # too little of the focus period has gone by to compare it
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
    meetings: JointMeetings
    evidence: EvidencePanel
    disputes_open: int  # live, counted on each request, whenever raised (this filter's slice)
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
    return dashboard_now(dashboard_base(f))


def dashboard_base(f: KpiFilter) -> DashboardBase:
    """The dashboard's reads of the snapshots, and all that follows from them and the date."""
    table = _dashboard_table(f)
    rows, note = _campaign_slice(f)
    partial = _ends_in_progress(table, f, _elapsed(f))
    return DashboardBase(
        filter=f,
        table=table.only(DASHBOARD_TILES),
        range_label=f"{period_label(f.period, table.periods[0])} – {period_label(f.period, f.focus)}",
        focus_label=period_span_label(f.period, f.focus),
        previous_label=period_span_label(f.period, f.previous),
        focus_is_current=f.focus == _current_period(f.period, timezone.localdate()),
        funnel=funnel_dataset(table, table.periods, kind=f.period, key=f.key),
        trends=[trend_dataset(table, f.period, slug, partial) for slug in TRENDS],
        sla=sla_panel(table, f.focus, breaches=None),
        sla_trend=sla_dataset(table, f.period, partial),
        reasons=reasons_dataset(period=f.period, start=f.start, end=f.end, dimension=f.dimension),
        campaigns=campaigns_dataset(rows, model=f.model),
        campaign_rows=rows[:10],
        campaigns_note=note,
        goals=goals_running_readings(),
        meetings=joint_meetings(),
        evidence=evidence_panel(table, f.period, f=f, trend_partial=partial),
        computed_at=table.computed_at,
    )


def dashboard_now(base: DashboardBase) -> DashboardData:
    """The dashboard as of now: `base` with what moves with the clock (how far into its period
    the focus is, the tiles compared at that pace, live SLA breaches, the goals' pace)."""
    f, now = base.filter, timezone.now()
    elapsed = _elapsed(f)
    breaches = handoffs_breached_count(dimension=f.dimension, key=f.key)
    disputes_open = evidence_handoffs(
        fact="disputes_open", start=None, end=None, user=None, now=now,
        dimension=f.dimension, key=f.key,
    ).count()  # fmt: skip
    return DashboardData(
        filter=f,
        range_label=base.range_label,
        focus_label=base.focus_label,
        previous_label=base.previous_label,
        focus_is_current=base.focus_is_current,
        elapsed=elapsed,
        too_early=elapsed < PACE_MIN_ELAPSED,
        tiles=[tile(base.table, m, f.focus, f.previous, elapsed) for m in DASHBOARD_TILES],
        funnel=base.funnel,
        trends=base.trends,
        sla=replace(base.sla, breaches=breaches),
        sla_trend=base.sla_trend,
        reasons=base.reasons,
        campaigns=base.campaigns,
        campaign_rows=base.campaign_rows,
        campaigns_note=base.campaigns_note,
        goals=[goal_scored(g, now=now) for g in base.goals],
        meetings=base.meetings,
        evidence=base.evidence,
        disputes_open=disputes_open,
        computed_at=base.computed_at,
    )


def _elapsed(f: KpiFilter) -> Decimal:
    """How far into the focus period now is (1 for a period that is over)."""
    return elapsed_share(f.period, f.focus, timezone.now(), ZoneInfo(settings.TIME_ZONE))


def _ends_in_progress(table: KpiTable, f: KpiFilter, elapsed: Decimal) -> bool:
    """Whether the trends' last period is the focus period and it is still in progress."""
    return elapsed < 1 and bool(table.periods) and table.periods[-1] == f.focus


def _current_period(kind: str, today: date) -> date:
    return period_start(kind, today)


def tiles_dataset(tiles: Sequence[Tile], f: KpiFilter) -> Dataset:
    """The headline numbers for their CSV: each metric's values rounded as its tile shows
    them, in its unit (a ratio in percent), with the raw numerator and denominator."""
    return Dataset(
        slug="tiles",
        title="Headline numbers",
        columns=(
            Column("Metric"),
            Column("Period", "period"),
            Column("Unit"),
            Column("Value"),
            Column("Numerator"),
            Column("Denominator"),
            Column("Previous period value"),
            Column("Compared with (pro-rated for a period in progress)"),
            Column("Change"),
            Column("Change unit"),
        ),
        rows=[
            (
                t.label,
                f.focus.isoformat(),
                UNIT_WORDS.get(t.unit, t.unit),
                csv_value(t.current.value, t.unit),
                t.current.numerator,
                t.current.denominator,
                csv_value(t.previous.value, t.unit),
                csv_value(t.basis, t.unit),
                Decimal(f"{t.change:.1f}") if t.change is not None else None,
                t.change_unit,
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
    "meetings",
    "evidence",
)


def dashboard_dataset(f: KpiFilter, slug: str) -> Dataset:
    """One of the dashboard's datasets (for its CSV), reading only what it needs."""
    if slug == "reasons":
        return reasons_dataset(period=f.period, start=f.start, end=f.end, dimension=f.dimension)
    if slug == "campaigns":
        return campaigns_dataset(_campaign_slice(f)[0], model=f.model)
    if slug == "meetings":
        return joint_meetings().trend
    table = _dashboard_table(f)
    if slug == "tiles":
        elapsed = _elapsed(f)
        tiles = [tile(table, m, f.focus, f.previous, elapsed) for m in DASHBOARD_TILES]
        return tiles_dataset(tiles, f)
    if slug == "funnel":
        return funnel_dataset(table, table.periods, kind=f.period, key=f.key)
    partial = _ends_in_progress(table, f, _elapsed(f))
    if slug == "evidence":
        return evidence_panel(table, f.period, f=f, trend_partial=partial).trend
    if slug == "sla":
        return sla_dataset(table, f.period, partial)
    if slug in TRENDS:
        return trend_dataset(table, f.period, slug, partial)
    raise KeyError(slug)

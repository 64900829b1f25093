"""Reads of the KPI snapshots for the pages and the API. Nothing here aggregates raw events.

`kpi_series` reads one metric for the API; `kpi_table` reads many metrics of one slice in one
query; `kpi_members` sums a dimension's members over a range in one GROUP BY (of snapshots, not
of events). How each metric re-aggregates over periods and members is the catalog's
`Metric.aggregation`: sums and ratios add up their numerators and denominators ("34 of 80"),
a stock is its last period's value, a percentile is only read per period.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from core.attribution import MODEL_LABELS, MODELS
from core.catalog import METRICS, Aggregation
from core.periods import period_label, period_start, periods_between, previous_period
from kpis.models import ChangeSetAside, KpiSnapshot
from leads.models import Campaign


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
    for missing in set(periods_between(period, start, end)) - present:
        values.append(
            KpiValue(
                metric=metric,
                period=period,
                period_start=missing,
                dimension=None,
                key=None,
                model=model or None,
                value=definition.empty_value(),
                numerator=Decimal(0),
                denominator=definition.empty_denominator(),
                computed_at=None,
            )
        )
    return sorted(values, key=lambda v: v.period_start)


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


def agg_empty(metric: str) -> Agg:
    """A metric with no snapshot: what the catalog says an empty period is."""
    definition = METRICS[metric]
    return Agg(Decimal(0), definition.empty_denominator(), definition.empty_value())


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

    def only(self, metrics: Sequence[str]) -> KpiTable:
        """The same table with only these metrics (a smaller one to keep in a cache)."""
        table = KpiTable(metrics=metrics, periods=self.periods, dimension=self.dimension, rows=())
        table.computed_at = self.computed_at
        table._cells = {cell: agg for cell, agg in self._cells.items() if cell[0] in metrics}
        return table

    def get(self, metric: str, period: date) -> Agg:
        if not self.supports(metric):
            return UNSUPPORTED
        return self._cells.get((metric, period)) or agg_empty(metric)

    def series(self, metric: str, periods: Sequence[date] | None = None) -> list[Agg]:
        return [self.get(metric, p) for p in (self.periods if periods is None else periods)]

    def over(self, metric: str, periods: Sequence[date] | None = None) -> Agg:
        """The metric re-aggregated over these periods (all by default), as the catalog says:
        sums and ratios add up, a stock is its last period's, a percentile none for a range."""
        if not self.supports(metric):
            return UNSUPPORTED
        definition = METRICS[metric]
        cells = self.series(metric, periods)
        if definition.is_percentile:  # cannot be added up: one period's value or none
            return cells[0] if len(cells) == 1 else Agg(Decimal(0), None, None)
        if definition.aggregation is Aggregation.STOCK:  # its level at the end of the last period
            return cells[-1] if cells else agg_empty(metric)
        numerator = sum((c.numerator for c in cells), Decimal(0))
        denominator = (
            sum((c.denominator or Decimal(0) for c in cells), Decimal(0))
            if definition.is_ratio
            else None
        )
        return _summed(metric, numerator, denominator)


TABLE_FIELDS = ("metric", "period_start", "value", "numerator", "denominator", "computed_at")


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
        ).values_list(*TABLE_FIELDS, named=True)  # rows: a page reads hundreds of them
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

    Only sums and ratios add up (the catalog's `summable`); others are refused. Members missing
    a metric read the catalog's empty value.
    """
    if any(not METRICS[m].summable for m in metrics):
        raise ValueError("Only sums and ratios add up over members and periods.")
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
            member.setdefault(m, agg_empty(m) if metric_supports(m, dimension) else UNSUPPORTED)
    return out


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

        return period_start(self.period, self.end)

    @property
    def previous(self) -> date:

        return previous_period(self.period, self.focus)

    @property
    def periods(self) -> list[date]:
        return periods_between(self.period, self.start, self.end)

    @property
    def range_label(self) -> str:
        """'Jan 2026 – Dec 2026': the first and the last period of the range."""
        periods = self.periods
        first = periods[0] if periods else self.focus
        return f"{period_label(self.period, first)} – {period_label(self.period, self.focus)}"


def kpi_filter_default(
    *, period: str = "month", end: date | None = None, periods: int = 12
) -> KpiFilter:
    """The last `periods` periods of `period` up to `end` (today)."""

    end = end or timezone.localdate()
    start = period_start(period, end)
    for _ in range(periods - 1):
        start = previous_period(period, start)
    return KpiFilter(period=period, start=start, end=end)


# A campaign's closed loop: what it cost, what it produced, what it earned.
CAMPAIGN_METRICS = (
    "campaign_cost", "leads_created", "mqls", "sqls", "deals_won",
    "attributed_revenue", "campaign_roi",
)  # fmt: skip


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
    campaigns = Campaign.objects.all()
    if channel:
        campaigns = campaigns.filter(channel=channel)
    if campaign:
        campaigns = campaigns.filter(external_id=campaign)
    info = {c[0]: c[1:] for c in campaigns.values_list("external_id", "name", "channel__label")}
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
    if include_idle:
        empty = {m: agg_empty(m) for m in CAMPAIGN_METRICS}
        for key in info:
            members.setdefault(key, empty)
    rows = [
        CampaignRow(
            key=key,
            name=info.get(key, (key, ""))[0],
            channel=info.get(key, ("", ""))[1],
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


@dataclass(frozen=True)
class ModelRow:
    model: str
    label: str
    revenue: Agg
    roi: Agg


def campaign_models(*, key: str, period: str, start: date, end: date) -> list[ModelRow]:
    """A campaign's attributed revenue and ROI under every attribution model (one GROUP BY)."""

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
            revenue=sums.get(("attributed_revenue", m)) or agg_empty("attributed_revenue"),
            roi=sums.get(("campaign_roi", m)) or agg_empty("campaign_roi"),
        )
        for m in MODELS
    ]


def rejections_by_reason(*, period: str, start: date, end: date) -> list[tuple[str, Decimal]]:
    """(reason code, rejections) over the range, most frequent first; reasons with none left
    out (one GROUP BY of the `rejections` snapshots by reason)."""
    members = kpi_members(
        metrics=["rejections"], period=period, start=start, end=end, dimension="reason"
    )
    counts = sorted(
        ((code, agg["rejections"].numerator) for code, agg in members.items()),
        key=lambda row: (-row[1], row[0]),
    )
    return [(code, n) for code, n in counts if n]


def changes_set_aside() -> list[ChangeSetAside]:
    """The change log's entries the engine could not recompute, oldest first (one query)."""
    return list(ChangeSetAside.objects.all())

"""A campaign's page builder: its funnel, its leads over time, and what each attribution model
credits it with, from snapshots."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from core.attribution import MODEL_LABELS
from kpis.pages.common import Column, Dataset, period_rows, series_dataset
from kpis.pages.dashboard import FUNNEL, funnel_dataset
from kpis.selectors import (
    CAMPAIGN_METRICS,
    Agg,
    KpiFilter,
    KpiTable,
    ModelRow,
    campaign_models,
    kpi_table,
)


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
    model_label: str
    totals: dict[str, Agg]
    funnel: Dataset
    trend: Dataset
    models: list[ModelRow]
    models_data: Dataset
    computed_at: datetime | None

    @property
    def credit_only(self) -> bool:
        """Revenue credited, yet no won deal of its own leads: all of it comes from its touches
        on leads that came in through other campaigns (their deals, not its own)."""
        won, revenue = self.totals["deals_won"].value, self.totals["attributed_revenue"].value
        return not won and bool(revenue)


def campaign_trend_dataset(table: KpiTable, kind: str) -> Dataset:
    rows = period_rows(table, kind, CAMPAIGN_TREND)
    summary = f"{len(rows)} periods of leads, MQLs, SQLs and won deals."
    return series_dataset(
        table, kind, CAMPAIGN_TREND, rows, slug="trend", title="Leads over time", summary=summary
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
    return CampaignDetail(
        filter=f,
        range_label=f.range_label,
        model_label=MODEL_LABELS[f.model],
        totals={m: table.over(m) for m in CAMPAIGN_METRICS},
        funnel=funnel_dataset(table, table.periods, kind=f.period, key=key),
        trend=campaign_trend_dataset(table, f.period),
        models=models,
        models_data=models_dataset(models),
        computed_at=table.computed_at,
    )

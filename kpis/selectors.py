"""Reads of the KPI snapshots for pages and the API. Pages never aggregate raw events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

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

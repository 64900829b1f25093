"""Snapshot reads re-aggregate each metric over a range as the catalog says it aggregates."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.test import Client

from core.catalog import METRICS, Aggregation
from kpis.models import KpiSnapshot
from kpis.selectors import kpi_members, kpi_table

pytestmark = pytest.mark.django_db
MONTHS = [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]


def snapshot(metric: str, start: date, numerator: int, denominator: int | None = None) -> None:
    value = None if denominator == 0 else Decimal(numerator) / (denominator or 1)
    KpiSnapshot.objects.create(
        metric=metric,
        period="month",
        period_start=start,
        value=value,
        numerator=numerator,
        denominator=denominator,
        computed_at=datetime(2026, 4, 1, tzinfo=UTC),
    )


def test_a_range_reads_sums_ratios_stocks_and_percentiles_each_their_own_way() -> None:
    for start, (mqls, accepted, decided, pipeline, median) in zip(
        MONTHS, [(3, 1, 2, 100, 5), (4, 2, 2, 250, 7), (5, 3, 4, 80, 9)], strict=True
    ):
        snapshot("mqls", start, mqls)
        snapshot("acceptance_rate", start, accepted, decided)
        snapshot("pipeline_open", start, pipeline)
        snapshot("speed_to_lead_median_hours", start, median)
    metrics = ["mqls", "acceptance_rate", "pipeline_open", "speed_to_lead_median_hours"]
    table = kpi_table(metrics=metrics, period="month", start=MONTHS[0], end=MONTHS[-1])
    assert METRICS["pipeline_open"].aggregation is Aggregation.STOCK
    assert table.over("mqls").value == 12
    rate = table.over("acceptance_rate")
    assert (rate.numerator, rate.denominator, rate.value) == (6, 8, Decimal("0.75"))
    assert table.over("pipeline_open").value == 80  # the level at the end, not 430
    assert table.over("speed_to_lead_median_hours").value is None  # medians do not add up
    assert table.over("speed_to_lead_median_hours", MONTHS[1:2]).value == 7


def test_a_month_without_snapshots_reads_the_catalogs_empty_value() -> None:
    metrics = ["mqls", "acceptance_rate", "pipeline_open", "speed_to_lead_median_hours"]
    table = kpi_table(metrics=metrics, period="month", start=MONTHS[0], end=MONTHS[0])
    empty = {m: table.get(m, MONTHS[0]) for m in metrics}
    assert empty["mqls"].value == 0 and empty["pipeline_open"].value == 0
    assert (empty["acceptance_rate"].denominator, empty["acceptance_rate"].value) == (0, None)
    assert empty["speed_to_lead_median_hours"].value is None


def test_members_refuse_metrics_that_do_not_add_up() -> None:
    for metric in ["pipeline_open", "speed_to_lead_median_hours"]:
        with pytest.raises(ValueError, match="add up"):
            kpi_members(
                metrics=[metric], period="month", start=MONTHS[0], end=MONTHS[-1], dimension="owner"
            )


def test_the_definitions_page_says_how_each_metric_adds_up_and_whose_it_is(
    client: Client, make_user: object
) -> None:
    client.force_login(make_user("reader", None))
    html = client.get("/definitions/").content.decode()
    row = html[html.index('id="pipeline_open"') :]
    row = row[: row.index("</tr>")]
    assert Aggregation.STOCK.label in row and "Sales" in row
    mqls = html[html.index('id="mqls"') :]
    assert "Marketing" in mqls[: mqls.index("</tr>")]

"""Benchmark the metric engine against hand-written SQL on the same database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tandem_big .venv/bin/python bench/recompute.py [--full]

Prints, for one month of data: the hand-written single-query baseline (MQLs and the cohort
counts of that month, one GROUP BY), the engine's whole-catalog compute of that month (every
metric, every dimension and model) and the ratio; an incremental recompute after one new
stage event; and with --full the full recompute of every unit (week, month, quarter × month),
with peak memory.
"""

# isort: skip_file
from __future__ import annotations

import argparse
from zoneinfo import ZoneInfo

from _setup import peak_rss_mb, report, timed  # sets Django up: keep it first

from django.conf import settings
from django.db import connection
from django.db.models import Max
from django.utils import timezone

from kpis.engine import compute
from core.periods import period_bounds, period_start, previous_period
from kpis.services import (
    kpis_recompute,
    kpis_recompute_dirty,
    kpis_recompute_unit,
    recompute_units,
)
from leads.models import Handoff
from leads.services import stage_events_upsert

BASELINE_SQL = {
    "postgresql": """
        SELECT date_trunc('month', handed_at AT TIME ZONE %(tz)s) AS p, count(*),
               count(*) FILTER (WHERE status = 'pending'),
               count(*) FILTER (WHERE status = 'accepted'),
               count(*) FILTER (WHERE status = 'rejected')
        FROM leads_handoff
        WHERE handed_at >= %(start)s AND handed_at < %(end)s
        GROUP BY 1
    """,
    "sqlite": """
        SELECT strftime('%%Y-%%m', handed_at), count(*),
               sum(status = 'pending'), sum(status = 'accepted'), sum(status = 'rejected')
        FROM leads_handoff
        WHERE handed_at >= %(start)s AND handed_at < %(end)s
        GROUP BY 1
    """,
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true", help="also time a full recompute")
    args = parser.parse_args()

    last = Handoff.objects.aggregate(m=Max("handed_at"))["m"]
    if last is None:
        raise SystemExit("No handoffs: run `manage.py seed_demo` first.")
    # The last complete month of handoffs.
    month = previous_period("month", period_start("month", timezone.localtime(last).date()))
    start, end = period_bounds("month", month, ZoneInfo(settings.TIME_ZONE))
    print(f"database: {connection.vendor}, {Handoff.objects.count():,} handoffs; month {month}")

    def baseline() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                BASELINE_SQL[connection.vendor],
                {"tz": settings.TIME_ZONE, "start": start, "end": end},
            )
            cursor.fetchall()

    base = timed(baseline, repeat=3)
    report("baseline: one GROUP BY over a month of handoffs", base)
    values = compute(kind="month", periods=[month])
    engine = timed(lambda: compute(kind="month", periods=[month]), repeat=2)
    report("engine: every metric of that month", engine, base, f"{len(values):,} values")
    swap = timed(lambda: kpis_recompute(kind="month", periods=[month]), repeat=1)
    report("recompute: compute + swap snapshots", swap, base)

    lead = (
        Handoff.objects.filter(handed_at__gte=start, handed_at__lt=end)
        .values_list("lead__external_id", flat=True)
        .first()
    )

    def incremental() -> None:
        stage_events_upsert(
            rows=[
                {
                    "external_id": "bench-incremental",
                    "lead": lead,
                    "stage": "sql",
                    "occurred_at": start,
                }
            ]
        )
        kpis_recompute_dirty()

    report("incremental: one stage event, then its dirty periods", timed(incremental), base)
    if args.full:
        units = recompute_units()

        def full() -> None:
            for kind, unit_month in units:
                kpis_recompute_unit(kind=kind, month=unit_month)

        seconds = timed(full)
        report(
            f"full recompute: {len(units)} units", seconds, base, f"peak RSS {peak_rss_mb():.0f} MB"
        )


if __name__ == "__main__":
    main()

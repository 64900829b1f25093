"""In-process measurements of the benchmark suite, one per invocation, each in a fresh process.

    .venv/bin/python bench/inproc.py floor                 # hand-written GROUP BYs (baseline)
    .venv/bin/python bench/inproc.py full                  # full recompute, peak RSS
    .venv/bin/python bench/inproc.py incremental           # one new stage event, two leads
    .venv/bin/python bench/inproc.py ingest-floor ROWS.json  # psycopg insert of ingest rows

`bench/run.py` starts these with the bench's environment (DATABASE_URL, REDIS_URL, ...) and
reads the one JSON object each prints on its last line of stdout. A fresh process per
measurement keeps peak RSS the recompute's own.
"""

# isort: skip_file
from __future__ import annotations

import json
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from _setup import peak_rss_mb  # sets Django up: keep it first

from django.conf import settings
from django.db import connection
from django.db.models import Count, Min
from django.utils import timezone

from core.periods import KINDS
from kpis.services import kpis_recompute_dirty, recompute_job_run, recompute_job_start
from leads.changes import funnel_change_committed
from leads.models import FunnelChange, Lead, Stage, StageEvent
from leads.services import stage_events_upsert

# The floor: per source table, one GROUP BY over all of its rows by period and the table's own
# low-cardinality columns (no joins), the least any engine must do to read the data once.
FLOOR_TABLES: dict[str, tuple[str, str, str]] = {
    # table: (time column, grouping columns, aggregates)
    "leads_lead": ("created_at", "campaign_id, owner_id, segment, stage", "count(*)"),
    "leads_handoff": (
        "handed_at",
        "owner_id, status, reason_id",
        "count(*), count(decided_at), avg(speed_to_lead_hours)",
    ),
    "leads_stageevent": ("occurred_at", "stage", "count(*), count(DISTINCT lead_id)"),
    "leads_contactattempt": ("occurred_at", "channel, outcome", "count(*)"),
    "leads_deal": ("created_at", "status", "count(*), sum(amount), count(closed_at)"),
    "leads_touch": ("occurred_at", "campaign_id", "count(*), count(DISTINCT lead_id)"),
}


MAX_RUNS = 20  # recompute runs until the change log is empty (each run may log what time moved)


def emit(result: dict[str, Any]) -> None:
    print(json.dumps(result, default=str), flush=True)


def floor(repeat: int = 2) -> dict[str, Any]:
    """Best of `repeat` runs of the 18 queries (6 tables × week, month, quarter)."""
    if connection.vendor != "postgresql":
        raise SystemExit("The floor queries are written for PostgreSQL.")
    queries = [
        f"SELECT date_trunc('{kind}', {column} AT TIME ZONE %(tz)s) AS p, {groups}, {aggs} "
        f"FROM {table} GROUP BY p, {groups}"
        for table, (column, groups, aggs) in FLOOR_TABLES.items()
        for kind in KINDS
    ]
    best, rows = float("inf"), 0
    for _ in range(repeat):
        start, rows = time.perf_counter(), 0
        with connection.cursor() as cursor:
            for sql in queries:
                cursor.execute(sql, {"tz": settings.TIME_ZONE})
                rows += len(cursor.fetchall())
        best = min(best, time.perf_counter() - start)
    return {"recompute_floor_seconds": best, "floor_queries": len(queries), "floor_rows": rows}


def full() -> dict[str, Any]:
    """A full recompute in this process, as `manage.py recompute_kpis` runs it embedded."""
    start = time.perf_counter()
    job = recompute_job_start(fan_out=False)
    recompute_job_run(job=job)
    seconds = time.perf_counter() - start
    if job.status != job.Status.DONE:
        raise SystemExit(f"full recompute {job.status}: {job.error}")
    return {
        "recompute_full_seconds": seconds,
        "recompute_peak_rss_mb": peak_rss_mb(),
        "recompute_units": job.total_units,
    }


def _short_lead() -> Lead:
    """A lead of the last two weeks still at `inquiry`, with no deal: one new MQL."""
    recent = timezone.now() - timedelta(days=14)
    lead = (
        Lead.objects.filter(created_at__gte=recent, stage=Stage.INQUIRY, deals__isnull=True)
        .order_by("-created_at")
        .first()
    )
    if lead is None:
        raise SystemExit("No recent inquiry-stage lead to send an MQL for.")
    return lead


def _long_lead() -> Lead:
    """The oldest lead created a year or more ago that came back (recycled or lost): its new
    MQL touches every period of its history."""
    year_ago = timezone.now() - timedelta(days=365)
    lead = (
        Lead.objects.filter(created_at__lte=year_ago, stage__in=[Stage.RECYCLED, Stage.LOST])
        .annotate(events=Count("stage_events"))
        .filter(events__gte=3)
        .order_by("created_at")
        .first()
    )
    if lead is None:
        raise SystemExit("No lead with a year of history: seed with --months 13 or more.")
    return lead


def _recompute_after_event(lead: Lead, tag: str) -> dict[str, Any]:
    now = timezone.now()
    stage_events_upsert(
        rows=[
            {
                "external_id": f"bench-incremental-{tag}-{now.timestamp():.0f}",
                "lead": lead.external_id,
                "stage": Stage.MQL,
                "occurred_at": now,
            }
        ]
    )
    dirty = dict(
        FunnelChange.objects.values_list("period").annotate(n=Count("id")).order_by("period")
    )
    start, runs = time.perf_counter(), 0
    while FunnelChange.objects.exists():
        if runs == MAX_RUNS:
            raise SystemExit(f"the change log still has entries after {MAX_RUNS} runs")
        kpis_recompute_dirty()
        runs += 1
    seconds = time.perf_counter() - start
    first = StageEvent.objects.filter(lead=lead).aggregate(m=Min("occurred_at"))["m"]
    history_days = (now - min(filter(None, [first, lead.created_at]))).days
    return {"seconds": seconds, "runs": runs, "logged": dirty, "history_days": history_days}


def incremental() -> dict[str, Any]:
    """One new stage event through the ingest service, then the dirty periods recomputed here.

    The receiver that would queue a Celery recompute after commit is disconnected: this process
    does the recompute and times it, and no worker races it.
    """
    funnel_change_committed.disconnect(dispatch_uid="kpis-recompute-changed-periods")
    kpis_recompute_dirty()  # brings the sweep of passed SLA deadlines up to now, as beat would
    for _ in range(MAX_RUNS):  # leftovers are not part of the measurement
        if not FunnelChange.objects.exists():
            break
        kpis_recompute_dirty()
    short = _recompute_after_event(_short_lead(), "short")
    long = _recompute_after_event(_long_lead(), "long")
    return {
        "recompute_incremental_seconds": short["seconds"],
        "recompute_incremental_long_seconds": long["seconds"],
        "incremental_short": short,
        "incremental_long": long,
    }


def ingest_floor(path: str, repeat: int = 2) -> dict[str, Any]:
    """The ingest rows inserted with psycopg in one transaction (then deleted again), best of
    `repeat`: one run of 20,000 rows lasts under a second, short enough to catch a hiccup."""
    import psycopg

    rows = json.loads(Path(path).read_text())
    with connection.cursor() as cursor:
        cursor.execute("SELECT external_id, id FROM leads_campaign")
        campaigns = dict(cursor.fetchall())
    now = timezone.now()
    values = [
        (
            "bench-floor-" + r["external_id"],
            r["email"],
            r["name"],
            r["company"],
            r["created_at"],
            campaigns.get(r.get("campaign")),
            r["segment"],
            json.dumps(r["attributes"]),
            Stage.INQUIRY.value,
            now,
        )
        for r in rows
    ]
    sql = (
        "INSERT INTO leads_lead (external_id, email, name, company, created_at, campaign_id, "
        "segment, attributes, stage, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    )
    db = settings.DATABASES["default"]
    with psycopg.connect(
        dbname=db["NAME"], user=db["USER"], host=db["HOST"], port=db["PORT"] or 5432
    ) as conn:
        seconds = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            with conn.transaction(), conn.cursor() as cursor:
                cursor.executemany(sql, values)
            seconds = min(seconds, time.perf_counter() - start)
            conn.execute("DELETE FROM leads_lead WHERE external_id LIKE 'bench-floor-%'")
            conn.commit()
    return {"ingest_floor_seconds": seconds, "ingest_floor_records_per_s": len(rows) / seconds}


def main() -> None:
    what = sys.argv[1]
    if what == "floor":
        emit(floor())
    elif what == "full":
        emit(full())
    elif what == "incremental":
        emit(incremental())
    elif what == "ingest-floor":
        emit(ingest_floor(sys.argv[2]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()

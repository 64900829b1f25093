"""`manage.py recompute_kpis`: a `since` out of bounds and a retry, and the command killed with
SIGKILL in the middle of a unit's snapshot swap: the dashboard and the KPI API go on answering
with the previous snapshots, whole; the job is seen dead, and a retry finishes it with the values
of a clean recompute, no row twice (PostgreSQL: a real process on the test database, really
killed)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.utils import timezone

from kpis.models import KpiSnapshot, RecomputeJob
from kpis.services import (
    recompute_job_retry,
    recompute_job_run,
    recompute_job_start,
    recompute_job_status,
    recompute_jobs_dead_mark,
)
from leads.models import Lead
from tests.celery_worker import _database_url_for
from tests.conftest import World, token_client

ROOT = Path(__file__).resolve().parents[2]
SINCE = date(2026, 11, 1)  # six units: the days of October to December, then a unit per kind

#: The command, in a process whose second snapshot swap (the months of 2026, after the weeks)
#: writes half its rows in its transaction, says so and waits to be killed.
CHILD = """
import sys, time

import django

django.setup()
from django.core.management import call_command

from kpis import services
from kpis.models import KpiSnapshot

real, swaps = services.rows_sync, []


def rows_sync(model, **kwargs):
    if model is KpiSnapshot:
        swaps.append(1)
        if len(swaps) == 2:
            rows = kwargs["rows"]
            real(model, **{**kwargs, "rows": rows[: len(rows) // 2]})
            print("mid-swap", flush=True)
            time.sleep(120)
    return real(model, **kwargs)


services.rows_sync = rows_sync
call_command("recompute_kpis", "--since", sys.argv[1], "--no-progress")
"""


def snapshots(**where: object) -> list[tuple]:
    return sorted(
        KpiSnapshot.objects.filter(**where).values_list(
            "metric", "period", "period_start", "dimension", "key", "model",
            "value", "numerator", "denominator",
        )
    )  # fmt: skip


def _run(job: RecomputeJob) -> None:
    recompute_job_run(job=job)
    assert job.status == "done"


@pytest.mark.django_db
def test_the_command_refuses_a_since_out_of_bounds_and_retries_a_dead_job(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.lead("2026-11-03T09:00:00+00:00")
    with pytest.raises(CommandError, match="Must be in the years 1970 to 2100"):
        call_command("recompute_kpis", "--since", "0001-01-01", "--no-progress")
    job = recompute_job_start(since=SINCE, fan_out=False)  # its process died before any unit
    with pytest.raises(CommandError, match="is running: wait for it to finish"):
        call_command("recompute_kpis", "--retry", str(job.pk), "--no-progress")
    RecomputeJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    call_command("recompute_kpis", "--retry", str(job.pk), "--no-progress")
    assert f"Recomputed 6 units (2026-11-01 to {timezone.localdate()}" in capsys.readouterr().out
    job.refresh_from_db()
    assert (job.status, job.done_units) == ("done", 6)
    with pytest.raises(CommandError, match="No recompute job nonsense"):
        call_command("recompute_kpis", "--retry", "nonsense", "--no-progress")


def _killed_mid_swap() -> None:
    env = {
        **os.environ,
        "DATABASE_URL": _database_url_for(connection.settings_dict),
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
    }
    process = subprocess.Popen(
        [sys.executable, "-c", CHILD, SINCE.isoformat()],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    said: list[str] = []
    reader = threading.Thread(target=lambda: said.append(process.stdout.readline()))
    reader.start()
    try:
        reader.join(120)
        if said != ["mid-swap\n"]:
            process.kill()
            pytest.fail(f"the recompute never got mid-swap: {process.communicate()[1][-2000:]}")
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert process.returncode == -signal.SIGKILL


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("restore_base_data", "tasks_inline")
def test_a_recompute_killed_mid_swap_keeps_the_previous_snapshots_and_a_retry_finishes_it(
    world: World, sales_rep: object
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("a second process on the test database needs PostgreSQL")
    for day in (3, 4, 5):
        world.lead(f"2026-11-{day:02d}T09:00:00+00:00", external_id=f"L-{day}")
    _run(recompute_job_start(since=SINCE, fan_out=False))
    before = snapshots()
    # The CRM moves a lead to December behind the engine's back: a full recompute changes the
    # numbers of both months and their weeks.
    Lead.objects.filter(external_id="L-3").update(created_at=datetime(2026, 12, 1, 9, tzinfo=UTC))

    _killed_mid_swap()

    job = RecomputeJob.objects.latest("created_at")
    assert (job.status, job.done_units, job.total_units) == ("running", 4, 6)
    assert list(job.units.filter(status="pending").values_list("kind", flat=True)) == [
        "month", "quarter",
    ]  # fmt: skip
    # The months are as they were, every row of them: the half-written swap rolled back.
    assert snapshots(period="month") == [row for row in before if row[1] == "month"]
    assert snapshots(period="quarter") == [row for row in before if row[1] == "quarter"]
    duplicates = KpiSnapshot.objects.values(
        "metric", "period", "period_start", "dimension", "key", "model"
    ).annotate(n=Count("pk"))
    assert not duplicates.filter(n__gt=1).exists()
    client = Client()
    client.force_login(sales_rep)
    assert client.get("/?period=month").status_code == 200
    api = token_client(sales_rep)
    query = {"metric": "leads_created", "period": "month", "start": "2026-11-01",
             "end": "2026-12-31"}  # fmt: skip
    response = api.get("/api/v1/kpis/", query)
    assert response.status_code == 200
    totals = [r["value"] for r in response.json() if r["dimension"] is None]
    assert totals == [3, 0]  # the previous complete snapshots

    later = timezone.now() + timedelta(minutes=6)
    assert recompute_job_status(job, later) == "dead"
    assert recompute_jobs_dead_mark(now=later) == 1
    retried = recompute_job_retry(job=job, now=later)  # the units left, on the (eager) tasks
    retried.refresh_from_db()
    assert (retried.status, retried.done_units, retried.failed_units) == ("done", 6, 0)
    totals = [r["value"] for r in api.get("/api/v1/kpis/", query).json() if r["dimension"] is None]
    assert totals == [2, 1]
    after = snapshots()
    KpiSnapshot.objects.all().delete()
    _run(recompute_job_start(since=SINCE, fan_out=False))
    assert snapshots() == after  # the values of a clean recompute

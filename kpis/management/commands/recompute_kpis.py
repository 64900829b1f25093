from __future__ import annotations

import time
from datetime import date

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from kpis.models import KpiSnapshot, RecomputeJob
from kpis.services import recompute_job_run, recompute_job_start


class Command(BaseCommand):
    help = (
        "Recompute every KPI snapshot (one Celery task per period kind and month; in-process "
        "without REDIS_URL), showing progress."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", type=date.fromisoformat, help="first day, YYYY-MM-DD")
        parser.add_argument("--no-progress", action="store_true", help="print no progress bar")
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when snapshots exist already"
        )

    def handle(
        self,
        *args: object,
        since: date | None,
        no_progress: bool,
        if_empty: bool,
        **options: object,
    ) -> None:
        if if_empty and KpiSnapshot.objects.exists():
            return
        started = time.monotonic()
        inline = settings.CELERY_TASK_ALWAYS_EAGER
        job = recompute_job_start(since=since, fan_out=not inline)
        bar = tqdm(total=job.total_units, unit="unit", disable=no_progress, file=self.stderr._out)
        if inline:
            recompute_job_run(job=job, on_unit=lambda: bar.update(1))
        while job.status not in {RecomputeJob.Status.DONE, RecomputeJob.Status.FAILED}:
            time.sleep(0.5)
            job.refresh_from_db()
            bar.n = job.done_units + job.failed_units
            bar.refresh()
        bar.close()
        elapsed = time.monotonic() - started
        if job.status == RecomputeJob.Status.FAILED:
            raise CommandError(f"{job.failed_units} of {job.total_units} units failed: {job.error}")
        self.stdout.write(
            f"Recomputed {job.total_units} units ({job.since} to {job.until}) in {elapsed:.1f} s; job {job.pk}."
        )

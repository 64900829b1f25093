from __future__ import annotations

import time
import uuid
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from kpis.models import KpiSnapshot, RecomputeJob
from kpis.services import (
    recompute_job_retry,
    recompute_job_run,
    recompute_job_start,
    recompute_job_status,
)

ENDED = {RecomputeJob.Status.DONE, RecomputeJob.Status.FAILED, RecomputeJob.Status.DEAD}


class Command(BaseCommand):
    help = (
        "Recompute every KPI snapshot (one Celery task per unit; in this process without "
        "REDIS_URL), showing progress; or retry a job that failed or died (--retry)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", type=date.fromisoformat, help="first day, YYYY-MM-DD")
        parser.add_argument(
            "--retry", metavar="JOB_ID", help="run the units a failed or dead job had not done"
        )
        parser.add_argument("--no-progress", action="store_true", help="print no progress bar")
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when snapshots exist already"
        )

    def handle(
        self,
        *args: object,
        since: date | None,
        retry: str | None,
        no_progress: bool,
        if_empty: bool,
        **options: object,
    ) -> None:
        if if_empty and KpiSnapshot.objects.exists():
            return
        started = time.monotonic()
        inline = settings.CELERY_TASK_ALWAYS_EAGER
        try:
            if retry:
                job = RecomputeJob.objects.filter(pk=retry).first() if _is_uuid(retry) else None
                if job is None:
                    raise CommandError(f"No recompute job {retry}.")
                job = recompute_job_retry(job=job, queue=not inline)
            else:
                job = recompute_job_start(since=since, fan_out=not inline)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        bar = tqdm(total=job.total_units, unit="unit", disable=no_progress, file=self.stderr._out)
        bar.n = job.done_units
        if inline:
            recompute_job_run(job=job, on_unit=lambda: bar.update(1))
        while recompute_job_status(job) not in ENDED:
            time.sleep(0.5)
            job.refresh_from_db()
            bar.n = job.done_units + job.failed_units
            bar.refresh()
        bar.close()
        elapsed = time.monotonic() - started
        status = recompute_job_status(job)
        if status == RecomputeJob.Status.DEAD:
            raise CommandError(
                f"Job {job.pk} died after {job.done_units} of {job.total_units} units: "
                f"retry it with --retry {job.pk}."
            )
        if status == RecomputeJob.Status.FAILED:
            raise CommandError(
                f"{job.failed_units} of {job.total_units} units failed: {job.error} "
                f"(retry with --retry {job.pk})"
            )
        self.stdout.write(
            f"Recomputed {job.total_units} units ({job.since} to {job.until}) in {elapsed:.1f} s; job {job.pk}."
        )


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True

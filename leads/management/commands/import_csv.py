"""Import a CSV file from the command line, as the import page does.

    manage.py import_csv KIND FILE [--preset NAME] [--mapping FILE.json] [--date-order dmy|mdy]
                         [--dry-run] [--valid-rows] [--rejected FILE.csv] [--chunk-rows N]

KIND is campaigns, leads, touches, stage_events, attempts or deals. Without `--preset` the file
is read by the built-in preset its header is an export of (HubSpot, Salesforce), else by the
columns named like the kind's ingest fields; `--mapping` gives {field: column} as JSON.

Every row is checked first: if any is invalid, nothing is imported, the rejected rows are
printed (row, column, why) and the command exits with 1. `--valid-rows` imports the valid rows
anyway (and exits with 0); `--dry-run` only checks. `--rejected` writes the rejected rows, with
an `error` column, to fix and import again.
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from leads.imports.reading import DELIMITER_NAMES, ENCODING_NAMES, cell_problem
from leads.imports.selectors import (
    import_job_preset,
    import_rejected_rows_csv,
    import_rejections,
)
from leads.imports.services import (
    import_job_configure,
    import_job_create,
    import_job_run,
    import_job_start,
)
from leads.models import DateOrder, ImportJob, ImportKind

SHOWN = 100  # rejected rows printed; the rest are counted (and written with --rejected)


class Command(BaseCommand):
    help = "Import a CSV file of campaigns, leads, touches, stage events, attempts or deals."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("kind", help=", ".join(ImportKind.values))
        parser.add_argument("file", type=Path)
        parser.add_argument("--preset", default="", help="A built-in preset or a saved one.")
        parser.add_argument("--mapping", type=Path, help="A JSON file of {field: column}.")
        parser.add_argument("--date-order", choices=DateOrder.values, default="")
        parser.add_argument("--dry-run", action="store_true", help="Only check the rows.")
        parser.add_argument(
            "--valid-rows", action="store_true", help="Import the valid rows, reject the others."
        )
        parser.add_argument("--rejected", type=Path, help="Write the rejected rows here.")
        parser.add_argument("--chunk-rows", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        kind = options["kind"].replace("-", "_")
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No file {path}.")
        try:
            job = self._prepare(kind, path, options)
            if options["dry_run"] or not options["valid_rows"]:
                job = self._run(job, "check", options)
                if job.rejected:
                    self._rejected(job, options)
                    raise CommandError(
                        f"{job.rejected:,} of {job.total:,} rows invalid: nothing was "
                        "imported. Fix them, or import the valid rows with --valid-rows."
                    )
                if options["dry_run"]:
                    self.stdout.write(f"All {job.valid:,} rows are valid (nothing written).")
                    return
            job = self._run(job, "import", options)
        except ValidationError as exc:
            raise CommandError("\n".join(exc.messages)) from exc
        if job.rejected:
            self._rejected(job, options)
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {job.valid:,} rows ({job.created:,} created, {job.updated:,} "
                f"updated), rejected {job.rejected:,}."
            )
        )

    def _prepare(self, kind: str, path: Path, options: dict[str, Any]) -> ImportJob:
        with path.open("rb") as handle:
            job = import_job_create(
                kind=kind,
                upload=File(handle, name=path.name),
                filename=path.name,
                by=None,
                preset=options["preset"],
            )
        preset = import_job_preset(job=job)
        self.stdout.write(
            f"{path.name}: {ENCODING_NAMES.get(job.encoding, job.encoding)}, "
            f"{DELIMITER_NAMES.get(job.delimiter, job.delimiter)}-separated, {job.total:,} rows; "
            f"preset: {preset.label if preset else job.preset}"
            + (f"; dates {DateOrder(job.date_order).label.lower()}" if job.date_order else "")
        )
        mapping = job.mapping
        if options["mapping"]:
            try:
                mapping = json.loads(options["mapping"].read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise CommandError(f"Cannot read the mapping {options['mapping']}: {exc}") from exc
            if not isinstance(mapping, dict):
                raise CommandError("The mapping must be a JSON object of {field: column}.")
        if options["mapping"] or options["date_order"] or job.dates_ambiguous:
            job = import_job_configure(job=job, mapping=mapping, date_order=options["date_order"])
        return job

    def _run(self, job: ImportJob, mode: str, options: dict[str, Any]) -> ImportJob:
        job = import_job_start(job=job, mode=mode, queue=False)
        verb = "Checked" if mode == "check" else "Imported"

        def progress(job: ImportJob) -> None:
            self.stdout.write(f"  {verb} {job.done:,} of {job.total:,} rows ({job.progress:.0%})")

        job = import_job_run(
            job_id=str(job.pk), chunk_rows=options["chunk_rows"], progress=progress
        )
        if job.status == ImportJob.Status.FAILED:
            raise CommandError(f"The import failed: {job.error}")
        return job

    def _rejected(self, job: ImportJob, options: dict[str, Any]) -> None:
        self.stderr.write(f"{job.rejected:,} {'row' if job.rejected == 1 else 'rows'} rejected:")
        for rejection in import_rejections(job=job)[:SHOWN]:
            for error in rejection.errors:
                self.stderr.write(
                    "  " + cell_problem(rejection.row, error["column"], error["message"])
                )
        if job.rejected > SHOWN:
            self.stderr.write(f"  … and {job.rejected - SHOWN:,} more rows.")
        if options["rejected"]:
            with options["rejected"].open("w", encoding="utf-8", newline="") as out:
                out.writelines(import_rejected_rows_csv(job=job))
            self.stderr.write(f"The rejected rows are in {options['rejected']}.")

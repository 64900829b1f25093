"""Helpers of the CSV import's tests: the sample files, and a file taken through upload,
mapping and a run (the users the samples name as owners: the `owners` fixture of
tests/leads/conftest.py)."""

from __future__ import annotations

from pathlib import Path

from django.core.files import File

from leads.imports.services import (
    import_job_configure,
    import_job_create,
    import_job_run,
    import_job_start,
)
from leads.models import ImportJob

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "imports"


def fixture_path(name: str) -> Path:
    return FIXTURES / name


def upload(
    path: Path | str,
    *,
    kind: str = "leads",
    preset: str = "",
    by: object | None = None,
) -> ImportJob:
    """Upload a file (a sample's name, or a path) as the pages do."""
    path = Path(path) if Path(path).is_absolute() else fixture_path(str(path))
    with path.open("rb") as handle:
        return import_job_create(
            kind=kind, upload=File(handle, name=path.name), filename=path.name, by=by,
            preset=preset,
        )  # fmt: skip


def run(job: ImportJob, *, mode: str = "import", chunk_rows: int | None = None) -> ImportJob:
    """Start a run and run it here (what the task does)."""
    job = import_job_start(job=job, mode=mode, queue=False)
    return import_job_run(job_id=str(job.pk), chunk_rows=chunk_rows)


def imported(
    path: Path | str,
    *,
    kind: str = "leads",
    preset: str = "",
    mode: str = "import",
    chunk_rows: int | None = None,
    **configure: object,
) -> ImportJob:
    job = upload(path, kind=kind, preset=preset)
    if configure:
        job = import_job_configure(job=job, **configure)
    return run(job, mode=mode, chunk_rows=chunk_rows)

"""Writes of CSV imports: a file uploaded and read, its mapping, its runs (a check writes
nothing, an import writes the valid rows and keeps the rejected ones), resuming a run that died,
saved presets.

A run is a job of chunks (`import_job_run`, the Celery task's body): each chunk's records, its
rejected rows and the job's progress and resume point (`cursor`) commit in one transaction, so a
run that dies loses at most the chunk it was in, and running it again finishes it without
duplicates (the ingest services are idempotent on `external_id` too). Without a broker the run
goes in a thread of the process that started it (the page shows its progress); the test
settings run it in the caller."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import connections, transaction
from django.utils import timezone

from alignment.services.audit import audit_record
from alignment.services.versions import actor
from config.queue import enqueue
from leads.imports.chunks import ChunkOutcome, chunk_import
from leads.imports.presets import (
    BUILT_IN,
    mapping_clean,
    mapping_guess,
    mapping_problems,
    preset_guess,
)
from leads.imports.reading import FileError, FileRow, file_rows, file_shape
from leads.imports.rows import Context, Preset
from leads.imports.selectors import (
    ImportLookups,
    import_job_opener,
    import_job_preset,
    import_owner_index,
    import_preset_resolve,
)
from leads.models import DateOrder, ImportJob, ImportKind, ImportPreset, ImportRejection

log = logging.getLogger(__name__)

#: A running job whose last chunk committed longer ago than this has died.
STALE_AFTER = timedelta(minutes=5)
ACTIVE = {ImportJob.Status.QUEUED, ImportJob.Status.RUNNING}
THREAD_NAME = "import-run"


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:,.1f} MB"


# --- a file in --------------------------------------------------------------------------------


@transaction.atomic
def import_job_create(
    *,
    kind: str,
    upload: File,
    filename: str,
    by: AbstractBaseUser | None,
    preset: str = "",
) -> ImportJob:
    """Keep an uploaded file and read it: its encoding, delimiter, header, rows and date order;
    map it by `preset` (a built-in key or a saved name), else by the built-in preset its header
    is an export of, else by the columns named like the kind's ingest fields. ValidationError,
    with nothing kept, for a file too big or not a CSV table, or one that lacks the preset's
    required columns (named)."""
    if kind not in ImportKind.values:
        raise ValidationError(
            f"There is no import of “{kind}”; use one of {', '.join(ImportKind.values)}."
        )
    size = upload.size or 0
    if size > settings.IMPORT_MAX_BYTES:
        raise ValidationError(
            f"The file is {_mb(size)}; an import takes at most {_mb(settings.IMPORT_MAX_BYTES)}."
        )
    if size == 0:
        raise ValidationError("The file is empty: the first row must name the columns.")
    resolved = import_preset_resolve(name=preset, kind=kind)
    if resolved is None:
        raise ValidationError(
            f"There is no preset “{preset}” for {ImportKind(kind).label.lower()}."
        )
    job = ImportJob(kind=kind, filename=filename[:255], size=size, requested_by=actor(by))
    job.file.save(f"{job.pk}.csv", upload, save=False)
    try:
        shape = file_shape(import_job_opener(job))
        chosen, saved = resolved
        if not preset:
            guessed = preset_guess(kind, shape.columns)
            chosen = guessed or chosen
        mapping = dict(saved.mapping) if saved else mapping_guess(chosen, shape.columns)
        problems = mapping_problems(chosen, mapping, shape.columns) if preset else []
        if problems:
            raise ValidationError(problems)
    except (FileError, ValidationError) as exc:
        job.file.delete(save=False)
        raise ValidationError(
            exc.messages if isinstance(exc, ValidationError) else str(exc)
        ) from exc
    job.preset = saved.name if saved else chosen.key
    job.encoding, job.delimiter, job.columns = shape.encoding, shape.delimiter, shape.columns
    job.total = shape.rows
    job.mapping = mapping
    job.dates_ambiguous = shape.dates_ambiguous
    job.date_order = shape.date_order or (saved.date_order if saved else "")
    job.save()
    return job


def _audit(
    job: ImportJob,
    action: str,
    *,
    by: AbstractBaseUser | None,
    changes: dict[str, list] | None = None,
    details: dict[str, object] | None = None,
    note: str = "",
) -> None:
    """The audit entry of a run: the job by kind and file, its mode and preset."""
    audit_record(
        actor=by,
        action=action,
        target=job,
        label=f"{job.get_kind_display()} from {job.filename}",
        changes=changes,
        details={"kind": job.kind, "mode": job.mode, "preset": job.preset, **(details or {})},
        note=note,
    )


def _counts(job: ImportJob) -> dict[str, int]:
    return {
        "rows": job.done,
        "valid": job.valid,
        "rejected": job.rejected,
        "created": job.created,
        "updated": job.updated,
    }


def _job_refuse_if_active(job: ImportJob) -> None:
    if job.status in ACTIVE and not import_job_is_stale(job):
        raise ValidationError("This import is running: wait for it to finish.")


@transaction.atomic
def import_job_configure(
    *,
    job: ImportJob,
    mapping: Mapping[str, str],
    date_order: str = "",
    save_as: str = "",
    by: AbstractBaseUser | None = None,
    preset: str | None = None,
) -> ImportJob:
    """Set the job's mapping ({field: column}; empty entries are fields left unmapped) and,
    for a file whose dates read both ways, its date order; `preset` (a built-in key, a saved
    name, "" for the manual mapping) switches the preset first, and an empty mapping then
    takes the preset's. `save_as` keeps the mapping as a saved preset of that name.
    ValidationError naming what is wrong (fields, columns, required fields unmapped)."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    _job_refuse_if_active(job)
    name = job.preset if preset is None else preset
    resolved = import_preset_resolve(name=name, kind=job.kind)
    if resolved is None:
        raise ValidationError(f"There is no preset “{name}” for {job.get_kind_display().lower()}.")
    chosen, saved = resolved
    mapping = mapping_clean(mapping)
    if not mapping and preset is not None:
        mapping = dict(saved.mapping) if saved else mapping_guess(chosen, job.columns)
    problems = mapping_problems(chosen, mapping, job.columns)
    if date_order and date_order not in DateOrder.values:
        problems.append("Choose whether the dates are day first (dmy) or month first (mdy).")
    order = date_order or job.date_order or (saved.date_order if saved else "")
    if job.dates_ambiguous and not order:
        problems.append(
            "The file's dates read either way (3/4/2018 is 3 April or March 4): "
            "say whether the day or the month comes first."
        )
    if problems:
        raise ValidationError(problems)
    job.preset = name
    if save_as:
        saved = import_preset_save(
            name=save_as,
            kind=job.kind,
            mapping=mapping,
            date_order=order if job.dates_ambiguous or date_order else "",
            base=chosen.key if chosen.builtin else "",
            by=by,
        )
        job.preset = saved.name
    job.mapping, job.date_order = mapping, order
    job.status = ImportJob.Status.UPLOADED
    job.save(update_fields=["preset", "mapping", "date_order", "status"])
    return job


@transaction.atomic
def import_preset_save(
    *,
    name: str,
    kind: str,
    mapping: Mapping[str, str],
    date_order: str = "",
    base: str = "",
    by: AbstractBaseUser | None = None,
) -> ImportPreset:
    """Save a mapping under a name (a saved preset of that name and kind is replaced): a
    mapping of the kind's ingest fields, or of a built-in preset's (`base`) with its columns
    renamed."""
    name = " ".join(name.split())
    if not name:
        raise ValidationError("Give the preset a name.")
    if len(name) > ImportPreset._meta.get_field("name").max_length:
        raise ValidationError("Give the preset a name of at most 80 characters.")
    if name in BUILT_IN:
        raise ValidationError(f"“{name}” is a built-in preset: choose another name.")
    if kind not in ImportKind.values:
        raise ValidationError(f"There is no import of “{kind}”.")
    resolved = import_preset_resolve(name=base, kind=kind) if base in BUILT_IN or not base else None
    if resolved is None:
        raise ValidationError(f"There is no built-in preset “{base}” for {kind}.")
    mapping = mapping_clean(mapping)
    problems = mapping_problems(resolved[0], mapping, list(mapping.values()))
    if problems:
        raise ValidationError(problems)
    existing = ImportPreset.objects.select_for_update().filter(name=name).first()
    if existing is not None and existing.kind != kind:
        raise ValidationError(
            f"The preset “{name}” is for {existing.get_kind_display().lower()}: choose another name."
        )
    preset, _ = ImportPreset.objects.update_or_create(
        name=name,
        defaults={
            "kind": kind,
            "mapping": mapping,
            "date_order": date_order,
            "base": base,
            "created_by": actor(by),
        },
    )
    return preset


# --- runs ---------------------------------------------------------------------------------------


@transaction.atomic
def import_job_start(
    *, job: ImportJob, mode: str, by: AbstractBaseUser | None = None, queue: bool = True
) -> ImportJob:
    """Start a run of the whole file: "check" (every row validated, nothing kept) or "import"
    (the valid rows written, the rejected ones kept). The counts, the resume point and the
    rejected rows of an earlier run are cleared. The run is queued after commit (`queue=False`:
    the caller runs `import_job_run` itself). A job already running is refused, unless it died."""
    if mode not in ImportJob.Mode.values:
        raise ValidationError("Run an import as a check or as an import.")
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    _job_refuse_if_active(job)
    preset = import_job_preset(job=job)
    if preset is None:
        raise ValidationError(f"The saved preset “{job.preset}” is gone: choose another.")
    problems = mapping_problems(preset, job.mapping, job.columns)
    if job.dates_ambiguous and not job.date_order:
        problems.append("Say whether the file's dates are day first or month first.")
    if problems:
        raise ValidationError(problems)
    ImportRejection.objects.filter(job=job).delete()
    now = timezone.now()
    job.mode = mode
    job.status = ImportJob.Status.QUEUED
    job.done = job.cursor = job.valid = job.rejected = job.created = job.updated = 0
    job.error = ""
    job.started_at = job.heartbeat_at = now
    job.finished_at = None
    if by is not None and actor(by) is not None:
        job.requested_by = by
    job.save()
    _audit(job, "import.started", by=by, details={"rows": job.total})
    if queue:
        _dispatch_on_commit(job)
    return job


def import_job_is_stale(job: ImportJob, now: datetime | None = None) -> bool:
    """Queued or running, and silent (no chunk committed) for longer than STALE_AFTER: the
    process running it died."""
    if job.status not in ACTIVE:
        return False
    last = job.heartbeat_at or job.started_at or job.created_at
    return last is not None and last < (now or timezone.now()) - STALE_AFTER


@transaction.atomic
def import_job_resume(
    *, job: ImportJob, by: AbstractBaseUser | None = None, now: datetime | None = None
) -> ImportJob:
    """Run a job that failed or died again from where it stopped: the committed chunks stay,
    with their counts and rejected rows."""
    now = now or timezone.now()
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status in ACTIVE and not import_job_is_stale(job, now):
        raise ValidationError("This import is running: wait for it to finish.")
    if job.status not in (*ACTIVE, ImportJob.Status.FAILED):
        raise ValidationError("Only an import that failed or stopped can be resumed.")
    job.status = ImportJob.Status.QUEUED
    job.error = ""
    job.heartbeat_at = now
    job.finished_at = None
    job.save(update_fields=["status", "error", "heartbeat_at", "finished_at"])
    _audit(job, "import.resumed", by=by, details={"from_row": job.cursor})
    _dispatch_on_commit(job)
    return job


@transaction.atomic
def import_job_fail(*, job_id: object, error: str) -> ImportJob:
    """Mark a job failed with the reason (one that finished stays as it is; audited, the
    system as who); it can resume."""
    failed = ImportJob.objects.filter(pk=job_id, status__in=ACTIVE).update(
        status=ImportJob.Status.FAILED, error=error[:2000], finished_at=timezone.now()
    )
    job = ImportJob.objects.get(pk=job_id)
    if failed:
        _audit(job, "import.failed", by=None, details=_counts(job), note=job.error)
    return job


def _dispatch_on_commit(job: ImportJob) -> None:
    job_id = str(job.pk)
    transaction.on_commit(lambda: import_job_dispatch(job_id=job_id))


def import_job_dispatch(*, job_id: str) -> None:
    """Hand a queued job to what runs it: a Celery worker; without a broker, a thread of this
    process (the page polls its progress); with KPI_RECOMPUTE_IN_BACKGROUND off (the tests),
    the caller, inline."""
    from leads.tasks import import_run_task

    if settings.CELERY_TASK_ALWAYS_EAGER and settings.KPI_RECOMPUTE_IN_BACKGROUND:
        # Not a daemon: a management command's process waits for its import.
        threading.Thread(target=_run_in_thread, args=(job_id,), name=THREAD_NAME).start()
    else:
        enqueue(import_run_task, job_id)


def _run_in_thread(job_id: str) -> None:
    try:
        import_job_run(job_id=job_id)
    except Exception as exc:
        log.exception("The import %s failed.", job_id)
        import_job_fail(job_id=job_id, error=str(exc) or type(exc).__name__)
    finally:
        connections.close_all()


class _CheckOnly(Exception):
    """Rolls a check's chunk back, carrying what it found."""

    def __init__(self, outcome: ChunkOutcome) -> None:
        super().__init__("check")
        self.outcome = outcome


def import_job_run(
    *,
    job_id: str,
    chunk_rows: int | None = None,
    progress: Callable[[ImportJob], None] | None = None,
) -> ImportJob:
    """Run (or resume) a queued job from its cursor, a committed chunk of rows at a time;
    `progress` is called with the job after each chunk. A job not queued or running is
    returned as it is; another worker that committed a chunk first stops this one."""
    job = ImportJob.objects.get(pk=job_id)
    if job.status not in ACTIVE:
        return job
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        if job.status not in ACTIVE:
            return job
        job.status = ImportJob.Status.RUNNING
        job.heartbeat_at = timezone.now()
        job.save(update_fields=["status", "heartbeat_at"])
    preset = import_job_preset(job=job)
    if preset is None:
        return import_job_fail(job_id=job.pk, error=f"The saved preset “{job.preset}” is gone.")
    context = Context(
        zone=ZoneInfo(settings.TIME_ZONE),
        date_order=job.date_order,
        owners=import_owner_index(),
        lookups=ImportLookups(),
        sender=job.requested_by,  # a rejection it holds decides a handoff only as sales would
    )
    rows = file_rows(
        import_job_opener(job), encoding=job.encoding, delimiter=job.delimiter, skip=job.cursor
    )
    size = chunk_rows or settings.IMPORT_CHUNK_ROWS
    while chunk := list(islice(rows, size)):
        job, committed = _chunk_commit(job, preset, chunk, context)
        if not committed:
            return job  # failed meanwhile, or another worker ran this chunk
        if progress is not None:
            progress(job)
    return _finish(job)


def _chunk_commit(
    job: ImportJob, preset: Preset, chunk: list[FileRow], context: Context
) -> tuple[ImportJob, bool]:
    """Write a chunk with its rejected rows and the job's progress in one transaction; False
    (and nothing written) when the job is no longer this worker's to run from its cursor."""
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.status != ImportJob.Status.RUNNING or locked.cursor != job.cursor:
            return locked, False
        arguments = {
            "preset": preset,
            "rows": chunk,
            "columns": job.columns,
            "mapping": job.mapping,
            "context": context,
            "kind": job.kind,
        }
        if job.mode == ImportJob.Mode.CHECK:
            try:
                with transaction.atomic():
                    raise _CheckOnly(chunk_import(**arguments))
            except _CheckOnly as check:
                outcome = check.outcome
        else:
            outcome = chunk_import(**arguments)
        ImportRejection.objects.bulk_create(
            [
                ImportRejection(
                    job=locked,
                    row=number,
                    values=row.cells,
                    errors=list(
                        {tuple(p.as_dict().items()): p.as_dict() for p in problems}.values()
                    ),
                )
                for number, (row, problems) in sorted(outcome.rejected.items())
            ],
            batch_size=500,
        )
        locked.cursor = chunk[-1].index + 1
        locked.done += outcome.rows
        locked.valid += outcome.valid
        locked.rejected += len(outcome.rejected)
        locked.created += outcome.created
        locked.updated += outcome.updated
        locked.heartbeat_at = timezone.now()
        locked.save(
            update_fields=[
                "cursor", "done", "valid", "rejected", "created", "updated", "heartbeat_at",
            ]
        )  # fmt: skip
    return locked, True


def _said_once(problems: Iterable[dict[str, str]]) -> list[dict[str, str]]:
    """A row's problems, each once: a lead and its first touch read the same cell."""
    return list({(p["column"], p["message"]): p for p in problems}.values())


def _finish(job: ImportJob) -> ImportJob:
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.status != ImportJob.Status.RUNNING:
            return locked
        checked = locked.mode == ImportJob.Mode.CHECK
        locked.status = ImportJob.Status.CHECKED if checked else ImportJob.Status.DONE
        locked.finished_at = locked.heartbeat_at = timezone.now()
        locked.total = locked.done
        locked.save(update_fields=["status", "finished_at", "heartbeat_at", "total"])
        # The run is the system's work; who asked for it is in `requested_by` and the entry
        # of its start.
        _audit(
            locked,
            "import.finished",
            by=None,
            changes={"status": [ImportJob.Status.RUNNING, locked.status]},
            details=_counts(locked),
        )
    return locked

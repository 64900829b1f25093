"""Reads of CSV imports: jobs, their rejected rows (and the file of them to fix and import
again), the presets a kind offers, the preset and fields a job maps, and the lookups a chunk
makes (users, leads, campaigns), each one query for the whole chunk."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.db.models.functions import Lower

from config.csv_export import csv_safe_cell
from leads.imports.presets import BUILT_IN, preset_manual, presets_builtin
from leads.imports.reading import Opener, file_preview
from leads.imports.rows import ImportField, Lookups, Preset
from leads.models import Campaign, ImportJob, ImportKind, ImportPreset, ImportRejection, Lead

LOOKUP_BATCH = 5000
ERROR_COLUMN = "error"


# --- jobs ---------------------------------------------------------------------------------------


def import_job_get(*, pk: object) -> ImportJob | None:
    try:
        key = uuid.UUID(str(pk))
    except ValueError:
        return None
    return ImportJob.objects.select_related("requested_by").filter(pk=key).first()


def import_jobs_recent(*, kind: str | None = None, limit: int = 20) -> QuerySet[ImportJob]:
    jobs = ImportJob.objects.select_related("requested_by").order_by("-created_at")
    if kind:
        jobs = jobs.filter(kind=kind)
    return jobs[:limit]


def import_rejections(*, job: ImportJob) -> QuerySet[ImportRejection]:
    return ImportRejection.objects.filter(job=job).order_by("row")


def import_job_opener(job: ImportJob) -> Opener:
    """Opens the job's stored file afresh (any storage)."""
    return lambda: job.file.storage.open(job.file.name, "rb")


def import_job_preview(*, job: ImportJob, rows: int = 5) -> list[list[str]]:
    """The file's first data rows, for the mapping page."""
    return file_preview(
        import_job_opener(job), encoding=job.encoding, delimiter=job.delimiter, rows=rows
    )


def rejection_error_text(errors: Iterable[dict[str, str]]) -> str:
    """A rejected row's problems in one cell: "Column: message; Column: message"."""
    return "; ".join(
        f"{e['column']}: {e['message']}" if e.get("column") else e["message"] for e in errors
    )


def import_rejected_rows_csv(*, job: ImportJob) -> Iterator[str]:
    """The rejected rows as a CSV file, a line at a time: the file's header and an `error`
    column, then each row's cells as they were read and its problems. Fixed and uploaded again,
    it imports (the `error` column is no field; one already there is reused). The first line
    starts with a BOM, so that spreadsheets read it as UTF-8; the delimiter is the file's."""
    columns = list(job.columns)
    width = len(columns)
    error_at = columns.index(ERROR_COLUMN) if ERROR_COLUMN in columns else None
    if error_at is None:
        columns.append(ERROR_COLUMN)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=job.delimiter or ",", lineterminator="\r\n")

    def line(cells: list[str]) -> str:
        writer.writerow(cells)
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield "\ufeff" + line([csv_safe_cell(c) for c in columns])
    for rejection in import_rejections(job=job).iterator(chunk_size=2000):
        # Neutralised as every download is (a lead named "=HYPERLINK(...)" stays text); the
        # reader takes the quote off again (`leads.imports.reading.file_rows`).
        values = [csv_safe_cell(str(v)) for v in rejection.values]
        cells = values[:width] + [""] * (width - len(values[:width]))
        error = rejection_error_text(rejection.errors)
        if error_at is None:
            yield line([*cells, csv_safe_cell(error), *values[width:]])
        else:
            cells[error_at] = csv_safe_cell(error)
            yield line(cells + values[width:])


# --- presets ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PresetChoice:
    key: str  # a built-in preset's key or a saved preset's name
    label: str
    builtin: bool


def import_presets_available(*, kind: str) -> list[PresetChoice]:
    """The built-in presets of a kind, then the saved ones, by name."""
    return [choice for of, choice in import_presets_all().values() if of == kind]


def import_presets_all() -> dict[str, tuple[str, PresetChoice]]:
    """Every preset by its key, with the kind of rows it reads: the built-in ones of each kind,
    then the saved ones by name (one query)."""
    presets = {
        p.key: (kind, PresetChoice(p.key, p.label, True))
        for kind in ImportKind.values
        for p in presets_builtin(kind)
    }
    for name, kind in ImportPreset.objects.order_by("name").values_list("name", "kind"):
        presets[name] = (kind, PresetChoice(name, name, False))
    return presets


def import_preset_get(*, name: str, kind: str | None = None) -> ImportPreset | None:
    presets = ImportPreset.objects.filter(name=name)
    if kind:
        presets = presets.filter(kind=kind)
    return presets.first()


def import_preset_resolve(*, name: str, kind: str) -> tuple[Preset, ImportPreset | None] | None:
    """The preset a name gives for `kind` ("" is the manual mapping): a built-in one, or a
    saved one (read as its base: a built-in preset, or the manual mapping), with its record;
    None when there is none of that name for the kind."""
    if not name:
        return preset_manual(kind), None
    builtin = BUILT_IN.get(name)
    if builtin is not None:
        return (builtin, None) if builtin.kind == kind else None
    saved = import_preset_get(name=name, kind=kind)
    if saved is None:
        return None
    base = BUILT_IN.get(saved.base)
    preset = base if base is not None else preset_manual(kind, key=saved.name, label=saved.name)
    return preset, saved


def import_job_preset(*, job: ImportJob) -> Preset | None:
    """The preset the job's rows are read by (None: its saved preset is gone)."""
    resolved = import_preset_resolve(name=job.preset, kind=job.kind)
    return resolved[0] if resolved else None


def import_job_fields(*, job: ImportJob) -> list[ImportField]:
    """The fields the job's mapping may give a column (required ones first)."""
    preset = import_job_preset(job=job) or preset_manual(job.kind)
    return sorted(preset.fields, key=lambda f: not f.required)


# --- the lookups of a chunk ---------------------------------------------------------------------


def import_owner_index() -> dict[str, str | None]:
    """Every user by lower-cased username, e-mail and full name ("first last" and "last, first")
    → username; None where several users share an e-mail or a name. A username is never taken
    for someone else's name. One query for the whole run (users are few)."""
    users = list(
        get_user_model().objects.values_list("username", "email", "first_name", "last_name")
    )

    def key(text: str) -> str:
        return " ".join(text.lower().split())

    index: dict[str, str | None] = {key(u): u for u, _, _, _ in users}
    taken = set(index)
    others: dict[str, str | None] = {}
    for username, email, first, last in users:
        names = [email, f"{first} {last}"]
        if first and last:
            names.append(f"{last}, {first}")
        for name in {key(n) for n in names if key(n).strip(", ")} - taken:
            others[name] = username if others.get(name, username) == username else None
    return {**others, **index}


def _batched(values: Iterable[str]) -> Iterator[list[str]]:
    values = sorted(set(values))
    for start in range(0, len(values), LOOKUP_BATCH):
        yield values[start : start + LOOKUP_BATCH]


class ImportLookups(Lookups):
    """The database reads of a chunk, one query each."""

    def leads_existing(self, external_ids: Iterable[str]) -> set[str]:
        return {
            external_id
            for batch in _batched(external_ids)
            for external_id in Lead.objects.filter(external_id__in=batch).values_list(
                "external_id", flat=True
            )
        }

    def leads_by_email(self, emails: Iterable[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for batch in _batched(e.lower() for e in emails):
            rows = (
                Lead.objects.annotate(lower_email=Lower("email"))
                .filter(lower_email__in=batch)
                .order_by("external_id")
                .values_list("lower_email", "external_id")
            )
            for email, external_id in rows:
                found.setdefault(email, []).append(external_id)
        return found

    def campaigns_existing(self, external_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        fields = ("external_id", "name", "channel_id", "starts_on", "ends_on", "cost")
        found = {}
        for batch in _batched(external_ids):
            for values in Campaign.objects.filter(external_id__in=batch).values_list(*fields):
                row = dict(zip(fields, values, strict=True))
                row["channel"] = row.pop("channel_id")
                found[row["external_id"]] = row
        return found

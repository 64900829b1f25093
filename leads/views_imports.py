"""The pages of CSV imports (managers and admins): upload a file, see how it was read, map its
columns (a preset maps itself), check it, import its valid rows, follow the progress, and
download the rejected rows to fix and import again. `leads.imports` does the work; every
action is a form POST that redirects to the import's page; bad input answers 400 with the
form and its message."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from alignment.roles import user_is_manager
from config.csv_export import CONTENT_TYPE, csv_filename
from leads.forms_imports import ImportMappingForm, ImportUploadForm
from leads.imports.selectors import (
    import_job_fields,
    import_job_get,
    import_job_preset,
    import_job_preview,
    import_jobs_recent,
    import_presets_all,
    import_rejected_rows_csv,
    import_rejections,
)
from leads.imports.services import (
    import_job_configure,
    import_job_create,
    import_job_is_stale,
    import_job_resume,
    import_job_start,
)
from leads.models import ImportJob, ImportKind

REJECTIONS_SHOWN = 50
ONLY_MANAGERS = "Only managers and admins import data."


def _manager(request: HttpRequest) -> None:
    if not user_is_manager(request.user):
        raise PermissionDenied(ONLY_MANAGERS)


def _job(request: HttpRequest, pk: UUID) -> ImportJob:
    _manager(request)
    job = import_job_get(pk=pk)
    if job is None:
        raise Http404("No such import.")
    return job


@require_http_methods(["GET", "POST"])
def import_list(request: HttpRequest) -> HttpResponse:
    """The recent imports, and the upload of a new file: a preset says what its rows are."""
    _manager(request)
    presets = import_presets_all()
    choices = [
        (key, f"{p.label} ({ImportKind(kind).label.lower()})") for key, (kind, p) in presets.items()
    ]
    form = ImportUploadForm(request.POST or None, request.FILES or None, presets=choices)
    if request.method == "POST" and form.is_valid():
        preset = form.cleaned_data["preset"]
        try:
            job = import_job_create(
                kind=presets[preset][0]
                if preset
                else form.cleaned_data["kind"] or ImportKind.LEADS,
                upload=form.cleaned_data["file"],
                filename=form.cleaned_data["file"].name,
                by=request.user,
                preset=preset,
            )
        except ValidationError as exc:
            form.add_error("file", exc)
        else:
            return redirect("import-detail", pk=job.pk)
    status = 400 if form.errors else 200
    context = {"form": form, "jobs": import_jobs_recent(limit=25)}
    return render(request, "leads/imports/list.html", context, status=status)


def _mapping_form(job: ImportJob, data: dict | None = None) -> ImportMappingForm:
    preset = import_job_preset(job=job)
    return ImportMappingForm(
        data,
        fields=import_job_fields(job=job),
        columns=job.columns,
        mapping=job.mapping,
        builtin=bool(preset and preset.builtin),
        date_order=job.date_order,
        dates_ambiguous=job.dates_ambiguous,
    )


def _detail_context(job: ImportJob, form: ImportMappingForm) -> dict:
    rejections = import_rejections(job=job)
    preset = import_job_preset(job=job)
    return {
        "job": job,
        "form": form,
        "preset": preset,
        "preview": [(n, cells) for n, cells in enumerate(import_job_preview(job=job, rows=5), 2)],
        "rejections": rejections[:REJECTIONS_SHOWN],
        "rejections_more": max(job.rejected - REJECTIONS_SHOWN, 0),
        "stale": import_job_is_stale(job=job),
        "running": job.status in {ImportJob.Status.QUEUED, ImportJob.Status.RUNNING},
    }


@require_GET
def import_detail(request: HttpRequest, pk: UUID) -> HttpResponse:
    """How the file was read and mapped; while a run goes on, its progress (htmx polls the
    status part); after it, the counts and the rejected rows."""
    job = _job(request, pk)
    context = _detail_context(job, _mapping_form(job))
    if request.htmx:
        return render(request, "leads/imports/partials/status.html", context)
    return render(request, "leads/imports/detail.html", context)


@require_POST
def import_check(request: HttpRequest, pk: UUID) -> HttpResponse:
    """Take the mapping (and date order) and check every row: nothing is written."""
    job = _job(request, pk)
    form = _mapping_form(job, request.POST)
    if form.is_valid():
        try:
            job = import_job_configure(
                job=job,
                mapping=form.mapping(),
                date_order=form.cleaned_data["date_order"],
                save_as=form.cleaned_data.get("save_as", ""),
                by=request.user,
            )
            import_job_start(job=job, mode=ImportJob.Mode.CHECK, by=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect("import-detail", pk=job.pk)
    job.refresh_from_db()
    return render(request, "leads/imports/detail.html", _detail_context(job, form), status=400)


def _started(request: HttpRequest, job: ImportJob, start: Callable[[], object]) -> HttpResponse:
    """Start a run; back to the import's page, or that page with the refusal and a 400."""
    try:
        start()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        context = _detail_context(job, _mapping_form(job))
        return render(request, "leads/imports/detail.html", context, status=400)
    return redirect("import-detail", pk=job.pk)


@require_POST
def import_run(request: HttpRequest, pk: UUID) -> HttpResponse:
    """Import the valid rows of a checked file (the explicit choice); the rejected ones are
    kept for download."""
    job = _job(request, pk)
    return _started(
        request,
        job,
        lambda: import_job_start(job=job, mode=ImportJob.Mode.IMPORT, by=request.user),
    )


@require_POST
def import_resume_view(request: HttpRequest, pk: UUID) -> HttpResponse:
    """Go on with a run that failed or whose worker died, from its last committed chunk."""
    job = _job(request, pk)
    return _started(request, job, lambda: import_job_resume(job=job, by=request.user))


@require_GET
def import_rejected_csv(request: HttpRequest, pk: UUID) -> StreamingHttpResponse:
    """The rejected rows as the file had them, with an `error` column: fix, import again."""
    job = _job(request, pk)
    response = StreamingHttpResponse(import_rejected_rows_csv(job=job), content_type=CONTENT_TYPE)
    stem = job.filename.rsplit(".", 1)[0]
    response["Content-Disposition"] = csv_filename(stem, "rejected-rows").content_disposition
    return response

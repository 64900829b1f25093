"""The lead-definition what-if pages: start a run (POST), follow its progress and read its
result (`leads.what_if` says what is counted). Everyone signed in reads a run; the heads, the
managers and the admin start one."""

from __future__ import annotations

from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from alignment.models import LeadDefinition
from leads.models import WhatIfRun
from leads.what_if import (
    WHAT_IF_DAYS,
    what_if_is_stale,
    what_if_name,
    what_if_report,
    what_if_start,
)


@require_POST
def what_if_start_view(request: HttpRequest, definition_pk: int) -> HttpResponse:
    definition = get_object_or_404(LeadDefinition, pk=definition_pk)
    run = what_if_start(definition=definition, by=request.user)  # a rep: PermissionDenied, 403
    return redirect("what-if-detail", pk=run.pk)


@require_GET
def what_if_detail(request: HttpRequest, pk: UUID) -> HttpResponse:
    """The run's progress while it runs (htmx polls the status part), then its result."""
    run = get_object_or_404(
        WhatIfRun.objects.select_related("definition", "baseline", "requested_by"), pk=pk
    )
    finished = run.status in {WhatIfRun.Status.DONE, WhatIfRun.Status.FAILED}
    context = {
        "run": run,
        "report": what_if_report(run=run),
        "draft_name": what_if_name(run.definition),
        "days": WHAT_IF_DAYS,
        "stale": finished and what_if_is_stale(run=run),
    }
    if request.htmx:
        return render(request, "leads/partials/what_if_status.html", context)
    return render(request, "leads/what_if.html", context)

"""The audit log page (/audit/): every audited change, newest first, for managers and admins.

Filters by action (or kind of action), actor, kind of record (and one record: a row's record
links to its history) and a date range, paged without counting (the log grows with every
ingest, and a COUNT over it would cost more than the page), and `?format=csv` with the same
filters: every entry rather than a page. Reps get a 403; bad filters a 400 that says why.
Nothing here writes: the log is append-only.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from alignment.exports import audit_table
from alignment.forms_audit import AuditFilterForm
from alignment.roles import user_is_manager
from alignment.selectors_audit import (
    audit_action_label,
    audit_change_rows,
    audit_detail_rows,
    audit_entries,
    audit_target_name,
)
from config.csv_export import csv_filename, csv_requested, csv_response

PER_PAGE = 50
#: The deepest page the pager offers (an OFFSET past it is slow; narrow the filters instead).
MAX_PAGE = 2000
ONLY_MANAGERS = "Only managers and admins read the audit log."


def _page_number(raw: str | None) -> int | None:
    try:
        number = int(raw or 1)
    except ValueError:
        return None
    return number if 1 <= number <= MAX_PAGE else None


@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    if not user_is_manager(request.user):
        raise PermissionDenied(ONLY_MANAGERS)
    form = AuditFilterForm(request.GET or None)
    filters = form.filters() if request.GET else AuditFilterForm.EMPTY
    entries = audit_entries(**filters)
    if csv_requested(request):
        if form.is_bound and form.errors:
            return HttpResponseBadRequest(form.errors.as_text(), content_type="text/plain")
        name = csv_filename("tandem", "audit", filters["action"], filters["actor"],
                            filters["since"], filters["until"], timezone.localdate())  # fmt: skip
        return csv_response(*audit_table(entries.iterator(chunk_size=500)), name)
    number = _page_number(request.GET.get("page"))
    bad_page = number is None
    number = number or 1
    start = (number - 1) * PER_PAGE
    rows = list(entries[start : start + PER_PAGE + 1])
    query = request.GET.copy()
    query.pop("page", None)
    context: dict[str, Any] = {
        "form": form,
        "filtered": any(v not in (None, "") for v in filters.values()),
        "entries": [_row(e) for e in rows[:PER_PAGE]],
        "number": number,
        "has_previous": number > 1,
        "has_next": len(rows) > PER_PAGE and number < MAX_PAGE,
        "query": query.urlencode(),
        "bad_page": bad_page,
    }
    status = 400 if (request.GET and form.errors) or bad_page else 200
    return render(request, "alignment/audit.html", context, status=status)


def _row(entry: Any) -> dict[str, Any]:
    return {
        "entry": entry,
        "action": audit_action_label(entry.action),
        "target_name": audit_target_name(entry.target_type),
        "changes": audit_change_rows(entry),
        "details": audit_detail_rows(entry),
    }

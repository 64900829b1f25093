"""The shadowing pages: sessions this month and ahead, then past ones; scheduling, the log of
what was learned, and the debrief turned into a meeting.

Everyone signed in reads them. A rep schedules themselves, managers anyone; the people of a
session (and managers) reschedule, log, cancel and debrief it as the services allow (a
refusal is a 403 that says why).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from alignment.exports import shadowing_table
from alignment.forms_shadowing import DebriefForm, LogForm, ShadowingForm, default_times
from alignment.models import ShadowingSession
from alignment.roles import user_is_manager
from alignment.selectors import (
    shadowing_all_before,
    shadowing_before,
    shadowing_between,
    shadowing_sessions,
    users_by_team,
)
from alignment.services.meetings import meeting_users
from alignment.services.shadowing import (
    shadowing_can_cancel,
    shadowing_can_debrief,
    shadowing_can_delete,
    shadowing_can_log,
    shadowing_can_update,
    shadowing_cancel,
    shadowing_debrief,
    shadowing_delete,
    shadowing_log,
    shadowing_schedule,
    shadowing_update,
)
from config.csv_export import csv_filename, csv_requested, csv_response
from core.periods import local_midnight, period_start

BAD_REQUEST = 400
PAST_SHOWN = 100


def _session(pk: int) -> ShadowingSession:
    found = shadowing_sessions().filter(pk=pk).first()
    if found is None:
        raise Http404("No shadowing session has this number.")
    return found


def month_start() -> datetime:
    """The start of this month, local time: the list's line between now and the past."""
    tz = ZoneInfo(settings.TIME_ZONE)
    return local_midnight(period_start("month", timezone.localdate()), tz)


@require_GET
def shadowing_list(request: HttpRequest) -> HttpResponse:
    start = month_start()
    if csv_requested(request):
        month = timezone.localdate()
        sections = [
            (f"{month:%B %Y} and ahead", shadowing_between(start=start).iterator()),
            (f"Before {month:%B}", shadowing_all_before(end=start).iterator()),
        ]
        return csv_response(*shadowing_table(sections), csv_filename("tandem", "shadowing", month))
    context = {
        "current": list(shadowing_between(start=start)),
        "past": shadowing_before(end=start, limit=PAST_SHOWN),
        "past_limit": PAST_SHOWN,
        "month": timezone.localdate(),
    }
    return render(request, "alignment/shadowing/list.html", context)


# --- scheduling -----------------------------------------------------------------------------


def _schedule_form(
    request: HttpRequest, session: ShadowingSession | None = None, **kwargs: object
) -> ShadowingForm:
    """The form. A rep is offered only themselves as the person (or the session's person,
    kept); what is posted goes to the service, whose refusal of anyone else is a 403."""
    # a session's own people stay choosable after they left: it is rescheduled with them
    people = users_by_team(include=[session.person_id, session.host_id] if session else [])
    if request.method == "POST":
        return ShadowingForm(request.POST, people=people, **kwargs)
    only = None
    if not user_is_manager(request.user):
        only = [session.person, request.user] if session else [request.user]
    return ShadowingForm(people=people, only=only, **kwargs)


def _form_page(
    request: HttpRequest, form: ShadowingForm, session: ShadowingSession | None, status: int = 200
) -> HttpResponse:
    context = {"form": form, "session": session}
    return render(request, "alignment/shadowing/form.html", context, status=status)


def _people(form: ShadowingForm) -> dict[str, object]:
    """The person and the host the form names (a name no one has: ValidationError)."""
    data = form.cleaned_data
    names = [n for n in (data["person"], data["host"]) if n]
    found = {u.get_username(): u for u in meeting_users(usernames=names, field="host")}
    return {"person": found.get(data["person"]), "host": found.get(data["host"])}


def _times(form: ShadowingForm) -> dict[str, object]:
    data = form.cleaned_data
    return {"starts_at": data["starts_at"], "ends_at": data["ends_at"], "focus": data["focus"]}


@require_http_methods(["GET", "POST"])
def shadowing_new(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        start, end = default_times(timezone.now())
        initial = {"person": request.user.get_username(), "starts_at": start, "ends_at": end}
        return _form_page(request, _schedule_form(request, initial=initial), None)
    form = _schedule_form(request)
    if form.is_valid():
        try:
            session = shadowing_schedule(by=request.user, **_people(form), **_times(form))
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, "Shadowing session scheduled.")
            return redirect("shadowing-detail", pk=session.pk)
    return _form_page(request, form, None, status=BAD_REQUEST)


@require_http_methods(["GET", "POST"])
def shadowing_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Reschedule: the person, the host, whoever scheduled it, or a manager."""
    session = _session(pk)
    if not shadowing_can_update(session=session, user=request.user):
        raise PermissionDenied(
            "Only the person, the host, whoever scheduled it or a manager reschedules a session."
        )
    if session.status != ShadowingSession.Status.SCHEDULED:
        raise PermissionDenied(
            f"This session is {session.get_status_display().lower()}: it can't be rescheduled."
        )
    if request.method == "GET":
        form = _schedule_form(request, session, initial=ShadowingForm.initial_of(session))
        return _form_page(request, form, session)
    form = _schedule_form(request, session)
    if form.is_valid():
        try:
            shadowing_update(session=session, by=request.user, **_people(form), **_times(form))
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, "Session rescheduled.")
            return redirect("shadowing-detail", pk=session.pk)
    return _form_page(request, form, session, status=BAD_REQUEST)


# --- one session: log, cancel, debrief, delete ----------------------------------------------


def _detail_page(
    request: HttpRequest,
    session: ShadowingSession,
    *,
    log_form: LogForm | None = None,
    debrief_form: DebriefForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    user, now = request.user, timezone.now()
    scheduled = session.status == ShadowingSession.Status.SCHEDULED
    context = {
        "s": session,
        "started": session.starts_at <= now,
        "can_edit": scheduled and shadowing_can_update(session=session, user=user),
        "can_cancel": scheduled and shadowing_can_cancel(session=session, user=user),
        "can_log": session.status != ShadowingSession.Status.CANCELLED
        and shadowing_can_log(session=session, user=user),
        "can_debrief": session.status == ShadowingSession.Status.DONE
        and session.debrief_id is None
        and shadowing_can_debrief(session=session, user=user),
        "can_delete": shadowing_can_delete(session=session, user=user),
        "log_form": log_form or LogForm(initial={"learned": session.learned}),
        "debrief_form": debrief_form or DebriefForm(),
        "error": error,
    }
    return render(request, "alignment/shadowing/detail.html", context, status=status)


@require_GET
def shadowing_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, _session(pk))


@require_POST
def shadowing_log_view(request: HttpRequest, pk: int) -> HttpResponse:
    session = _session(pk)
    if not shadowing_can_log(session=session, user=request.user):
        raise PermissionDenied("Only the person who shadowed (or a manager) logs what was learned.")
    form = LogForm(request.POST)
    if form.is_valid():
        try:
            shadowing_log(session=session, by=request.user, learned=form.cleaned_data["learned"])
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, "What you learned is logged: the session is done.")
            return redirect("shadowing-detail", pk=session.pk)
    return _detail_page(request, session, log_form=form, status=BAD_REQUEST)


@require_POST
def shadowing_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    session = _session(pk)
    try:
        shadowing_cancel(session=session, by=request.user)  # PermissionDenied: a 403
    except ValidationError as error:
        return _detail_page(request, session, error=" ".join(error.messages), status=BAD_REQUEST)
    messages.success(request, "Session cancelled.")
    return redirect("shadowing-detail", pk=session.pk)


@require_POST
def shadowing_debrief_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Turn the debrief into a meeting (or go to the one it already is)."""
    session = _session(pk)
    if not shadowing_can_debrief(session=session, user=request.user):
        raise PermissionDenied(
            "Only the person, the host or a manager turns a session's debrief into a meeting."
        )
    form = DebriefForm(request.POST)
    if form.is_valid():
        try:
            meeting = shadowing_debrief(
                session=session, by=request.user, starts_at=form.cleaned_data["starts_at"]
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"“{meeting}” is on the calendar of both of you.")
            return redirect("meeting-detail", pk=meeting.pk)
    return _detail_page(request, session, debrief_form=form, status=BAD_REQUEST)


@require_POST
def shadowing_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    session = _session(pk)
    shadowing_delete(session=session, by=request.user)  # PermissionDenied: a 403
    messages.success(request, "Shadowing session deleted.")
    return redirect("shadowing-list")

"""The meetings pages (mounted at /meetings/): the list, a meeting with its agenda, notes,
decisions and action items, the forms to plan and change one, and ticking items off.

Anyone signed in plans a meeting; its attendees and the managers change it and its action
items; its creator and the managers delete it; an item's owner ticks it off too
(`alignment.services.meetings`: the API asks the same functions). A refusal is a 403 that
changes nothing; bad input is a 400 with the form and its messages.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from alignment.exports import action_items_table, meeting_title, meetings_table
from alignment.forms import TEAM_LABELS
from alignment.forms_meetings import ActionItemForm, MeetingForm, person_name
from alignment.models import ActionItem, Meeting
from alignment.selectors import meeting_action_items, meeting_list
from alignment.services.meetings import (
    action_item_add,
    action_item_can_tick,
    action_item_delete,
    action_item_done,
    action_item_update,
    action_items_can_tick,
    meeting_can_delete,
    meeting_can_edit,
    meeting_create,
    meeting_delete,
    meeting_update,
)
from config.csv_export import csv_filename, csv_requested, csv_response

BAD_REQUEST = 400
PER_PAGE = 30


def _may_edit(request: HttpRequest, meeting: Meeting) -> None:
    if not meeting_can_edit(meeting=meeting, user=request.user):
        raise PermissionDenied("Only the meeting's attendees and the managers change it.")


# --- the list --------------------------------------------------------------------------------


@require_GET
def meeting_list_view(request: HttpRequest) -> HttpResponse:
    """Meetings, the latest first, filtered by kind (`?kind=`)."""
    kind = request.GET.get("kind", "")
    if kind and kind not in Meeting.Kind.values:
        return HttpResponseBadRequest(
            f"Choose a kind of meeting: {', '.join(Meeting.Kind.values)}.",
            content_type="text/plain",
        )
    meetings = meeting_list(kind=kind or None)
    if csv_requested(request):
        name = csv_filename("tandem", "meetings", kind, timezone.localdate())
        return csv_response(*meetings_table(meetings), name)
    page = Paginator(meetings, PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "kind": kind,
        "kinds": Meeting.Kind.choices,
        "now": timezone.now(),
    }
    return render(request, "alignment/meetings/list.html", context)


# --- one meeting -----------------------------------------------------------------------------


def _detail_page(
    request: HttpRequest,
    meeting: Meeting,
    item_form: ActionItemForm | None = None,
    status: int = 200,
) -> HttpResponse:
    meeting = get_object_or_404(meeting_list(), pk=meeting.pk)
    groups: dict[str, list] = {team: [] for team in TEAM_LABELS}
    for a in meeting.attendance.all():
        groups[a.team].append(a.user)
    can_edit = meeting_can_edit(meeting=meeting, user=request.user)
    today = timezone.localdate()
    items = list(meeting_action_items(meeting=meeting))
    context = {
        "meeting": meeting,
        "attendee_groups": [(t, TEAM_LABELS[t], people) for t, people in groups.items() if people],
        "items": items,
        "open_count": sum(1 for i in items if i.done_at is None),
        "today": today,
        "can_edit": can_edit,
        "can_delete": meeting_can_delete(meeting=meeting, user=request.user),
        "can_tick": action_items_can_tick(meeting=meeting, items=items, user=request.user),
        "item_form": item_form or (ActionItemForm(initial=ActionItemForm.initial_new(today=today))
                                   if can_edit else None),
    }  # fmt: skip
    return render(request, "alignment/meetings/detail.html", context, status=status)


@require_GET
def meeting_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A meeting's page; `?format=csv`: its action items."""
    meeting = get_object_or_404(Meeting, pk=pk)
    if csv_requested(request):
        today = timezone.localdate()
        items = meeting_action_items(meeting=meeting)
        day = timezone.localdate(meeting.starts_at)
        name = csv_filename("tandem", "action-items", meeting_title(meeting), day)
        return csv_response(*action_items_table(items, today=today), name)
    return _detail_page(request, meeting)


def _form_page(
    request: HttpRequest, form: MeetingForm, meeting: Meeting | None, status: int = 200
) -> HttpResponse:
    context = {"form": form, "meeting": meeting, "time_zone": settings.TIME_ZONE}
    return render(request, "alignment/meetings/form.html", context, status=status)


@require_http_methods(["GET", "POST"])
def meeting_new(request: HttpRequest) -> HttpResponse:
    """Plan a meeting (anyone signed in); a link may fill in its kind, campaign, title and
    agenda (`?kind=campaign_kickoff&campaign=<external id>`)."""
    if request.method == "GET":
        initial = MeetingForm.initial_new(query=request.GET, user=request.user, now=timezone.now())
        return _form_page(request, MeetingForm(initial=initial), None)
    form = MeetingForm(request.POST)
    if form.is_valid():
        try:
            meeting = meeting_create(by=request.user, **form.meeting_fields())
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"Meeting “{meeting}” planned.")
            return redirect("meeting-detail", pk=meeting.pk)
    return _form_page(request, form, None, status=BAD_REQUEST)


@require_http_methods(["GET", "POST"])
def meeting_edit(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = get_object_or_404(Meeting, pk=pk)
    _may_edit(request, meeting)
    if request.method == "GET":
        form = MeetingForm(initial=MeetingForm.initial_of(meeting), meeting=meeting)
        return _form_page(request, form, meeting)
    form = MeetingForm(request.POST, meeting=meeting)
    if form.is_valid():
        try:
            meeting = meeting_update(meeting=meeting, by=request.user, **form.meeting_fields())
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, "Meeting saved.")
            return redirect("meeting-detail", pk=meeting.pk)
    return _form_page(request, form, meeting, status=BAD_REQUEST)


@require_http_methods(["GET", "POST"])
def meeting_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks to confirm; POST deletes (its creator and the managers only)."""
    meeting = get_object_or_404(Meeting, pk=pk)
    if not meeting_can_delete(meeting=meeting, user=request.user):
        raise PermissionDenied("Only whoever created a meeting, and the managers, delete it.")
    if request.method == "GET":
        context = {"meeting": meeting, "item_count": meeting.action_items.count()}
        return render(request, "alignment/meetings/delete.html", context)
    name = str(meeting)
    meeting_delete(meeting=meeting, by=request.user)
    messages.success(request, f"Meeting “{name}” deleted.")
    return redirect("meeting-list")


# --- action items ----------------------------------------------------------------------------


@require_POST
def action_item_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = get_object_or_404(Meeting, pk=pk)
    _may_edit(request, meeting)
    form = ActionItemForm(request.POST)
    if form.is_valid():
        try:
            item = action_item_add(meeting=meeting, by=request.user, **form.item_fields())
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"Action item added for {person_name(item.owner)}.")
            return redirect(f"{reverse('meeting-detail', args=[meeting.pk])}#action-items")
    return _detail_page(request, meeting, item_form=form, status=BAD_REQUEST)


def _back(request: HttpRequest, item: ActionItem) -> HttpResponse:
    """To `next` when it is a page of this site, else to the item's meeting."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(f"{reverse('meeting-detail', args=[item.meeting_id])}#action-items")


@require_POST
def action_item_done_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Tick an item off (`done=1`, the default) or open it again (`done=0`)."""
    item = get_object_or_404(ActionItem.objects.select_related("meeting"), pk=pk)
    if not action_item_can_tick(item=item, user=request.user):
        raise PermissionDenied(
            "Only the item's owner, the meeting's attendees and the managers tick it off."
        )
    done = request.POST.get("done", "1") not in ("0", "false", "")
    action_item_done(item=item, by=request.user, done=done)
    messages.success(request, f"{'Done' if done else 'Open again'}: {item.text}")
    return _back(request, item)


@require_http_methods(["GET", "POST"])
def action_item_edit(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(ActionItem.objects.select_related("meeting", "owner"), pk=pk)
    _may_edit(request, item.meeting)
    status = 200
    if request.method == "GET":
        form = ActionItemForm(initial=ActionItemForm.initial_of(item), item=item)
    else:
        form = ActionItemForm(request.POST, item=item)
        if form.is_valid():
            try:
                action_item_update(item=item, by=request.user, **form.item_fields())
            except ValidationError as error:
                form.add_service_error(error)
            else:
                messages.success(request, "Action item saved.")
                return redirect(f"{reverse('meeting-detail', args=[item.meeting_id])}#action-items")
        status = BAD_REQUEST
    context = {"form": form, "item": item, "meeting": item.meeting}
    return render(request, "alignment/meetings/item_form.html", context, status=status)


@require_POST
def action_item_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(ActionItem.objects.select_related("meeting"), pk=pk)
    _may_edit(request, item.meeting)
    action_item_delete(item=item, by=request.user)
    messages.success(request, f"Action item deleted: {item.text}")
    return redirect(f"{reverse('meeting-detail', args=[item.meeting_id])}#action-items")

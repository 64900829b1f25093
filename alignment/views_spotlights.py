"""The spotlights pages: joint wins, newest first, each a won deal's story with the people of
both teams, and thanks from everyone.

Everyone signed in reads them, posts one and says thanks; the person who posted a spotlight
and the managers edit and delete it (the services decide; a refusal is a 403 that says why).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from alignment.exports import spotlights_table
from alignment.forms_spotlights import SpotlightForm
from alignment.models import Spotlight
from alignment.selectors import (
    deal_by_external_id,
    deals_won_recent,
    spotlight_list,
    users_by_team,
)
from alignment.services.meetings import meeting_users
from alignment.services.spotlights import (
    WON,
    spotlight_can_delete,
    spotlight_can_edit,
    spotlight_create,
    spotlight_delete,
    spotlight_thank,
    spotlight_unthank,
    spotlight_update,
)
from config.csv_export import csv_filename, csv_requested, csv_response

PAGE_SIZE = 20
BAD_REQUEST = 400


def _spotlight(request: HttpRequest, pk: int) -> Spotlight:
    found = spotlight_list(viewer=request.user, thankers=True).filter(pk=pk).first()
    if found is None:
        raise Http404("No spotlight has this number.")
    return found


@require_GET
def spotlight_list_view(request: HttpRequest) -> HttpResponse:
    spotlights = spotlight_list(viewer=request.user, thankers=True)
    if csv_requested(request):
        name = csv_filename("tandem", "spotlights", timezone.localdate())
        return csv_response(*spotlights_table(spotlights), name)
    page = Paginator(spotlights, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "alignment/spotlights/list.html", {"page": page})


@require_GET
def spotlight_detail(request: HttpRequest, pk: int) -> HttpResponse:
    spotlight = _spotlight(request, pk)
    context = {
        "s": spotlight,
        "can_edit": spotlight_can_edit(spotlight=spotlight, user=request.user),
        "can_delete": spotlight_can_delete(spotlight=spotlight, user=request.user),
    }
    return render(request, "alignment/spotlights/detail.html", context)


def _form(
    request: HttpRequest, *, spotlight: Spotlight | None = None, asked: Any = None, **kw: Any
) -> SpotlightForm:
    """The form with the latest won deals, and the deals it must keep on the list: the
    spotlight's own, the one asked for or posted."""
    keep = [d.pk for d in (spotlight.deal if spotlight else None, asked) if d is not None]
    people = users_by_team()
    if spotlight is not None:  # someone credited who has left stays on their spotlight
        listed = {u.pk for users in people.values() for u in users}
        for credit in spotlight.credits.all():
            if credit.user_id not in listed:
                people[credit.team].append(credit.user)
    return SpotlightForm(
        request.POST if request.method == "POST" else None,
        deals=deals_won_recent(include=keep),
        people=people,
        **kw,
    )


def _save(request: HttpRequest, form: SpotlightForm, spotlight: Spotlight | None) -> Spotlight:
    """Create or update from a valid form; a service's ValidationError goes up."""
    data = form.cleaned_data
    deal = deal_by_external_id(external_id=data["deal"])
    if deal is None:
        raise ValidationError({"deal": "Choose the won deal the story is about."})
    people = meeting_users(usernames=data["people"], field="people")
    values = {"title": data["title"], "story": data["story"], "deal": deal, "people": people}
    if spotlight is None:
        return spotlight_create(by=request.user, **values)
    return spotlight_update(spotlight=spotlight, by=request.user, **values)


def _form_page(
    request: HttpRequest,
    form: SpotlightForm,
    spotlight: Spotlight | None,
    *,
    note: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {"form": form, "spotlight": spotlight, "note": note}
    return render(request, "alignment/spotlights/form.html", context, status=status)


@require_http_methods(["GET", "POST"])
def spotlight_new(request: HttpRequest) -> HttpResponse:
    """A new joint win; `?deal=<external id>` chooses the deal."""
    if request.method == "GET":
        wanted = request.GET.get("deal", "").strip()
        deal = deal_by_external_id(external_id=wanted)
        note = ""
        if wanted and (deal is None or deal.status != WON):
            note = f"Deal {wanted} is not a won deal: choose one below."
            deal = None
        form = _form(request, asked=deal, initial={"deal": deal.external_id if deal else ""})
        return _form_page(request, form, None, note=note)
    posted = deal_by_external_id(external_id=request.POST.get("deal", "").strip())
    form = _form(request, asked=posted)
    if form.is_valid():
        try:
            spotlight = _save(request, form, None)
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"“{spotlight.title}” is in the spotlight.")
            return redirect("spotlight-detail", pk=spotlight.pk)
    return _form_page(request, form, None, status=BAD_REQUEST)


@require_http_methods(["GET", "POST"])
def spotlight_edit(request: HttpRequest, pk: int) -> HttpResponse:
    spotlight = _spotlight(request, pk)
    if not spotlight_can_edit(spotlight=spotlight, user=request.user):
        raise PermissionDenied("Only the person who posted a spotlight, or a manager, edits it.")
    if request.method == "GET":
        form = _form(request, spotlight=spotlight, initial=SpotlightForm.initial_of(spotlight))
        return _form_page(request, form, spotlight)
    posted = deal_by_external_id(external_id=request.POST.get("deal", "").strip())
    form = _form(request, spotlight=spotlight, asked=posted)
    if form.is_valid():
        try:
            _save(request, form, spotlight)
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, "Spotlight saved.")
            return redirect("spotlight-detail", pk=spotlight.pk)
    return _form_page(request, form, spotlight, status=BAD_REQUEST)


@require_POST
def spotlight_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    spotlight = _spotlight(request, pk)
    spotlight_delete(spotlight=spotlight, by=request.user)  # PermissionDenied: a 403
    messages.success(request, f"Spotlight “{spotlight.title}” deleted.")
    return redirect("spotlight-list")


@require_POST
def spotlight_thanks(request: HttpRequest, pk: int) -> HttpResponse:
    """Say thanks (`do=thank`) or take it back (`do=unthank`); saying it twice changes
    nothing. With htmx, answers the button again; without, goes back where it was pressed."""
    spotlight = _spotlight(request, pk)
    if request.POST.get("do") == "unthank":
        spotlight_unthank(spotlight=spotlight, by=request.user)
    else:
        spotlight_thank(spotlight=spotlight, by=request.user)
    target = request.POST.get("next", "")
    if request.htmx:
        context = {
            "s": _spotlight(request, pk),
            "next": target,
            "thankers": request.POST.get("thankers") == "1",
        }
        return render(request, "alignment/spotlights/thanks.html", context)
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
        target = reverse("spotlight-detail", args=[pk])
    return redirect(target)

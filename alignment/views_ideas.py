"""The ideas board (/ideas/): drafts (their author's alone), ideas open for critique with
comments and votes from both teams, adopted and parked ones. Who may do what is
`alignment.services.ideas`; refusals are 403 (a draft of someone else too: it is private),
bad input answers 400 with the form and changes nothing."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from alignment import selectors
from alignment.exports import ideas_table
from alignment.forms_ideas import AdoptForm, CommentForm, IdeaForm, ParkForm
from alignment.models import Idea
from alignment.roles import user_is_manager
from alignment.services import ideas as svc
from config.csv_export import csv_filename, csv_requested, csv_response

BAD_REQUEST = 400


def idea_url(idea: Idea) -> str:
    return reverse("idea-detail", args=[idea.pk])


def _idea_for(request: HttpRequest, pk: int) -> Idea:
    """The idea, counted, if the viewer may read it (a draft of someone else is refused)."""
    idea = get_object_or_404(Idea, pk=pk)
    if not svc.idea_can_view(idea=idea, user=request.user):
        raise PermissionDenied(svc.DRAFT_PRIVATE)
    return selectors.ideas_visible(viewer=request.user).get(pk=pk)


@require_safe
def idea_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status and status not in Idea.Status.values:
        return render(
            request,
            "alignment/ideas/list.html",
            {"columns": [], "bad_status": status, "statuses": Idea.Status.choices},
            status=BAD_REQUEST,
        )
    if csv_requested(request):
        columns = selectors.ideas_board(viewer=request.user, status=status, whole=True)
        name = csv_filename("tandem", "ideas", status, timezone.localdate())
        return csv_response(*ideas_table(columns), name)
    context = {
        "columns": selectors.ideas_board(viewer=request.user, status=status),
        "status": status,
        "statuses": Idea.Status.choices,
        "others_drafts": (
            selectors.ideas_drafts_of_others(viewer=request.user)
            if user_is_manager(request.user)
            else None
        ),
    }
    return render(request, "alignment/ideas/list.html", context)


def _form_page(
    request: HttpRequest, form: IdeaForm, idea: Idea | None, status: int = 200
) -> HttpResponse:
    return render(request, "alignment/ideas/form.html", {"form": form, "idea": idea}, status=status)


@require_http_methods(["GET", "POST"])
def idea_new(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _form_page(request, IdeaForm(), None)
    form = IdeaForm(request.POST)
    if form.is_valid():
        try:
            idea = svc.idea_create(by=request.user, **form.cleaned_data)
            if "open" in request.POST:
                idea = svc.idea_open(idea=idea, by=request.user)
        except ValidationError as error:
            form.add_service_error(error)
        else:
            if idea.status == Idea.Status.OPEN:
                messages.success(request, f"“{idea.title}” is open for critique.")
            else:
                messages.success(request, f"Draft “{idea.title}” saved: only you see it.")
            return redirect("idea-detail", pk=idea.pk)
    return _form_page(request, form, None, status=BAD_REQUEST)


@require_http_methods(["GET", "POST"])
def idea_edit(request: HttpRequest, pk: int) -> HttpResponse:
    idea = _idea_for(request, pk)
    if not svc.idea_can_edit(idea=idea, user=request.user):
        raise PermissionDenied(svc.EDIT_REFUSED)
    if request.method == "GET":
        return _form_page(request, IdeaForm(initial={"title": idea.title, "body": idea.body}), idea)
    form = IdeaForm(request.POST)
    if form.is_valid():
        try:
            idea = svc.idea_update(idea=idea, by=request.user, **form.cleaned_data)
            if "open" in request.POST:
                idea = svc.idea_open(idea=idea, by=request.user)
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"“{idea.title}” saved.")
            return redirect("idea-detail", pk=idea.pk)
    return _form_page(request, form, idea, status=BAD_REQUEST)


def _detail_page(request: HttpRequest, idea: Idea, status: int = 200, **forms: Any) -> HttpResponse:
    user = request.user
    can = {
        "edit": svc.idea_can_edit(idea=idea, user=user),
        "open": svc.idea_can_open(idea=idea, user=user),
        "comment": svc.idea_can_comment(idea=idea, user=user),
        "vote": svc.idea_can_vote(idea=idea, user=user),
        "adopt": svc.idea_can_adopt(idea=idea, user=user),
        "park": svc.idea_can_park(idea=idea, user=user),
        "delete": svc.idea_can_delete(idea=idea, user=user),
    }
    context = {
        "idea": idea,
        "comments": selectors.idea_comments(idea=idea),
        "can": can,
        "comment_form": forms.get("comment_form") or CommentForm(),
        "adopt_form": forms.get("adopt_form") or AdoptForm(),
        "park_form": forms.get("park_form") or ParkForm(),
    }
    return render(request, "alignment/ideas/detail.html", context, status=status)


@require_safe
def idea_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, _idea_for(request, pk))


@require_POST
def idea_open_view(request: HttpRequest, pk: int) -> HttpResponse:
    idea = _idea_for(request, pk)
    try:
        svc.idea_open(idea=idea, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"“{idea.title}” is open for critique.")
    return redirect("idea-detail", pk=idea.pk)


@require_POST
def idea_comment_view(request: HttpRequest, pk: int) -> HttpResponse:
    idea = _idea_for(request, pk)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            svc.idea_comment(idea=idea, by=request.user, body=form.cleaned_data["body"])
        except ValidationError as error:
            form.add_service_error(error)
        else:
            return redirect(f"{idea_url(idea)}#comments")
    return _detail_page(request, idea, status=BAD_REQUEST, comment_form=form)


@require_POST
def idea_vote_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Vote, or take the vote back (`action=unvote`)."""
    idea = _idea_for(request, pk)
    action = request.POST.get("action", "vote")
    try:
        if action == "unvote":
            svc.idea_unvote(idea=idea, by=request.user)
        elif action == "vote":
            svc.idea_vote(idea=idea, by=request.user)
        else:
            raise ValidationError({"action": "Vote or unvote."})
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _detail_page(request, idea, status=BAD_REQUEST)
    return redirect(f"{idea_url(idea)}#votes")


@require_POST
def idea_adopt_view(request: HttpRequest, pk: int) -> HttpResponse:
    idea = _idea_for(request, pk)
    if idea.status == Idea.Status.OPEN and not svc.idea_can_adopt(idea=idea, user=request.user):
        raise PermissionDenied(svc.DECIDE_REFUSED)
    form = AdoptForm(request.POST)
    if form.is_valid():
        try:
            svc.idea_adopt(idea=idea, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"“{idea.title}” adopted.")
            return redirect("idea-detail", pk=idea.pk)
    return _detail_page(request, idea, status=BAD_REQUEST, adopt_form=form)


@require_POST
def idea_park_view(request: HttpRequest, pk: int) -> HttpResponse:
    idea = _idea_for(request, pk)
    undecided = idea.status in {Idea.Status.DRAFT, Idea.Status.OPEN}
    if undecided and not svc.idea_can_park(idea=idea, user=request.user):
        raise PermissionDenied(svc.DECIDE_REFUSED)
    form = ParkForm(request.POST)
    if form.is_valid():
        try:
            svc.idea_park(idea=idea, by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"“{idea.title}” parked.")
            return redirect("idea-detail", pk=idea.pk)
    return _detail_page(request, idea, status=BAD_REQUEST, park_form=form)


@require_POST
def idea_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    idea = _idea_for(request, pk)
    svc.idea_delete(idea=idea, by=request.user)
    messages.success(request, f"“{idea.title}” deleted.")
    return redirect("idea-list")

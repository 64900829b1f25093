"""The rep's pages: the inbox of pending handoffs by SLA deadline (accept, reject with a
reason, log attempts; managers reassign), My leads (accepted handoffs and their next step) and
the lead page.

Every action is a plain form POST that redirects back; with htmx it answers with the card
instead, so the inbox updates in place.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import parse_qs, urlparse

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from alignment.roles import Role, user_role
from config.csv_export import csv_filename, csv_requested, csv_response
from config.errors import Conflict
from leads.exports import inbox_table, my_leads_table
from leads.forms import AttemptForm, InboxFilterForm, ReassignForm, RejectForm
from leads.models import AttemptChannel, AttemptOutcome, Handoff, RejectionReason
from leads.selectors import (
    handoffs_why,
    inbox_counts,
    inbox_handoffs,
    inbox_history,
    lead_get,
    lead_story,
    my_leads,
    my_leads_steps,
    sales_people,
)
from leads.services import (
    attempts_upsert,
    handoff_accept,
    handoff_can_decide,
    handoff_can_log_attempt,
    handoff_can_reassign,
    handoff_reassign,
    handoff_reject,
    lead_can_view,
)
from leads.views_disputes import handoffs_dispute_state

INBOX_ROLES = {Role.SALES_REP, Role.SALES_MANAGER, Role.ADMIN}
PAGE_SIZE = 50


def _choices(request: HttpRequest) -> dict:
    """What every card's forms offer (read once per page, not once per card): the reasons
    (code, label, whether it needs feedback), and for managers whom to reassign to."""
    reasons = list(
        RejectionReason.objects.filter(active=True).values_list(
            "code", "label", "requires_feedback"
        )
    )
    return {
        "reasons": reasons,
        "feedback_reasons": ", ".join(label for _, label, needs in reasons if needs),
        "channels": AttemptChannel.choices,
        "outcomes": AttemptOutcome.choices,
        "assignees": sales_people(active_only=True)
        if handoff_can_reassign(user=request.user)
        else None,
    }


@require_safe
def inbox(request: HttpRequest) -> HttpResponse:
    """A rep's own pending handoffs; sales managers see everyone's, by owner."""
    role = user_role(request.user)
    if role not in INBOX_ROLES:
        return render(request, "leads/inbox_forbidden.html", status=403)
    form = None if role == Role.SALES_REP else InboxFilterForm(request.GET or None)
    owner = request.user.get_username() if form is None else form.chosen_owner()
    if csv_requested(request):
        table = inbox_table(inbox_handoffs(owner=owner), now=timezone.now())
        return _owned_csv(request, form, "inbox", table, owner)
    counts = inbox_counts(owner=owner)
    paginator = Paginator(inbox_handoffs(owner=owner), PAGE_SIZE)
    paginator.count = counts["pending"]  # the same count, already read
    page = paginator.get_page(request.GET.get("page"))
    inbox_history(handoffs=page.object_list)
    handoffs_why(handoffs=page.object_list)
    choices = _choices(request)
    _with_actions(request, page.object_list, choices)
    context = {"page": page, "form": form, "counts": counts, **choices}
    return render(request, "leads/inbox.html", context)


def _owned_csv(
    request: HttpRequest,
    form: InboxFilterForm | None,
    page: str,
    table: tuple,
    owner: str | None,
) -> HttpResponse:
    """The CSV of the inbox or My leads: what the page lists for this owner (a rep: their
    own), every row; an owner who is not one of the choices is refused (400)."""
    if form is not None and form.is_bound and not form.is_valid():
        return HttpResponseBadRequest(form.errors.as_text(), content_type="text/plain")
    name = csv_filename("tandem", page, owner, timezone.localdate())
    return csv_response(*table, name)


#: The stand-in primary key the inbox renders its cards' forms for, once (no real one is this
#: long: ids are 64-bit, and the forms hold no other number this size).
_ANY_PK = 918_273_645_546_372_819


class _AnyHandoff:
    pk = _ANY_PK


def _with_actions(request: HttpRequest, handoffs: Iterable[Handoff], choices: dict) -> None:
    """Give each card its forms: rendered once for a stand-in handoff, then each card's copy
    with its own pk. Every card's forms are the same but for the pk (same choices, CSRF token
    and way back), and they are most of a card."""
    context = {"h": _AnyHandoff, "next": request.get_full_path(), **choices}
    html = render_to_string("leads/partials/handoff_actions.html", context, request=request)
    for handoff in handoffs:
        handoff.actions_html = mark_safe(html.replace(str(_ANY_PK), str(handoff.pk)))


def _decidable(request: HttpRequest, pk: int) -> Handoff:
    handoff = get_object_or_404(Handoff.objects.select_related("lead", "owner"), pk=pk)
    if not handoff_can_decide(handoff=handoff, user=request.user):
        raise PermissionDenied(_not_yours(handoff.owner, "handoff"))
    return handoff


def _not_yours(owner: object, what: str) -> str:
    if owner is None:
        return f"This {what} has no owner yet. Ask a sales manager to assign it."
    name = owner.get_full_name() or owner.get_username()
    return f"This {what} belongs to {name}. Ask a sales manager to reassign it."


def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
        target = reverse("inbox")
    return redirect(target)


def _scope_owner(request: HttpRequest) -> str | None:
    """Whose counts the inbox header shows: the rep's own, or the manager's filter."""
    if user_role(request.user) == Role.SALES_REP:
        return request.user.get_username()
    url = request.htmx.current_url if request.htmx else request.POST.get("next", "")
    return parse_qs(urlparse(url or "").query).get("owner", [None])[0] or None


def _card(request: HttpRequest, pk: int, **extra: object) -> HttpResponse:
    """The handoff's card again (pending), or the note that it was decided."""
    handoff = inbox_handoffs().filter(pk=pk).first()
    if handoff is None:
        handoff = get_object_or_404(
            Handoff.objects.select_related("lead", "reason", "closing_event"), pk=pk
        )
        return _decided(request, handoff)
    inbox_history(handoffs=[handoff])
    handoffs_why(handoffs=[handoff])
    context = {"h": handoff, "next": request.htmx.current_url or "", **_choices(request), **extra}
    return render(request, "leads/partials/handoff_card.html", context)


def _decided(request: HttpRequest, handoff: Handoff, note: str = "") -> HttpResponse:
    """Back where the decision was taken; `note` says why it was not (someone else decided
    first), as a warning."""
    if not request.htmx:
        if note:
            messages.warning(request, note)
        else:
            messages.success(request, f"{handoff.get_status_display()} {handoff.lead}.")
        return _back(request)
    context = {"h": handoff, "note": note, "counts": inbox_counts(owner=_scope_owner(request))}
    return render(request, "leads/partials/handoff_decided.html", context)


@require_POST
def accept(request: HttpRequest, pk: int) -> HttpResponse:
    handoff = _decidable(request, pk)
    try:
        handoff_accept(handoff=handoff, by=request.user)
    except Conflict as exc:
        return _decided(request, handoff, note=" ".join(exc.messages))
    return _decided(request, handoff)


@require_http_methods(["GET", "POST"])
def reject(request: HttpRequest, pk: int) -> HttpResponse:
    """Reject with a reason, feedback and a rating; without JavaScript a page of its own."""
    handoff = _decidable(request, pk)
    form = RejectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            handoff_reject(
                handoff=handoff,
                by=request.user,
                reason=form.cleaned_data["reason"].code,
                feedback=form.cleaned_data["feedback"],
                rating=form.cleaned_data["rating"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return _decided(request, handoff)
    status = 409 if handoff.status != Handoff.Status.PENDING else 400 if form.errors else 200
    if request.htmx:
        return _card(request, pk, reject_form=form)
    context = {"h": handoff, "form": form}
    return render(request, "leads/handoff_reject.html", context, status=status)


@require_POST
def attempt(request: HttpRequest, pk: int) -> HttpResponse:
    """Log a contact attempt made now; the SLA facts and KPIs follow."""
    handoff = get_object_or_404(Handoff.objects.select_related("lead", "owner"), pk=pk)
    if not handoff_can_log_attempt(handoff=handoff, user=request.user):
        if handoff.owner_id == request.user.pk:
            raise PermissionDenied(
                "The lead was handed over again since this handoff; attempts go on its latest."
            )
        raise PermissionDenied(_not_yours(handoff.owner, "handoff"))
    form = AttemptForm(request.POST)
    if form.is_valid():
        attempts_upsert(rows=[form.row(handoff=handoff, actor=request.user)])
        if not request.htmx:
            messages.success(request, f"Attempt logged for {handoff.lead}.")
            return _back(request)
        counts = inbox_counts(owner=_scope_owner(request))  # an attempt may end an overdue
        return _card(request, pk, flash="Attempt logged.", counts=counts, counts_oob=True)
    if request.htmx:
        return _card(request, pk, attempt_form=form)
    messages.error(request, "Choose a channel and an outcome for the attempt.")
    return _back(request)


@require_POST
def reassign(request: HttpRequest, pk: int) -> HttpResponse:
    """A sales manager gives a pending handoff (and its lead) to another sales person."""
    if not handoff_can_reassign(user=request.user):
        raise PermissionDenied("Only a sales manager can reassign a handoff.")
    handoff = get_object_or_404(Handoff.objects.select_related("lead", "owner"), pk=pk)
    form = ReassignForm(request.POST)
    error = ""
    if form.is_valid():
        to = get_user_model().objects.get(username=form.cleaned_data["owner"])
        try:
            handoff_reassign(
                handoff=handoff, to=to, by=request.user, note=form.cleaned_data["note"]
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
    else:
        error = " ".join(e for errors in form.errors.values() for e in errors)
    if error:
        if request.htmx:  # the card again with the error (or the note that it was decided)
            return _card(request, pk, reassign_error=error)
        messages.error(request, error)
        return _back(request)
    name = to.get_full_name() or to.get_username()
    note = f"Reassigned {handoff.lead} to {name}." + (
        " They get an e-mail." if to.email else f" {name} has no e-mail address: tell them."
    )
    if not request.htmx:
        messages.success(request, note)
        return _back(request)
    scope = _scope_owner(request)
    counts = inbox_counts(owner=scope)
    if scope and scope != to.get_username():  # it left the list the manager is looking at
        context = {"h": handoff, "note": note, "counts": counts}
        return render(request, "leads/partials/handoff_decided.html", context)
    return _card(request, pk, flash=note, counts=counts, counts_oob=True)


# --- my leads and the lead page -------------------------------------------------------------

MY_LEADS_PAGE_SIZE = 25


@require_safe
def mine(request: HttpRequest) -> HttpResponse:
    """A rep's accepted handoffs with their next step and SLA state; managers see everyone's,
    by owner."""
    role = user_role(request.user)
    if role not in INBOX_ROLES:
        raise PermissionDenied(
            "My leads lists the leads sales accepted, for the reps who work them. "
            "Their outcomes are on the dashboard and the campaign pages."
        )
    form = None if role == Role.SALES_REP else InboxFilterForm(request.GET or None)
    owner = request.user.get_username() if form is None else form.chosen_owner()
    now = timezone.now()  # one moment for the order and the steps
    if csv_requested(request):
        table = my_leads_table(my_leads(owner=owner, now=now), now=now)
        return _owned_csv(request, form, "my-leads", table, owner)
    page = Paginator(my_leads(owner=owner, now=now), MY_LEADS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    my_leads_steps(handoffs=page.object_list, now=now)
    context = {
        "page": page,
        "form": form,
        "channels": AttemptChannel.choices,
        "outcomes": AttemptOutcome.choices,
        "next": request.get_full_path(),
    }
    return render(request, "leads/my_leads.html", context)


@require_safe
def lead(request: HttpRequest, pk: int) -> HttpResponse:
    """One lead: its handoffs and their decisions (and disputes), why it is an MQL, its stages,
    touches, attempts and deals. Marketing, sales managers, admins and the lead's owner read it."""
    found = lead_get(pk=pk)
    if found is None:
        raise Http404("No lead has this number.")
    if not lead_can_view(lead=found, user=request.user):
        raise PermissionDenied(_not_yours(found.owner, "lead"))
    lead_story(lead=found)
    handoffs_dispute_state(handoffs=found.handoff_list, user=request.user)
    pending = next((h for h in found.handoff_list if h.status == Handoff.Status.PENDING), None)
    can_reassign = pending is not None and handoff_can_reassign(user=request.user)
    context = {
        "lead": found,
        "pending": pending,
        "assignees": sales_people(active_only=True) if can_reassign else None,
        "can_decide": pending is not None
        and handoff_can_decide(handoff=pending, user=request.user),
        "next": request.get_full_path(),
        "dispute_window_days": settings.DISPUTE_WINDOW_DAYS,
    }
    return render(request, "leads/lead_detail.html", context)

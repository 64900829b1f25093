"""The pages of disputes: marketing contests a rejection from the lead page, the two heads settle
it on the dispute's page, and everyone reads the list.

Everyone reads every dispute's state; its comments and the names in it only the people
`dispute_can_read` names (the others see the same rows without them). Every action is a plain
form POST that redirects to the dispute; bad input renders the form again with a 400.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from alignment.roles import Team
from config.csv_export import csv_filename, csv_requested, csv_response
from leads.exports import disputes_table
from leads.forms_disputes import DisputeOutcomeForm, DisputeRaiseForm
from leads.models import Dispute, Handoff
from leads.selectors import (
    DisputeBoard,
    dispute_board,
    dispute_counts,
    dispute_get,
    dispute_list,
    disputes_with_heads,
)
from leads.services_disputes import (
    TEAM_NAMES,
    dispute_can_confirm,
    dispute_can_raise,
    dispute_can_read,
    dispute_confirm,
    dispute_raise,
    dispute_record_outcome,
    dispute_viewer_heads,
    dispute_window_closes,
)

SETTLED_PAGE_SIZE = 25
NOT_A_HEAD = "Only the head of marketing and the head of sales settle a dispute, together."


def handoffs_dispute_state(
    *, handoffs: Iterable[Handoff], user: object, now: datetime | None = None
) -> None:
    """Give each handoff of the lead page what it shows of disputes: `dispute_shown` (its
    dispute or None, with `visible`: whether the user reads its comments and names, and
    `awaiting_head`), `dispute_offer` ("form" while marketing may dispute the rejection,
    "closed" once the window closed, else "") and `dispute_closes`. One query at most (the
    heads, when a dispute is shown), and none without a rejection."""
    now = now or timezone.now()
    handoffs = list(handoffs)
    may_raise = dispute_can_raise(user=user)
    shown = []
    for h in handoffs:
        dispute = getattr(h, "dispute", None)  # read with the handoff (lead_story)
        h.dispute_shown, h.dispute_offer = dispute, ""
        h.dispute_closes = dispute_window_closes(handoff=h)
        if dispute is not None:
            dispute.handoff = h
            dispute.visible = dispute_can_read(dispute=dispute, user=user)
            shown.append(dispute)
        elif may_raise and h.dispute_closes is not None:
            h.dispute_offer = "form" if now <= h.dispute_closes else "closed"
    if shown:
        disputes_with_heads(disputes=shown)


@require_safe
def dispute_list_view(request: HttpRequest) -> HttpResponse:
    """Disputes waiting for you (a head), the others not settled yet, and the settled ones."""
    head_team = dispute_viewer_heads(user=request.user)
    board = dispute_board(head_team=head_team.value if head_team else None)
    if csv_requested(request):
        return _disputes_csv(request, board, head_team)
    settled = Paginator(dispute_list(status=Dispute.Status.RESOLVED), SETTLED_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    for dispute in [*board.waiting, *board.open, *settled.object_list]:
        dispute.visible = dispute_can_read(dispute=dispute, user=request.user)
    context = {
        "board": board,
        "settled": settled,
        "counts": dispute_counts(),
        "head_team": head_team,
        "team_names": TEAM_NAMES,
    }
    return render(request, "leads/disputes.html", context)


def _disputes_csv(
    request: HttpRequest, board: DisputeBoard, head_team: Team | None
) -> HttpResponse:
    """The disputes page as CSV: the same sections, every settled dispute (not a page of
    them), each row with what this user may read of it."""

    def readable(disputes: Iterable[Dispute]) -> Iterator[Dispute]:
        for dispute in disputes:
            dispute.visible = dispute_can_read(dispute=dispute, user=request.user)
            yield dispute

    settled = dispute_list(status=Dispute.Status.RESOLVED).iterator(chunk_size=500)
    sections = [
        *([("Waiting for you", readable(board.waiting))] if head_team else []),
        ("Waiting for the other head" if head_team else "Open", readable(board.open)),
        ("Settled", readable(settled)),
    ]
    name = csv_filename("tandem", "disputes", timezone.localdate())
    return csv_response(*disputes_table(sections), name)


def _page(
    request: HttpRequest,
    pk: int,
    *,
    status: int = 200,
    outcome_form: DisputeOutcomeForm | None = None,
    confirm_error: str = "",
) -> HttpResponse:
    dispute = dispute_get(pk=pk)
    if dispute is None:
        raise Http404("No dispute has this number.")
    disputes_with_heads(disputes=[dispute])
    head_team = dispute_viewer_heads(user=request.user)
    settled = dispute.status == Dispute.Status.RESOLVED
    awaiting = Team(dispute.awaiting_team) if dispute.awaiting_team else None
    context = {
        "dispute": dispute,
        "h": dispute.handoff,
        "visible": dispute_can_read(dispute=dispute, user=request.user),
        "head_team": head_team,
        "can_record": head_team is not None and not settled,
        "can_confirm": dispute_can_confirm(dispute=dispute, user=request.user),
        "awaiting_name": TEAM_NAMES[awaiting] if awaiting else "",
        "outcome_form": outcome_form or DisputeOutcomeForm(),
        "confirm_error": confirm_error,
    }
    return render(request, "leads/dispute_detail.html", context, status=status)


@require_safe
def dispute_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Both sides of a dispute (the rejection and what sales did before it, marketing's
    comment), its state, and the heads' forms: the outcome, the confirmation."""
    return _page(request, pk)


@require_http_methods(["GET", "POST"])
def dispute_raise_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Marketing disputes a rejection (the lead page's form posts here; without it, or after
    bad input, a page of its own)."""
    handoff = get_object_or_404(Handoff.objects.select_related("lead", "reason", "owner"), pk=pk)
    if not dispute_can_raise(user=request.user):
        raise PermissionDenied("Only marketing (reps and managers) can dispute a rejection.")
    form = DisputeRaiseForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                dispute = dispute_raise(
                    handoff=handoff, by=request.user, comment=form.cleaned_data["comment"]
                )
            except ValidationError as exc:
                form.add_error(None, exc)  # a field's message lands on its field
            else:
                messages.success(
                    request,
                    f"Disputed the rejection of {handoff.lead}. The two heads settle it.",
                )
                return redirect("dispute-detail", pk=dispute.pk)
        status = 400
    else:
        status = 200
    context = {"h": handoff, "form": form, "closes": dispute_window_closes(handoff=handoff)}
    return render(request, "leads/dispute_raise.html", context, status=status)


def _settler(request: HttpRequest, pk: int) -> Dispute:
    dispute = get_object_or_404(Dispute.objects.select_related("handoff"), pk=pk)
    if dispute_viewer_heads(user=request.user) is None:
        raise PermissionDenied(NOT_A_HEAD)
    return dispute


@require_POST
def dispute_resolve_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A head records the outcome: upheld, or overturned with a note."""
    dispute = _settler(request, pk)
    form = DisputeOutcomeForm(request.POST)
    if form.is_valid():
        try:
            dispute = dispute_record_outcome(
                dispute=dispute,
                by=request.user,
                outcome=form.cleaned_data["outcome"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)  # a field's message lands on its field
        else:
            team = TEAM_NAMES[Team(dispute.awaiting_team)]
            messages.success(
                request,
                f"Recorded: {dispute.get_outcome_display().lower()}. "
                f"It is settled once the head of {team} confirms it.",
            )
            return redirect("dispute-detail", pk=pk)
    return _page(request, pk, status=400, outcome_form=form)


@require_POST
def dispute_confirm_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The other head confirms the outcome: the dispute is settled."""
    dispute = _settler(request, pk)
    try:
        dispute = dispute_confirm(dispute=dispute, by=request.user)
    except ValidationError as exc:
        return _page(request, pk, status=400, confirm_error=" ".join(exc.messages))
    if dispute.outcome == Dispute.Outcome.OVERTURNED and dispute.reopen_event_id:
        note = "Settled: the rejection is overturned and the lead handed off again."
    else:
        note = f"Settled: {dispute.get_outcome_display().lower()}."
    messages.success(request, note)
    return redirect("dispute-detail", pk=pk)

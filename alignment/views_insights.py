"""The field insights pages (/insights/): what prospects tell sales, and marketing's answer to
each. Who may do what is `alignment.services.insights`; refusals are 403, bad input answers
400 with the form and changes nothing."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from alignment import selectors
from alignment.exports import insights_table
from alignment.forms_insights import (
    AnswerForm,
    InsightFilterForm,
    InsightForm,
    answer_campaign_choices,
)
from alignment.models import FieldInsight
from alignment.services import insights as svc
from config.csv_export import csv_filename, csv_requested, csv_response

BAD_REQUEST = 400
PER_PAGE = 25


def _next_or(request: HttpRequest, default: str) -> str:
    """Where a form posted from the list goes back to (this site's pages only)."""
    wanted = request.POST.get("next", "")
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return default


def _answer_form(
    insight: FieldInsight, data: Any = None, campaigns: list[tuple[Any, str]] | None = None
) -> AnswerForm:
    initial = {}
    if insight.answered_at is not None:
        initial = {
            "answer": insight.answer,
            "text": insight.answer_text,
            "campaign": insight.answer_campaign_id,
        }
    auto_id = f"id_answer_{insight.pk}_%s"
    return AnswerForm(data, initial=initial, auto_id=auto_id, campaigns=campaigns)


@require_safe
def insight_list(request: HttpRequest) -> HttpResponse:
    filters_form = InsightFilterForm(request.GET or None)
    filters = filters_form.filters() if request.GET else InsightFilterForm.EMPTY
    rows = selectors.insights_filtered(**filters)
    if csv_requested(request):
        return _insights_csv(filters_form, filters, rows)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    can_answer = svc.insight_can_answer(user=request.user)
    campaigns = answer_campaign_choices() if can_answer else None  # once for the page's forms
    cards = [
        (
            insight,
            _answer_form(insight, campaigns=campaigns)
            if can_answer and insight.answered_at is None
            else None,
        )
        for insight in page
    ]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filters_form": filters_form,
        "filtered": any(v not in (None, "") for v in filters.values()),
        "cards": cards,
        "page": page,
        "query": query.urlencode(),
        "tags": selectors.insight_tags_used()[:30],
        "chosen_tag": filters["tag"],
        "can_post": svc.insight_can_post(user=request.user),
        "can_answer": can_answer,
        "waiting": selectors.insights_unanswered().count(),
    }
    status = BAD_REQUEST if request.GET and filters_form.errors else 200
    return render(request, "alignment/insights/list.html", context, status=status)


def _insights_csv(
    form: InsightFilterForm, filters: dict[str, Any], rows: QuerySet[FieldInsight]
) -> HttpResponse:
    """The insights the list shows with its filters, every one; a filter that does not hold
    is refused (400) rather than left out of a file that would not say so."""
    if form.is_bound and form.errors:
        return HttpResponseBadRequest(form.errors.as_text(), content_type="text/plain")
    campaign = filters["campaign"]
    answered = {True: "answered", False: "waiting"}.get(filters["answered"])
    name = csv_filename(
        "tandem", "insights", filters["kind"], filters["tag"],
        campaign.name if campaign else None, answered, timezone.localdate(),
    )  # fmt: skip
    return csv_response(*insights_table(rows), name)


def _form_page(
    request: HttpRequest, form: InsightForm, insight: FieldInsight | None, status: int = 200
) -> HttpResponse:
    context = {"form": form, "insight": insight}
    return render(request, "alignment/insights/form.html", context, status=status)


@require_http_methods(["GET", "POST"])
def insight_new(request: HttpRequest) -> HttpResponse:
    if not svc.insight_can_post(user=request.user):
        raise PermissionDenied(svc.POST_REFUSED)
    if request.method == "GET":
        return _form_page(request, InsightForm(), None)
    form = InsightForm(request.POST)
    if form.is_valid():
        try:
            insight = svc.insight_post(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, "Posted: marketing will answer it.")
            return redirect("insight-detail", pk=insight.pk)
    return _form_page(request, form, None, status=BAD_REQUEST)


@require_http_methods(["GET", "POST"])
def insight_edit(request: HttpRequest, pk: int) -> HttpResponse:
    insight = get_object_or_404(FieldInsight, pk=pk)
    if not svc.insight_can_edit(insight=insight, user=request.user):
        raise PermissionDenied(f"{svc.EDIT_REFUSED} It stays as it was once answered.")
    if request.method == "GET":
        initial = {
            "kind": insight.kind,
            "text": insight.text,
            "tags": ", ".join(t.name for t in insight.tags.all()),
            "campaign": insight.campaign_id,
        }
        return _form_page(request, InsightForm(initial=initial), insight)
    form = InsightForm(request.POST)
    if form.is_valid():
        try:
            svc.insight_update(insight=insight, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, "Insight saved.")
            return redirect("insight-detail", pk=insight.pk)
    return _form_page(request, form, insight, status=BAD_REQUEST)


def _detail_page(
    request: HttpRequest, insight: FieldInsight, form: AnswerForm | None = None, status: int = 200
) -> HttpResponse:
    insight = get_object_or_404(selectors.insights_filtered(), pk=insight.pk)
    user = request.user
    can_answer = svc.insight_can_change_answer(insight=insight, user=user)
    context = {
        "insight": insight,
        "answer_form": form or (_answer_form(insight) if can_answer else None),
        "can_answer": can_answer,
        "can_edit": svc.insight_can_edit(insight=insight, user=user),
        "can_delete": svc.insight_can_delete(insight=insight, user=user),
    }
    return render(request, "alignment/insights/detail.html", context, status=status)


@require_safe
def insight_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, get_object_or_404(FieldInsight, pk=pk))


@require_POST
def insight_answer_view(request: HttpRequest, pk: int) -> HttpResponse:
    if not svc.insight_can_answer(user=request.user):
        raise PermissionDenied(svc.ANSWER_REFUSED)
    insight = get_object_or_404(FieldInsight, pk=pk)
    form = _answer_form(insight, request.POST)
    if form.is_valid():
        try:
            svc.insight_answer(insight=insight, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, "Answered: sales sees what became of it.")
            return redirect(_next_or(request, reverse("insight-detail", args=[insight.pk])))
    return _detail_page(request, insight, form=form, status=BAD_REQUEST)


@require_POST
def insight_unanswer_view(request: HttpRequest, pk: int) -> HttpResponse:
    insight = get_object_or_404(FieldInsight, pk=pk)
    svc.insight_unanswer(insight=insight, by=request.user)
    messages.success(request, "Answer withdrawn: the insight waits for marketing again.")
    return redirect("insight-detail", pk=insight.pk)


@require_POST
def insight_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    insight = get_object_or_404(FieldInsight, pk=pk)
    svc.insight_delete(insight=insight, by=request.user)
    messages.success(request, "Insight deleted.")
    return redirect("insight-list")

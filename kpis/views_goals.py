"""The goals pages: shared goals with their pace and weekly check-ins, the joint scorecard with
the payout curve and each team's pay, and the revenue forecasts with their accuracy.

Everyone signed in reads them (transparency is the point); managers and the admin write.
Bad input answers 400 with the form and its messages, and changes nothing.
"""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from alignment.models import Goal
from alignment.roles import user_is_manager
from alignment.scorecard import CURVE_POINTS
from alignment.selectors import payout_curve_for, payout_curve_list
from alignment.services.forecasts import revenue_forecast_set
from alignment.services.goals import goal_check_in, goal_create, goal_delete, goal_update
from alignment.services.payout_curves import payout_curve_set
from config.csv_export import csv_filename, csv_requested, csv_response
from core.periods import next_period, period_start
from kpis.forms_goals import CheckInForm, ForecastForm, GoalForm, PayoutCurveForm
from kpis.goals import scorecard_for
from kpis.pages.goals import (
    forecasts_page,
    forecasts_table,
    goal_detail,
    goal_sections,
    goals_table,
    period_options,
    period_parse,
    period_value,
    scorecard_page,
    scorecard_table,
)

BAD_REQUEST = 400


def _managers_only(request: HttpRequest, what: str) -> None:
    if not user_is_manager(request.user):
        raise PermissionDenied(f"Only managers {what}; everyone reads them.")


def _chosen(request: HttpRequest) -> tuple[str, date] | HttpResponse | None:
    """The period of the query string (`?period=month:2026-03-01`); None when there is none."""
    value = request.GET.get("period", "")
    if not value:
        return None
    parsed = period_parse(value)
    if parsed is None:
        return HttpResponseBadRequest(
            "Choose a period such as month:2026-03-01.", content_type="text/plain"
        )
    return parsed[0], period_start(*parsed)


# --- goals ----------------------------------------------------------------------------------


@require_safe
def goal_list(request: HttpRequest) -> HttpResponse:
    """The goals of a period (by default the running month and quarter) with their pace."""
    chosen = _chosen(request)
    if isinstance(chosen, HttpResponse):
        return chosen
    today = timezone.localdate()
    sections = goal_sections(chosen=chosen)
    if csv_requested(request):
        period = period_value(*chosen) if chosen else "running"
        return csv_response(*goals_table(sections), csv_filename("tandem", "goals", period, today))
    context = {
        "sections": sections,
        "chosen": period_value(*chosen) if chosen else "",
        "periods": period_options(today=today, back=True, keep=chosen),
        "new_period": period_value("month", period_start("month", today)),
    }
    return render(request, "kpis/goals/list.html", context)


def _goal_form_page(
    request: HttpRequest, form: GoalForm, goal: Goal | None, status: int = 200
) -> HttpResponse:
    return render(request, "kpis/goals/form.html", {"form": form, "goal": goal}, status=status)


@require_http_methods(["GET", "POST"])
def goal_new(request: HttpRequest) -> HttpResponse:
    _managers_only(request, "set goals")
    today = timezone.localdate()
    if request.method == "GET":
        wanted = period_parse(request.GET.get("period", ""))
        initial = {
            "period": period_value(*wanted)
            if wanted
            else period_value("month", period_start("month", today)),
            "owner_team": Goal.Owner.BOTH,
            "weight": 1,
        }
        return _goal_form_page(request, GoalForm(initial=initial, today=today, keep=wanted), None)
    form = GoalForm(request.POST, today=today, keep=period_parse(request.POST.get("period", "")))
    if form.is_valid():
        try:
            goal = goal_create(by=request.user, **form.goal_fields())
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"Goal “{goal.name}” set.")
            return redirect("goal-detail", pk=goal.pk)
    return _goal_form_page(request, form, None, status=BAD_REQUEST)


@require_http_methods(["GET", "POST"])
def goal_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _managers_only(request, "change goals")
    goal = get_object_or_404(Goal, pk=pk)
    today = timezone.localdate()
    keep = (goal.period, goal.period_start)
    if request.method == "GET":
        form = GoalForm(initial=GoalForm.initial_of(goal), today=today, keep=keep)
        return _goal_form_page(request, form, goal)
    form = GoalForm(request.POST, today=today, keep=keep)
    if form.is_valid():
        try:
            goal = goal_update(goal=goal, by=request.user, **form.goal_fields())
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"Goal “{goal.name}” saved.")
            return redirect("goal-detail", pk=goal.pk)
    return _goal_form_page(request, form, goal, status=BAD_REQUEST)


def _goal_detail_page(
    request: HttpRequest,
    goal: Goal,
    check_in_form: CheckInForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    try:
        detail = goal_detail(goal=goal)
    except LookupError as error:  # its metric left the catalog
        raise Http404(str(error)) from error
    context = {
        "d": detail,
        "form": check_in_form or CheckInForm(),
        "error": error,
    }
    return render(request, "kpis/goals/detail.html", context, status=status)


@require_safe
def goal_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A goal: its progress against the period's elapsed share, and its check-ins."""
    return _goal_detail_page(request, get_object_or_404(Goal, pk=pk))


@require_POST
def goal_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    _managers_only(request, "delete goals")
    goal = get_object_or_404(Goal, pk=pk)
    try:
        goal_delete(goal=goal, by=request.user)
    except ValidationError as error:
        return _goal_detail_page(request, goal, error=" ".join(error.messages), status=BAD_REQUEST)
    messages.success(request, f"Goal “{goal.name}” deleted.")
    return redirect(f"{reverse('goal-list')}?period={period_value(goal.period, goal.period_start)}")


@require_POST
def goal_check_in_view(request: HttpRequest, pk: int) -> HttpResponse:
    """This week's check-in on a goal (a second one this week replaces the first)."""
    _managers_only(request, "check in on goals")
    goal = get_object_or_404(Goal, pk=pk)
    form = CheckInForm(request.POST)
    if form.is_valid():
        try:
            goal_check_in(goal=goal, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, "Check-in saved for this week.")
            return redirect("goal-detail", pk=goal.pk)
    return _goal_detail_page(request, goal, check_in_form=form, status=BAD_REQUEST)


# --- scorecard and payout curve -------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def scorecard(request: HttpRequest) -> HttpResponse:
    """The joint scorecard of a period (by default the running quarter), the same for everyone;
    managers set the payout curve here."""
    chosen = _chosen(request)
    if isinstance(chosen, HttpResponse):
        return chosen
    today = timezone.localdate()
    kind, start = chosen or ("quarter", period_start("quarter", today))
    status = 200
    if request.method == "GET" and csv_requested(request):
        card = scorecard_for(period=kind, start=period_start(kind, start))
        name = csv_filename("tandem", "scorecard", kind, card.period_start)
        return csv_response(*scorecard_table(card), name)
    if request.method == "POST":
        _managers_only(request, "set the payout curve")
        form = PayoutCurveForm(request.POST)
        if form.is_valid():
            try:
                payout_curve_set(
                    effective_from=form.cleaned_data["effective_from"],
                    by=request.user,
                    **form.points(),
                )
            except ValidationError as error:
                form.add_service_error(error)
            else:
                messages.success(request, "Payout curve saved.")
                return redirect(f"{reverse('scorecard')}?period={period_value(kind, start)}")
        status = BAD_REQUEST
    else:
        curve = payout_curve_for(period_start=next_period(kind, start))
        form = PayoutCurveForm(
            initial={
                "effective_from": today,
                **{name: getattr(curve, name) for name in CURVE_POINTS},
            }
        )
    context = {
        "s": scorecard_page(kind=kind, start=start),
        "periods": period_options(today=today, back=True, keep=(kind, start)),
        "form": form,
        "curves": payout_curve_list()[:10],
    }
    return render(request, "kpis/goals/scorecard.html", context, status=status)


# --- forecasts ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def forecast_list(request: HttpRequest) -> HttpResponse:
    """Revenue forecasts, entered before their period starts, with their accuracy after."""
    status = 200
    if request.method == "GET" and csv_requested(request):
        name = csv_filename("tandem", "forecasts", timezone.localdate())
        return csv_response(*forecasts_table(forecasts_page()), name)
    if request.method == "POST":
        _managers_only(request, "enter forecasts")
        form = ForecastForm(request.POST)
        if form.is_valid():
            try:
                forecast = revenue_forecast_set(by=request.user, **form.cleaned_data)
            except ValidationError as error:
                form.add_service_error(error)
            else:
                messages.success(request, f"Forecast saved: {forecast.amount:,.0f}.")
                return redirect("forecast-list")
        status = BAD_REQUEST
    else:
        today = timezone.localdate()
        form = ForecastForm(
            initial={
                "period": "quarter",
                "period_start": next_period("quarter", period_start("quarter", today)),
            }
        )
    context = {"f": forecasts_page(), "form": form}
    return render(request, "kpis/goals/forecasts.html", context, status=status)

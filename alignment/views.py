"""The profile page, and the Agreements pages: the SLA and the lead definition, their versions,
drafting and editing (managers), and each head's approval for their own team.

Everyone signed in reads every page; only managers (and admins) draft and edit, and only the
head of a team approves for it (the services decide; a refusal is a 403 that says why).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import BaseFormSet, Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from alignment import pages, selectors
from alignment.exports import versions_table
from alignment.forms import (
    BLANK_RULE_ROWS,
    RULES_PREFIX,
    LeadDefinitionForm,
    RuleForm,
    RuleFormSet,
    SlaForm,
    time_zone_names,
)
from alignment.models import DualSigned, LeadDefinition, ServiceLevelAgreement
from alignment.roles import user_is_manager
from alignment.selectors import api_token_for
from alignment.services.accounts import api_token_rotate
from alignment.services.lead_definitions import (
    lead_definition_approve,
    lead_definition_create,
    lead_definition_update,
)
from alignment.services.sla import sla_approve, sla_create, sla_update
from config.csv_export import csv_filename, csv_requested, csv_response


@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        api_token_rotate(user=request.user, by=request.user)
        messages.success(request, "A new API token was issued; the old one no longer works.")
        return redirect("profile")
    return render(request, "alignment/profile.html", {"token": api_token_for(user=request.user)})


# --- reading ---------------------------------------------------------------------------------


@require_GET
def agreements(request: HttpRequest) -> HttpResponse:
    context = pages.overview_page(user=request.user, now=timezone.now())
    return render(request, "alignment/agreements.html", context)


@require_GET
def sla_list(request: HttpRequest) -> HttpResponse:
    return _versions(request, ServiceLevelAgreement)


@require_GET
def lead_definition_list(request: HttpRequest) -> HttpResponse:
    return _versions(request, LeadDefinition)


def _versions(request: HttpRequest, model: type[DualSigned]) -> HttpResponse:
    """Every version of an agreement, newest first; `?format=csv`: the same as CSV."""
    now = timezone.now()
    context = pages.versions_page(model=model, user=request.user, now=now)
    if csv_requested(request):
        name = csv_filename("tandem", context["kind"].slug, "versions", timezone.localdate(now))
        return csv_response(*versions_table(context["rows"]), name)
    return render(request, "alignment/versions.html", context)


@require_GET
def sla_detail(request: HttpRequest, version: int) -> HttpResponse:
    sla = get_object_or_404(selectors.sla_list(), version=version)
    context = pages.version_page(version=sla, user=request.user, now=timezone.now())
    return render(request, "alignment/version_detail.html", context)


@require_GET
def lead_definition_detail(request: HttpRequest, version: int) -> HttpResponse:
    definition = get_object_or_404(selectors.lead_definition_list(), version=version)
    context = pages.version_page(version=definition, user=request.user, now=timezone.now())
    return render(request, "alignment/version_detail.html", context)


# --- drafting and editing (managers) --------------------------------------------------------

_MANAGERS_ONLY = (
    "Only managers (and admins) draft and edit versions of the agreements. "
    "Everyone can read them on the Agreements page."
)


def _refuse_unless_manager(request: HttpRequest) -> None:
    if not user_is_manager(request.user):
        raise PermissionDenied(_MANAGERS_ONLY)


def _show_errors(exc: ValidationError, form: Form, context: dict[str, Any]) -> None:
    """A service's ValidationError on the form: each named field on that field, the rules'
    problems above the rules (`rule_problems`), the rest above the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for name, errors in exc.error_dict.items():
        if name == "rules":
            context["rule_problems"] = [m for e in errors for m in e.messages]
        elif name in form.fields:
            form.add_error(name, errors)
        else:
            form.add_error(None, errors)


def _edit_page(request: HttpRequest, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    extra = {"time_zones": time_zone_names(), "blank_rows": BLANK_RULE_ROWS}
    return render(request, "alignment/version_form.html", context | extra, status=status)


def _done(request: HttpRequest, version: DualSigned, kind: pages.Kind, verb: str) -> HttpResponse:
    messages.success(
        request,
        f"{verb} {kind.label} v{version.version}. It takes effect once both heads approve it.",
    )
    return redirect(f"{kind.slug}-detail", version=version.version)


@require_http_methods(["GET", "POST"])
def sla_create_view(request: HttpRequest) -> HttpResponse:
    _refuse_unless_manager(request)
    now = timezone.now()
    current = selectors.sla_in_effect(at=now)
    form = SlaForm(request.POST or None, initial=SlaForm.initial_from(current, now=now))
    context = {"kind": pages.SLA, "form": form, "version": None, "based_on": current}
    if request.method == "POST":
        if form.is_valid():
            try:
                sla = sla_create(by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                _show_errors(exc, form, context)
            else:
                return _done(request, sla, pages.SLA, "Drafted")
        return _edit_page(request, context, status=400)
    return _edit_page(request, context)


def _draft_or_back(
    request: HttpRequest, version: DualSigned, kind: pages.Kind
) -> HttpResponse | None:
    """Approved versions are history: the edit page of one sends back to it (GET only)."""
    if version.is_approved and request.method == "GET":
        messages.error(
            request,
            f"{kind.capital} v{version.version} is approved and part of the "
            "history; draft a new version to change it.",
        )
        return redirect(f"{kind.slug}-detail", version=version.version)
    return None


@require_http_methods(["GET", "POST"])
def sla_edit(request: HttpRequest, version: int) -> HttpResponse:
    _refuse_unless_manager(request)
    sla = get_object_or_404(selectors.sla_list(), version=version)
    back = _draft_or_back(request, sla, pages.SLA)
    if back:
        return back
    form = SlaForm(request.POST or None, initial=SlaForm.initial_from(sla, now=timezone.now()))
    context = {
        "kind": pages.SLA,
        "form": form,
        "version": sla,
        "status": pages.version_status(sla, in_effect_id=None, now=timezone.now()),
        "warning": pages.approvals_warning(sla),
    }
    if request.method == "POST":
        if form.is_valid():
            try:
                sla_update(sla=sla, by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                _show_errors(exc, form, context)
            else:
                return _done(request, sla, pages.SLA, "Saved")
        return _edit_page(request, context, status=400)
    return _edit_page(request, context)


def _rules_formset(request: HttpRequest, definition: LeadDefinition | None) -> BaseFormSet:
    rules = pages.definition_rules(definition) if definition is not None else []
    initial = [RuleForm.initial_from(r) for r in rules]
    return RuleFormSet(request.POST or None, initial=initial, prefix=RULES_PREFIX)


@require_http_methods(["GET", "POST"])
def lead_definition_create_view(request: HttpRequest) -> HttpResponse:
    _refuse_unless_manager(request)
    now = timezone.now()
    current = selectors.lead_definition_in_effect(at=now)
    form = LeadDefinitionForm(
        request.POST or None, initial=LeadDefinitionForm.initial_from(current, now=now)
    )
    formset = _rules_formset(request, current)
    context = {
        "kind": pages.DEFINITION,
        "form": form,
        "formset": formset,
        "version": None,
        "based_on": current,
    }
    if request.method == "POST":
        if form.is_valid() and formset.is_valid():
            try:
                definition = lead_definition_create(
                    by=request.user, rules=formset.rules(), **form.cleaned_data
                )
            except ValidationError as exc:
                _show_errors(exc, form, context)
            else:
                return _done(request, definition, pages.DEFINITION, "Drafted")
        return _edit_page(request, context, status=400)
    return _edit_page(request, context)


@require_http_methods(["GET", "POST"])
def lead_definition_edit(request: HttpRequest, version: int) -> HttpResponse:
    _refuse_unless_manager(request)
    definition = get_object_or_404(selectors.lead_definition_list(), version=version)
    back = _draft_or_back(request, definition, pages.DEFINITION)
    if back:
        return back
    form = LeadDefinitionForm(
        request.POST or None,
        initial=LeadDefinitionForm.initial_from(definition, now=timezone.now()),
    )
    formset = _rules_formset(request, definition)
    context = {
        "kind": pages.DEFINITION,
        "form": form,
        "formset": formset,
        "version": definition,
        "status": pages.version_status(definition, in_effect_id=None, now=timezone.now()),
        "warning": pages.approvals_warning(definition),
    }
    if request.method == "POST":
        if form.is_valid() and formset.is_valid():
            try:
                lead_definition_update(
                    definition=definition,
                    by=request.user,
                    rules=formset.rules(),
                    **form.cleaned_data,
                )
            except ValidationError as exc:
                _show_errors(exc, form, context)
            else:
                return _done(request, definition, pages.DEFINITION, "Saved")
        return _edit_page(request, context, status=400)
    return _edit_page(request, context)


@require_POST
def scoring_rule_check(request: HttpRequest) -> HttpResponse:
    """One row of the rules editor, checked as it is typed (htmx): its problems, or the rule
    in words. The row is named by its form prefix (`rules-3`)."""
    _refuse_unless_manager(request)
    prefix = request.POST.get("prefix", "")
    if (
        not prefix.startswith(f"{RULES_PREFIX}-")
        or not prefix.removeprefix(f"{RULES_PREFIX}-").isdigit()
    ):
        return HttpResponse("Name the row to check (prefix rules-N).", status=400)
    form = RuleForm(request.POST, prefix=prefix)
    valid = form.is_valid()
    context = {
        "blank": form.is_blank(),
        "errors": [] if valid else [m for errors in form.errors.values() for m in errors],
        "words": pages.rule_words(form.rule()) if valid and not form.is_blank() else "",
    }
    return render(request, "alignment/partials/rule_check.html", context)


# --- approving (the head of each team, for that team) ---------------------------------------


def _approve(
    request: HttpRequest, version: DualSigned, kind: pages.Kind, approve: Any
) -> HttpResponse:
    team = selectors.user_heads_team(user=request.user)
    already = team is not None and version.approval_of(team)[1] is not None
    try:
        approved = approve(by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        name = f"{kind.capital} v{approved.version}"
        if already:
            messages.info(request, f"You had already approved {name} for {team}.")
        elif approved.is_approved:
            status = pages.version_status(
                approved,
                in_effect_id=getattr(
                    pages.version_in_effect(type(approved), timezone.now()), "pk", None
                ),
                now=timezone.now(),
            )
            messages.success(request, f"You approved {name} for {team}: both heads signed, "
                             f"it is {status.label}.")  # fmt: skip
        else:
            other = "sales" if str(team) == "marketing" else "marketing"
            messages.success(
                request, f"You approved {name} for {team}. It waits for the head of {other}."
            )
    return redirect(f"{kind.slug}-detail", version=version.version)


@require_POST
def sla_approve_view(request: HttpRequest, version: int) -> HttpResponse:
    sla = get_object_or_404(ServiceLevelAgreement, version=version)
    seen = request.POST.get("seen") or None
    return _approve(request, sla, pages.SLA, lambda by: sla_approve(sla=sla, by=by, seen=seen))


@require_POST
def lead_definition_approve_view(request: HttpRequest, version: int) -> HttpResponse:
    definition = get_object_or_404(LeadDefinition, version=version)
    return _approve(
        request,
        definition,
        pages.DEFINITION,
        lambda by: lead_definition_approve(
            definition=definition, by=by, seen=request.POST.get("seen") or None
        ),
    )

"""Admin of the alignment app. Writes go through the services, so the admin obeys the same
rules as the API: drafts change (clearing approvals), approved versions are read-only, only a
head approves, goals of a finished period are final."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from alignment.models import (
    AuditEntry,
    Goal,
    LeadDefinition,
    PayoutCurve,
    RescoreJob,
    RevenueForecast,
    RoundRobinMember,
    SalPaceAlert,
    ServiceLevelAgreement,
    SlaBreach,
    TeamHead,
)
from alignment.scorecard import CURVE_POINTS
from alignment.services.accounts import (
    team_head_clean,
    team_head_set,
    user_access,
    user_access_record,
)
from alignment.services.forecasts import revenue_forecast_clean, revenue_forecast_set
from alignment.services.goals import (
    GOAL_FIELDS,
    goal_check_deletable,
    goal_clean,
    goal_create,
    goal_delete,
    goal_update,
    goals_delete,
)
from alignment.services.lead_definitions import (
    DEFINITION_FIELDS,
    lead_definition_approve,
    lead_definition_clean,
    lead_definition_create,
    lead_definition_delete,
    lead_definition_update,
    scoring_rules_clean,
)
from alignment.services.payout_curves import payout_curve_clean, payout_curve_set
from alignment.services.sla import (
    SLA_FIELDS,
    sla_approve,
    sla_clean,
    sla_create,
    sla_delete,
    sla_update,
)

APPROVAL_FIELDS = [
    "status",
    "marketing_approved_by",
    "marketing_approved_at",
    "sales_approved_by",
    "sales_approved_at",
    "approved_at",
    "applied_at",
    "version",
    "created_by",
    "created_at",
    "updated_at",
]


def _report(request: HttpRequest, exc: Exception) -> None:
    text = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    messages.error(request, text)


class _ServiceCheckedForm(forms.ModelForm):
    """Runs the service's own checks in `clean`, so bad input is a form error, never a 500."""

    def service_check(self, values: dict[str, Any]) -> None:
        raise NotImplementedError

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not self.errors:
            try:
                self.service_check(dict(cleaned))
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    for field, errors in exc.message_dict.items():
                        self.add_error(field if field in self.fields else None, errors)
                else:
                    self.add_error(None, exc.messages)
        return cleaned


class SlaForm(_ServiceCheckedForm):
    class Meta:
        model = ServiceLevelAgreement
        fields = list(SLA_FIELDS)

    def service_check(self, values: dict[str, Any]) -> None:
        sla_clean(values=values)


class _VersionAdmin(admin.ModelAdmin):
    """Shared by the SLA and the lead definition: drafts edit, approved versions are history.
    Deletes go through the service (audited; an approved version is refused)."""

    list_filter = ["status"]
    actions = ["approve_for_my_team", "delete_drafts"]
    editable: tuple[str, ...] = ()

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # it would bypass the service
        return actions

    @admin.action(description="Delete selected drafts (not approved versions)")
    def delete_drafts(self, request: HttpRequest, queryset: QuerySet) -> None:
        try:
            self.delete_queryset(request, queryset)
        except ValidationError as exc:
            _report(request, exc)
            return
        messages.success(request, "Deleted.")

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        with transaction.atomic():  # all or none: an approved version refuses the lot
            for version in queryset:
                self.delete(version=version, by=request.user)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self.delete(version=obj, by=request.user)

    def delete(self, *, version: Any, by: Any) -> None:
        raise NotImplementedError

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is not None and obj.is_approved:
            return [*APPROVAL_FIELDS, *self.editable]
        return APPROVAL_FIELDS

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or not obj.is_approved

    @admin.action(description="Approve for the team I head")
    def approve_for_my_team(self, request: HttpRequest, queryset: QuerySet) -> None:
        for version in queryset:
            try:
                self.approve(version=version, by=request.user)
            except (PermissionDenied, ValidationError) as exc:
                _report(request, exc)
                return
        messages.success(request, "Approved.")

    def approve(self, *, version: Any, by: Any) -> None:
        raise NotImplementedError


@admin.register(ServiceLevelAgreement)
class ServiceLevelAgreementAdmin(_VersionAdmin):
    form = SlaForm
    list_display = [
        "version",
        "status",
        "effective_from",
        "first_contact_hours",
        "attempts",
        "attempt_spacing_days",
        "monthly_sal_commitment",
        "marketing_approved_by",
        "sales_approved_by",
    ]
    editable = SLA_FIELDS

    def save_model(
        self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool
    ) -> None:
        values = {name: form.cleaned_data.get(name) for name in self.editable}
        if change:
            saved = sla_update(sla=obj, by=request.user, **values)
        else:
            saved = sla_create(by=request.user, **values)
        obj.pk = saved.pk
        obj.refresh_from_db()

    def approve(self, *, version: Any, by: Any) -> None:
        sla_approve(sla=version, by=by)

    def delete(self, *, version: Any, by: Any) -> None:
        sla_delete(sla=version, by=by)


class LeadDefinitionForm(_ServiceCheckedForm):
    rules_json = forms.CharField(
        label="Scoring rules",
        widget=forms.Textarea(attrs={"rows": 12, "cols": 90}),
        required=False,
        help_text='A JSON list, e.g. [{"field": "company.size", "operator": "gte", '
        '"value": 200, "points": 30}]. Operators: equals, contains, in, gte, lte, exists.',
    )

    class Meta:
        model = LeadDefinition
        fields = list(DEFINITION_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            rules = [
                {"field": r.field, "operator": r.operator, "value": r.value, "points": r.points}
                for r in self.instance.rules.order_by("position")
            ]
            self.initial["rules_json"] = json.dumps(rules, indent=2)

    def clean_rules_json(self) -> list[dict[str, Any]]:
        text = self.cleaned_data.get("rules_json") or "[]"
        try:
            rules = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc}") from None
        if not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules):
            raise forms.ValidationError("Give a list of rule objects.")
        return rules

    def service_check(self, values: dict[str, Any]) -> None:
        rules = values.pop("rules_json", [])
        lead_definition_clean(values=values)
        try:
            scoring_rules_clean(rules=rules)
        except ValidationError as exc:
            raise ValidationError({"rules_json": exc.message_dict["rules"]}) from None


@admin.register(LeadDefinition)
class LeadDefinitionAdmin(_VersionAdmin):
    form = LeadDefinitionForm
    list_display = [
        "version",
        "status",
        "effective_from",
        "mql_threshold",
        "marketing_approved_by",
        "sales_approved_by",
    ]
    editable = DEFINITION_FIELDS

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = [*self.editable, *APPROVAL_FIELDS]
        if obj is None or not obj.is_approved:
            fields.insert(len(self.editable), "rules_json")
        else:
            fields.append("rules_display")
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = super().get_readonly_fields(request, obj)
        return [*fields, "rules_display"] if obj is not None and obj.is_approved else fields

    @admin.display(description="Scoring rules")
    def rules_display(self, obj: LeadDefinition) -> str:
        return "\n".join(str(rule) for rule in obj.rules.order_by("position"))

    def save_model(
        self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool
    ) -> None:
        values = {name: form.cleaned_data.get(name) for name in self.editable}
        rules = form.cleaned_data.get("rules_json") or []
        if change:
            saved = lead_definition_update(definition=obj, by=request.user, rules=rules, **values)
        else:
            saved = lead_definition_create(by=request.user, rules=rules, **values)
        obj.pk = saved.pk
        obj.refresh_from_db()

    def approve(self, *, version: Any, by: Any) -> None:
        lead_definition_approve(definition=version, by=by)

    def delete(self, *, version: Any, by: Any) -> None:
        lead_definition_delete(definition=version, by=by)


class TeamHeadForm(_ServiceCheckedForm):
    class Meta:
        model = TeamHead
        fields = ["team", "user"]

    def service_check(self, values: dict[str, Any]) -> None:
        team_head_clean(team=values.get("team"), user=values.get("user"))


@admin.register(TeamHead)
class TeamHeadAdmin(admin.ModelAdmin):
    form = TeamHeadForm
    list_display = ["team", "user", "appointed_at", "appointed_by"]
    readonly_fields = ["appointed_at", "appointed_by"]
    raw_id_fields = ["user"]

    def save_model(
        self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool
    ) -> None:
        saved = team_head_set(team=obj.team, user=obj.user, by=request.user)
        obj.pk = saved.pk


@admin.register(RoundRobinMember)
class RoundRobinMemberAdmin(admin.ModelAdmin):
    list_display = ["user", "position", "active", "assigned_count", "last_turn"]
    list_editable = ["position", "active"]
    readonly_fields = ["assigned_count", "last_turn"]
    raw_id_fields = ["user"]


class GoalForm(_ServiceCheckedForm):
    class Meta:
        model = Goal
        fields = list(GOAL_FIELDS)

    def service_check(self, values: dict[str, Any]) -> None:
        goal_clean(values=values, now=timezone.now())


@admin.register(Goal)
class GoalAdmin(admin.ModelAdmin):
    """Deletes go through the service too: a goal of a finished period is final."""

    form = GoalForm
    list_display = ["name", "metric", "target", "direction", "period", "period_start", "weight"]
    list_filter = ["period", "metric"]
    actions = ["delete_goals"]

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # it would bypass goal_delete
        return actions

    @admin.action(description="Delete selected goals (not those of a finished period)")
    def delete_goals(self, request: HttpRequest, queryset: QuerySet) -> None:
        try:
            count = goals_delete(goals=list(queryset), by=request.user)
        except ValidationError as exc:
            _report(request, exc)
            return
        messages.success(request, f"Deleted {count} goal{'s' if count != 1 else ''}.")

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict | None = None
    ) -> HttpResponse:
        goal = self.get_object(request, unquote(object_id))
        if goal is not None:
            try:
                goal_check_deletable(goal=goal)
            except ValidationError as exc:
                _report(request, exc)
                return redirect(reverse("admin:alignment_goal_change", args=[goal.pk]))
        return super().delete_view(request, object_id, extra_context)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        goals_delete(goals=list(queryset), by=request.user)

    def save_model(
        self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool
    ) -> None:
        values = {name: form.cleaned_data.get(name) for name in GOAL_FIELDS}
        if change:
            saved = goal_update(goal=obj, by=request.user, **values)
        else:
            saved = goal_create(by=request.user, **values)
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        goal_delete(goal=obj, by=request.user)


class RevenueForecastForm(_ServiceCheckedForm):
    class Meta:
        model = RevenueForecast
        fields = ["period", "period_start", "amount", "note"]

    def service_check(self, values: dict[str, Any]) -> None:
        revenue_forecast_clean(
            period=values.get("period"),
            period_start=values.get("period_start"),
            amount=values.get("amount"),
            now=timezone.now(),
        )


@admin.register(RevenueForecast)
class RevenueForecastAdmin(admin.ModelAdmin):
    form = RevenueForecastForm
    list_display = ["period", "period_start", "amount", "entered_by", "entered_at"]
    list_filter = ["period"]
    readonly_fields = ["entered_by", "entered_at"]

    def save_model(
        self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool
    ) -> None:
        saved = revenue_forecast_set(
            period=obj.period,
            period_start=obj.period_start,
            amount=obj.amount,
            note=obj.note,
            by=request.user,
        )
        obj.pk = saved.pk


class PayoutCurveForm(_ServiceCheckedForm):
    class Meta:
        model = PayoutCurve
        fields = ["effective_from", *CURVE_POINTS]

    def service_check(self, values: dict[str, Any]) -> None:
        payout_curve_clean(
            effective_from=values.get("effective_from"),
            now=timezone.now(),
            **{name: values.get(name) for name in CURVE_POINTS},
        )


@admin.register(PayoutCurve)
class PayoutCurveAdmin(admin.ModelAdmin):
    form = PayoutCurveForm
    list_display = [
        "effective_from",
        "threshold",
        "threshold_payout",
        "target",
        "cap",
        "cap_payout",
    ]
    readonly_fields = ["created_by", "created_at"]

    def save_model(
        self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool
    ) -> None:
        saved = payout_curve_set(
            effective_from=obj.effective_from,
            by=request.user,
            threshold=obj.threshold,
            threshold_payout=obj.threshold_payout,
            target=obj.target,
            cap=obj.cap,
            cap_payout=obj.cap_payout,
        )
        obj.pk = saved.pk


class _ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SlaBreach)
class SlaBreachAdmin(_ReadOnlyAdmin):
    list_display = ["handoff", "kind", "attempt", "due_at", "detected_at", "notified_at"]
    list_filter = ["kind"]
    list_select_related = ["handoff__lead"]


@admin.register(SalPaceAlert)
class SalPaceAlertAdmin(_ReadOnlyAdmin):
    list_display = ["month", "sals", "commitment", "projected", "sent_at"]


@admin.register(RescoreJob)
class RescoreJobAdmin(_ReadOnlyAdmin):
    list_display = ["definition", "status", "done", "total", "handed_off", "created_at"]
    list_filter = ["status"]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The audit log, to read: nobody adds, changes or deletes an entry, superusers included
    (the services write them; the database refuses an update or a delete too). The page for
    managers is /audit/."""

    list_display = ["at", "actor_name", "action", "target_type", "target_label"]
    search_fields = ["=actor_name", "action", "target_label"]
    show_full_result_count = False  # the log is long: no second COUNT of it
    fields = [
        "at", "actor", "actor_name", "action", "target_type", "target_id", "target_label",
        "changes", "details", "note",
    ]  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class AuditedUserAdmin(UserAdmin):
    """Django's user admin, where the admin gives people their role (a group), lets them sign
    in or not, and makes them staff or superuser: every such change goes into the audit log.
    The form saves the user and then their groups itself, so the access is read before the
    first write and recorded after the last (`user_access_record`), in the admin's transaction."""

    def save_model(
        self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool
    ) -> None:
        obj._access_before = user_access(obj) if change else None
        super().save_model(request, obj, form, change)

    def save_related(
        self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)
        user = form.instance
        user_access_record(user=user, by=request.user, before=user._access_before)

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Model, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from leads.models import (
    Campaign,
    Channel,
    ContactAttempt,
    Deal,
    Dispute,
    Handoff,
    Lead,
    RejectionReason,
    StageEvent,
    Touch,
)
from leads.selectors import campaign_lead_ids
from leads.services import funnel_record_change
from leads.services_channels import channel_merge


class KeepsMetricsTrue(admin.ModelAdmin):
    """Admin edits of funnel records replay the leads they touch and mark their periods dirty."""

    def lead_ids(self, obj: Model) -> set[int]:
        return {obj.lead_id}

    def spans(self, obj: Model) -> list[tuple[date, date]]:
        return []

    def _before(self, obj: Model) -> tuple[set[int], list[tuple[date, date]]]:
        if obj.pk is None:
            return set(), []
        old = type(obj).objects.get(pk=obj.pk)
        return self.lead_ids(old), self.spans(old)

    def save_model(self, request: HttpRequest, obj: Model, form: ModelForm, change: bool) -> None:
        ids, spans = self._before(obj)

        def save() -> set[int]:
            super(KeepsMetricsTrue, self).save_model(request, obj, form, change)
            return self.lead_ids(obj)

        funnel_record_change(
            change=save, lead_ids=ids, spans=spans + self.spans(obj), by=request.user
        )

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        funnel_record_change(
            change=lambda: super(KeepsMetricsTrue, self).delete_model(request, obj),
            lead_ids=self.lead_ids(obj),
            spans=self.spans(obj),
            by=request.user,
        )

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        objs: Iterable[Model] = list(queryset)
        funnel_record_change(
            change=lambda: super(KeepsMetricsTrue, self).delete_queryset(request, queryset),
            lead_ids={pk for obj in objs for pk in self.lead_ids(obj)},
            spans=[span for obj in objs for span in self.spans(obj)],
            by=request.user,
        )


class ChannelMergeForm(forms.Form):
    into = forms.ModelChoiceField(queryset=Channel.objects.none(), label="Merge into")

    def __init__(self, *args: object, exclude: QuerySet[Channel], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["into"].queryset = Channel.objects.exclude(pk__in=exclude.values("pk"))


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    """Rename a channel (its label; the key stays, so its numbers do) or merge channels into one:
    their campaigns move, the numbers follow after the recompute the merge queues."""

    list_display = ["label", "key", "colour", "campaign_count"]
    search_fields = ["key", "label"]
    actions = ["merge"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Channel]:
        return super().get_queryset(request).annotate(campaign_count=Count("campaigns"))

    @admin.display(description="Campaigns", ordering="campaign_count")
    def campaign_count(self, obj: Channel) -> int:
        return obj.campaign_count

    def get_readonly_fields(self, request: HttpRequest, obj: Channel | None = None) -> list[str]:
        return ["key"] if obj is not None else []  # campaigns and snapshots hold the key

    @admin.action(description="Merge the selected channels into another channel…")
    def merge(self, request: HttpRequest, queryset: QuerySet[Channel]) -> HttpResponse | None:
        form = ChannelMergeForm(request.POST if "apply" in request.POST else None, exclude=queryset)
        if form.is_valid():
            into = form.cleaned_data["into"]
            moved = 0
            try:
                for source in list(queryset):
                    moved += channel_merge(source=source, into=into, by=request.user)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)
                return None
            self.message_user(
                request,
                f"Merged into {into.label}: {moved} campaign(s) moved. The numbers follow "
                "after the recompute.",
                messages.SUCCESS,
            )
            return None
        return TemplateResponse(
            request,
            "admin/leads/channel/merge.html",
            {
                **self.admin_site.each_context(request),
                "title": "Merge channels",
                "opts": self.model._meta,
                "channels": queryset,
                "form": form,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )


@admin.register(Campaign)
class CampaignAdmin(KeepsMetricsTrue):
    list_display = ["name", "channel", "starts_on", "ends_on", "cost", "external_id"]
    list_filter = ["channel"]
    search_fields = ["name", "external_id"]

    def lead_ids(self, obj: Campaign) -> set[int]:
        # Its channel and key are dimensions of its leads' records and of its touches' credit.
        return campaign_lead_ids(campaign_ids=[obj.pk]) if obj.pk else set()

    def spans(self, obj: Campaign) -> list[tuple[date, date]]:
        return [(obj.starts_on, obj.ends_on)]


@admin.register(Lead)
class LeadAdmin(KeepsMetricsTrue):
    list_display = ["external_id", "name", "company", "stage", "owner", "created_at"]
    list_filter = ["stage", "segment"]
    search_fields = ["external_id", "email", "name", "company"]
    raw_id_fields = ["campaign", "owner"]
    readonly_fields = ["stage", "stage_changed_at"]
    list_select_related = ["owner"]

    def lead_ids(self, obj: Lead) -> set[int]:
        return {obj.pk} if obj.pk else set()


@admin.register(Touch)
class TouchAdmin(KeepsMetricsTrue):
    list_display = ["external_id", "lead", "campaign", "kind", "occurred_at"]
    raw_id_fields = ["lead", "campaign"]
    list_select_related = ["lead", "campaign"]


@admin.register(StageEvent)
class StageEventAdmin(admin.ModelAdmin):
    """Stage events are append-only: the admin shows them but does not edit them."""

    list_display = ["lead", "stage", "occurred_at", "actor", "reason", "source"]
    list_filter = ["stage", "source"]
    raw_id_fields = ["lead", "actor"]
    list_select_related = ["lead", "actor"]

    def has_change_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False


@admin.register(Handoff)
class HandoffAdmin(admin.ModelAdmin):
    """Handoffs follow from stage events; change them by recording a stage event."""

    list_display = ["lead", "handed_at", "owner", "status", "decided_at", "reason", "rating"]
    list_filter = ["status", "reason"]
    raw_id_fields = ["lead", "owner", "decided_by"]
    readonly_fields = [
        "handed_at", "status", "decided_at", "decided_by", "reason", "opening_event",
        "closing_event", "won_after_decision", "disqualified_after_decision",
    ]  # fmt: skip
    list_select_related = ["lead", "owner", "reason"]


@admin.register(Dispute)
class DisputeAdmin(KeepsMetricsTrue):
    """Disputes are raised and settled in the app (`/leads/disputes/`), by marketing and the two
    heads; the admin shows them, and may delete one (to delete its lead), which logs the days
    of the rates it was counted in (its rejection's and its settling's)."""

    list_display = ["handoff", "status", "outcome", "raised_by", "raised_at", "resolved_at"]
    list_filter = ["status", "outcome"]
    list_select_related = ["handoff__lead", "raised_by"]

    def lead_ids(self, obj: Dispute) -> set[int]:
        return {obj.handoff.lead_id}

    def has_add_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False


@admin.register(RejectionReason)
class RejectionReasonAdmin(admin.ModelAdmin):
    list_display = ["code", "label", "active", "position"]
    list_editable = ["label", "active", "position"]


@admin.register(ContactAttempt)
class ContactAttemptAdmin(KeepsMetricsTrue):
    list_display = ["lead", "occurred_at", "channel", "outcome", "actor"]
    list_filter = ["channel", "outcome"]
    raw_id_fields = ["lead", "actor"]
    list_select_related = ["lead", "actor"]


@admin.register(Deal)
class DealAdmin(KeepsMetricsTrue):
    list_display = ["external_id", "lead", "amount", "status", "created_at", "closed_at"]
    list_filter = ["status"]
    raw_id_fields = ["lead"]
    list_select_related = ["lead"]

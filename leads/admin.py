from __future__ import annotations

from django.contrib import admin

from leads.models import (
    Campaign,
    ContactAttempt,
    Deal,
    Handoff,
    Lead,
    RejectionReason,
    StageEvent,
    Touch,
)


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "channel", "starts_on", "ends_on", "cost", "external_id"]
    list_filter = ["channel"]
    search_fields = ["name", "external_id"]


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = ["external_id", "name", "company", "stage", "owner", "created_at"]
    list_filter = ["stage", "segment"]
    search_fields = ["external_id", "email", "name", "company"]
    raw_id_fields = ["campaign", "owner"]
    readonly_fields = ["stage", "stage_changed_at"]
    list_select_related = ["owner"]


@admin.register(Touch)
class TouchAdmin(admin.ModelAdmin):
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
    readonly_fields = ["handed_at", "status", "decided_at", "decided_by", "reason"]
    list_select_related = ["lead", "owner", "reason"]


@admin.register(RejectionReason)
class RejectionReasonAdmin(admin.ModelAdmin):
    list_display = ["code", "label", "active", "position"]
    list_editable = ["label", "active", "position"]


@admin.register(ContactAttempt)
class ContactAttemptAdmin(admin.ModelAdmin):
    list_display = ["lead", "occurred_at", "channel", "outcome", "actor"]
    list_filter = ["channel", "outcome"]
    raw_id_fields = ["lead", "actor"]
    list_select_related = ["lead", "actor"]


@admin.register(Deal)
class DealAdmin(admin.ModelAdmin):
    list_display = ["external_id", "lead", "amount", "status", "created_at", "closed_at"]
    list_filter = ["status"]
    raw_id_fields = ["lead"]
    list_select_related = ["lead"]

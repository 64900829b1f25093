"""The KPI engine's records an admin may need to look at: the change log's entries it could not
recompute (to find the record behind one, and to dismiss it), and the full recompute jobs."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from kpis.models import ChangeSetAside, RecomputeJob


class _ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ChangeSetAside)
class ChangeSetAsideAdmin(_ReadOnlyAdmin):
    """Read-only; deleting one dismisses it (a write to its day logs it again)."""

    list_display = ["period", "period_start", "part", "error", "failed_at"]
    list_filter = ["period"]


@admin.register(RecomputeJob)
class RecomputeJobAdmin(_ReadOnlyAdmin):
    list_display = ["created_at", "status", "since", "until", "done_units", "failed_units",
                    "total_units", "heartbeat_at", "requested_by"]  # fmt: skip
    list_filter = ["status"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

from __future__ import annotations

from django.contrib import admin

from alignment.models import ServiceLevelAgreement


@admin.register(ServiceLevelAgreement)
class ServiceLevelAgreementAdmin(admin.ModelAdmin):
    list_display = [
        "version",
        "status",
        "effective_from",
        "first_contact_hours",
        "attempts",
        "attempt_spacing_days",
        "monthly_sal_commitment",
    ]
    list_filter = ["status"]

"""The audit log page, mounted at /audit/."""

from __future__ import annotations

from django.urls import path

from alignment import views_audit

urlpatterns = [path("", views_audit.audit_list, name="audit-list")]

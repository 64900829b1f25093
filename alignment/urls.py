"""The Agreements pages, mounted at /agreements/."""

from __future__ import annotations

from django.urls import path

from alignment import views

urlpatterns = [
    path("", views.agreements, name="agreements"),
    path("sla/", views.sla_list, name="sla-list"),
    path("sla/new/", views.sla_create_view, name="sla-create"),
    path("sla/<int:version>/", views.sla_detail, name="sla-detail"),
    path("sla/<int:version>/edit/", views.sla_edit, name="sla-edit"),
    path("sla/<int:version>/approve/", views.sla_approve_view, name="sla-approve"),
    path("lead-definition/", views.lead_definition_list, name="lead-definition-list"),
    path("lead-definition/new/", views.lead_definition_create_view, name="lead-definition-create"),
    path("lead-definition/rules/check/", views.scoring_rule_check, name="scoring-rule-check"),
    path(
        "lead-definition/<int:version>/",
        views.lead_definition_detail,
        name="lead-definition-detail",
    ),
    path(
        "lead-definition/<int:version>/edit/",
        views.lead_definition_edit,
        name="lead-definition-edit",
    ),
    path(
        "lead-definition/<int:version>/approve/",
        views.lead_definition_approve_view,
        name="lead-definition-approve",
    ),
]

from __future__ import annotations

from django.urls import path, register_converter
from django.urls.converters import PathConverter

from kpis import views, views_campaigns, views_evidence, views_goals, views_meetings


class ExternalIdConverter(PathConverter):
    """An external id as a source system wrote it: any characters, "/" and line breaks too."""

    regex = r"[\s\S]+"


register_converter(ExternalIdConverter, "external_id")

urlpatterns = [
    path("", views.home, name="home"),
    path("csv/<slug:dataset>/", views.dashboard_csv, name="dashboard-csv"),
    path("recompute/", views.recompute, name="recompute"),
    path("recompute/<uuid:pk>/retry/", views.recompute_retry, name="recompute-retry"),
    path("meeting/", views.meeting_view, name="meeting"),
    path("meeting/section/<slug:slug>/", views.meeting_section, name="meeting-section"),
    path("meeting/start/", views_meetings.meeting_start, name="meeting-start"),
    path("campaigns/", views.campaign_list, name="campaign-list"),
    path(
        "campaigns/<external_id:external_id>/csv/<slug:dataset>/",
        views.campaign_csv,
        name="campaign-csv",
    ),
    path(
        "campaigns/<external_id:external_id>/rate/",
        views_campaigns.campaign_rate_view,
        name="campaign-rate",
    ),
    path(
        "campaigns/<external_id:external_id>/ratings/<int:pk>/delete/",
        views_campaigns.campaign_rating_delete_view,
        name="campaign-rating-delete",
    ),
    path(
        "campaigns/<external_id:external_id>/post-mortem/",
        views_campaigns.campaign_postmortem_view,
        name="campaign-postmortem",
    ),
    path(
        "campaigns/<external_id:external_id>/post-mortem/start/",
        views_campaigns.campaign_postmortem_start_view,
        name="campaign-postmortem-start",
    ),
    # Last of the campaign pages: an external id may hold "/" (`path`), so the detail's pattern
    # would also match the addresses above.
    path(
        "campaigns/<external_id:external_id>/", views.campaign_detail_view, name="campaign-detail"
    ),
    path("evidence/<slug:fact>/", views_evidence.evidence_list_view, name="evidence-list"),
    path("definitions/", views.definitions, name="definitions"),
    path("goals/", views_goals.goal_list, name="goal-list"),
    path("goals/new/", views_goals.goal_new, name="goal-new"),
    path("goals/<int:pk>/", views_goals.goal_detail_view, name="goal-detail"),
    path("goals/<int:pk>/edit/", views_goals.goal_edit, name="goal-edit"),
    path("goals/<int:pk>/delete/", views_goals.goal_delete_view, name="goal-delete"),
    path("goals/<int:pk>/check-in/", views_goals.goal_check_in_view, name="goal-check-in"),
    path("scorecard/", views_goals.scorecard, name="scorecard"),
    path("forecasts/", views_goals.forecast_list, name="forecast-list"),
]

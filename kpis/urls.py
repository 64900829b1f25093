from __future__ import annotations

from django.urls import path

from kpis import views

urlpatterns = [
    path("", views.home, name="home"),
    path("csv/<slug:dataset>/", views.dashboard_csv, name="dashboard-csv"),
    path("recompute/", views.recompute, name="recompute"),
    path("meeting/", views.meeting_view, name="meeting"),
    path("meeting/section/<slug:slug>/", views.meeting_section, name="meeting-section"),
    path("campaigns/", views.campaign_list, name="campaign-list"),
    path("campaigns/<str:external_id>/", views.campaign_detail_view, name="campaign-detail"),
    path(
        "campaigns/<str:external_id>/csv/<slug:dataset>/",
        views.campaign_csv,
        name="campaign-csv",
    ),
    path("definitions/", views.definitions, name="definitions"),
]

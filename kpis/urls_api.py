from __future__ import annotations

from django.urls import path

from kpis import api

urlpatterns = [
    path("kpis/", api.KpiList.as_view(), name="api-kpis"),
    path("recompute/", api.RecomputeStart.as_view(), name="api-recompute"),
    path("recompute/<uuid:pk>/", api.RecomputeStatus.as_view(), name="api-recompute-status"),
]

from __future__ import annotations

from django.urls import path

from kpis import api, api_scorecard

urlpatterns = [
    path("kpis/", api.KpiList.as_view(), name="api-kpis"),
    path("recompute/", api.RecomputeStart.as_view(), name="api-recompute"),
    path("recompute/<uuid:pk>/", api.RecomputeStatus.as_view(), name="api-recompute-status"),
    path("recompute/<uuid:pk>/retry/", api.RecomputeRetry.as_view(), name="api-recompute-retry"),
    path("goals/", api_scorecard.GoalList.as_view(), name="api-goals"),
    path("goals/<int:pk>/", api_scorecard.GoalDetail.as_view(), name="api-goal"),
    path("scorecard/", api_scorecard.ScorecardView.as_view(), name="api-scorecard"),
    path("forecasts/", api_scorecard.ForecastList.as_view(), name="api-forecasts"),
]

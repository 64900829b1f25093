from __future__ import annotations

from django.urls import path

from alignment import api

urlpatterns = [
    path("team-heads/", api.TeamHeadList.as_view(), name="api-team-heads"),
    path("slas/", api.SlaList.as_view(), name="api-slas"),
    path("slas/<int:pk>/", api.SlaDetail.as_view(), name="api-sla"),
    path("slas/<int:pk>/approve/", api.SlaApprove.as_view(), name="api-sla-approve"),
    path("lead-definitions/", api.LeadDefinitionList.as_view(), name="api-lead-definitions"),
    path(
        "lead-definitions/<int:pk>/", api.LeadDefinitionDetail.as_view(), name="api-lead-definition"
    ),
    path(
        "lead-definitions/<int:pk>/approve/",
        api.LeadDefinitionApprove.as_view(),
        name="api-lead-definition-approve",
    ),
    path(
        "lead-definitions/<int:pk>/rescore/",
        api.LeadDefinitionRescore.as_view(),
        name="api-lead-definition-rescore",
    ),
    path("rescore-jobs/<uuid:pk>/", api.RescoreJobDetail.as_view(), name="api-rescore-job"),
    path("round-robin/", api.RoundRobin.as_view(), name="api-round-robin"),
    path("goals/", api.GoalList.as_view(), name="api-goals"),
    path("goals/<int:pk>/", api.GoalDetail.as_view(), name="api-goal"),
    path("scorecard/", api.ScorecardView.as_view(), name="api-scorecard"),
    path("payout-curves/", api.PayoutCurveList.as_view(), name="api-payout-curves"),
    path("forecasts/", api.ForecastList.as_view(), name="api-forecasts"),
    path("sla-breaches/", api.SlaBreachList.as_view(), name="api-sla-breaches"),
]

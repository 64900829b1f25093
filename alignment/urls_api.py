from __future__ import annotations

from django.urls import path

from alignment import api, api_campaign_ratings

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
    path("round-robin/", api.RoundRobin.as_view(), name="api-round-robin"),
    path("payout-curves/", api.PayoutCurveList.as_view(), name="api-payout-curves"),
    path(
        "campaigns/<str:external_id>/ratings/",
        api_campaign_ratings.CampaignRatingList.as_view(),
        name="api-campaign-ratings",
    ),
    path(
        "campaigns/<str:external_id>/ratings/<int:pk>/",
        api_campaign_ratings.CampaignRatingDetail.as_view(),
        name="api-campaign-rating",
    ),
]

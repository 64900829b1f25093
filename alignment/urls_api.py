from __future__ import annotations

from django.urls import path

from alignment import api, api_shadowing, api_spotlights

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
]

# --- working together: spotlights and shadowing ---------------------------------------------
urlpatterns += [
    path("spotlights/", api_spotlights.SpotlightList.as_view(), name="api-spotlights"),
    path("spotlights/<int:pk>/", api_spotlights.SpotlightDetail.as_view(), name="api-spotlight"),
    path(
        "spotlights/<int:pk>/thanks/",
        api_spotlights.SpotlightThanks.as_view(),
        name="api-spotlight-thanks",
    ),
    path("shadowing/", api_shadowing.ShadowingList.as_view(), name="api-shadowing"),
    path(
        "shadowing/<int:pk>/", api_shadowing.ShadowingDetail.as_view(), name="api-shadowing-session"
    ),
    path("shadowing/<int:pk>/log/", api_shadowing.ShadowingLog.as_view(), name="api-shadowing-log"),
    path(
        "shadowing/<int:pk>/debrief/",
        api_shadowing.ShadowingDebrief.as_view(),
        name="api-shadowing-debrief",
    ),
]

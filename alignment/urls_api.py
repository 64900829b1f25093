from __future__ import annotations

from django.urls import path

from alignment import (
    api,
    api_campaign_ratings,
    api_ideas,
    api_insights,
    api_meetings,
    api_shadowing,
    api_spotlights,
)

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
    path("ideas/", api_ideas.IdeaList.as_view(), name="api-ideas"),
    path("ideas/<int:pk>/", api_ideas.IdeaDetail.as_view(), name="api-idea"),
    path("ideas/<int:pk>/open/", api_ideas.IdeaOpen.as_view(), name="api-idea-open"),
    path("ideas/<int:pk>/adopt/", api_ideas.IdeaAdopt.as_view(), name="api-idea-adopt"),
    path("ideas/<int:pk>/park/", api_ideas.IdeaPark.as_view(), name="api-idea-park"),
    path("ideas/<int:pk>/comments/", api_ideas.IdeaComments.as_view(), name="api-idea-comments"),
    path("ideas/<int:pk>/vote/", api_ideas.IdeaVote.as_view(), name="api-idea-vote"),
    path("insights/", api_insights.InsightList.as_view(), name="api-insights"),
    path("insights/<int:pk>/", api_insights.InsightDetail.as_view(), name="api-insight"),
    path(
        "insights/<int:pk>/answer/", api_insights.InsightAnswer.as_view(), name="api-insight-answer"
    ),
]

# Meetings and their action items (alignment/api_meetings.py).
urlpatterns += [
    path("meetings/", api_meetings.MeetingList.as_view(), name="api-meetings"),
    path("meetings/<int:pk>/", api_meetings.MeetingDetail.as_view(), name="api-meeting"),
    path(
        "meetings/<int:pk>/action-items/",
        api_meetings.MeetingActionItems.as_view(),
        name="api-meeting-action-items",
    ),
    path("action-items/", api_meetings.ActionItemList.as_view(), name="api-action-items"),
    path("action-items/<int:pk>/", api_meetings.ActionItemDetail.as_view(), name="api-action-item"),
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

# Sales' ratings of a campaign's leads (alignment/api_campaign_ratings.py).
urlpatterns += [
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

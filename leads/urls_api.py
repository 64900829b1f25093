from __future__ import annotations

from django.urls import path

from leads import api, api_disputes

urlpatterns = [
    path("campaigns/", api.CampaignIngest.as_view(), name="api-campaigns"),
    path("leads/", api.LeadIngest.as_view(), name="api-leads"),
    path("touches/", api.TouchIngest.as_view(), name="api-touches"),
    path("stage-events/", api.StageEventIngest.as_view(), name="api-stage-events"),
    path("attempts/", api.AttemptIngest.as_view(), name="api-attempts"),
    path("deals/", api.DealIngest.as_view(), name="api-deals"),
    path("handoffs/", api.HandoffList.as_view(), name="api-handoffs"),
    path("handoffs/<int:pk>/accept/", api.HandoffAccept.as_view(), name="api-handoff-accept"),
    path("handoffs/<int:pk>/reject/", api.HandoffReject.as_view(), name="api-handoff-reject"),
    path("handoffs/<int:pk>/reassign/", api.HandoffReassign.as_view(), name="api-handoff-reassign"),
    path(
        "lead-definitions/<int:pk>/rescore/",
        api.LeadDefinitionRescore.as_view(),
        name="api-lead-definition-rescore",
    ),
    path(
        "handoffs/<int:pk>/dispute/",
        api_disputes.HandoffDispute.as_view(),
        name="api-handoff-dispute",
    ),
    path("disputes/", api_disputes.DisputeList.as_view(), name="api-disputes"),
    path("disputes/<int:pk>/", api_disputes.DisputeDetail.as_view(), name="api-dispute"),
    path(
        "disputes/<int:pk>/resolve/",
        api_disputes.DisputeResolve.as_view(),
        name="api-dispute-resolve",
    ),
    path(
        "disputes/<int:pk>/confirm/",
        api_disputes.DisputeConfirm.as_view(),
        name="api-dispute-confirm",
    ),
    path("sla-breaches/", api.SlaBreachList.as_view(), name="api-sla-breaches"),
    path("rescore-jobs/<uuid:pk>/", api.RescoreJobDetail.as_view(), name="api-rescore-job"),
]

from __future__ import annotations

from django.urls import path

from leads import views, views_disputes, what_if_views

urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/<int:pk>/accept/", views.accept, name="handoff-accept"),
    path("inbox/<int:pk>/reject/", views.reject, name="handoff-reject"),
    path("inbox/<int:pk>/attempt/", views.attempt, name="handoff-attempt"),
    path(
        "what-if/start/<int:definition_pk>/",
        what_if_views.what_if_start_view,
        name="what-if-start",
    ),
    path("what-if/<uuid:pk>/", what_if_views.what_if_detail, name="what-if-detail"),
    path("inbox/<int:pk>/reassign/", views.reassign, name="handoff-reassign"),
    path("mine/", views.mine, name="my-leads"),
    path("disputes/", views_disputes.dispute_list_view, name="dispute-list"),
    path("disputes/<int:pk>/", views_disputes.dispute_detail, name="dispute-detail"),
    path("disputes/<int:pk>/resolve/", views_disputes.dispute_resolve_view, name="dispute-resolve"),
    path("disputes/<int:pk>/confirm/", views_disputes.dispute_confirm_view, name="dispute-confirm"),
    path("handoffs/<int:pk>/dispute/", views_disputes.dispute_raise_view, name="handoff-dispute"),
    path("<int:pk>/", views.lead, name="lead-detail"),
]

from __future__ import annotations

from django.urls import path

from leads import views, what_if_views

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
    path("<int:pk>/", views.lead, name="lead-detail"),
]

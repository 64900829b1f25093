from __future__ import annotations

from django.urls import path

from leads import views

urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/<int:pk>/accept/", views.accept, name="handoff-accept"),
    path("inbox/<int:pk>/reject/", views.reject, name="handoff-reject"),
    path("inbox/<int:pk>/attempt/", views.attempt, name="handoff-attempt"),
    path("inbox/<int:pk>/reassign/", views.reassign, name="handoff-reassign"),
    path("mine/", views.mine, name="my-leads"),
    path("<int:pk>/", views.lead, name="lead-detail"),
]

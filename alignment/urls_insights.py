"""The insights pages, mounted at /insights/."""

from __future__ import annotations

from django.urls import URLPattern, path

from alignment import views_insights as views

urlpatterns: list[URLPattern] = [
    path("", views.insight_list, name="insight-list"),
    path("new/", views.insight_new, name="insight-new"),
    path("<int:pk>/", views.insight_detail, name="insight-detail"),
    path("<int:pk>/edit/", views.insight_edit, name="insight-edit"),
    path("<int:pk>/answer/", views.insight_answer_view, name="insight-answer"),
    path("<int:pk>/unanswer/", views.insight_unanswer_view, name="insight-unanswer"),
    path("<int:pk>/delete/", views.insight_delete_view, name="insight-delete"),
]

"""The shadowing pages, mounted at /shadowing/."""

from __future__ import annotations

from django.urls import path

from alignment import views_shadowing as views

urlpatterns = [
    path("", views.shadowing_list, name="shadowing-list"),
    path("new/", views.shadowing_new, name="shadowing-new"),
    path("<int:pk>/", views.shadowing_detail, name="shadowing-detail"),
    path("<int:pk>/edit/", views.shadowing_edit, name="shadowing-edit"),
    path("<int:pk>/log/", views.shadowing_log_view, name="shadowing-log"),
    path("<int:pk>/cancel/", views.shadowing_cancel_view, name="shadowing-cancel"),
    path("<int:pk>/debrief/", views.shadowing_debrief_view, name="shadowing-debrief"),
    path("<int:pk>/delete/", views.shadowing_delete_view, name="shadowing-delete"),
]

"""The spotlights pages, mounted at /spotlights/."""

from __future__ import annotations

from django.urls import path

from alignment import views_spotlights as views

urlpatterns = [
    path("", views.spotlight_list_view, name="spotlight-list"),
    path("new/", views.spotlight_new, name="spotlight-new"),
    path("<int:pk>/", views.spotlight_detail, name="spotlight-detail"),
    path("<int:pk>/edit/", views.spotlight_edit, name="spotlight-edit"),
    path("<int:pk>/delete/", views.spotlight_delete_view, name="spotlight-delete"),
    path("<int:pk>/thanks/", views.spotlight_thanks, name="spotlight-thanks"),
]

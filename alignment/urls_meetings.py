"""The meetings pages, mounted at /meetings/."""

from __future__ import annotations

from django.urls import path

from alignment import views_meetings as views

urlpatterns = [
    path("", views.meeting_list_view, name="meeting-list"),
    path("new/", views.meeting_new, name="meeting-new"),
    path("<int:pk>/", views.meeting_detail_view, name="meeting-detail"),
    path("<int:pk>/edit/", views.meeting_edit, name="meeting-edit"),
    path("<int:pk>/delete/", views.meeting_delete_view, name="meeting-delete"),
    path("<int:pk>/action-items/", views.action_item_add_view, name="action-item-add"),
    path("action-items/<int:pk>/done/", views.action_item_done_view, name="action-item-done"),
    path("action-items/<int:pk>/edit/", views.action_item_edit, name="action-item-edit"),
    path("action-items/<int:pk>/delete/", views.action_item_delete_view, name="action-item-delete"),
]

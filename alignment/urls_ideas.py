"""The ideas pages, mounted at /ideas/."""

from __future__ import annotations

from django.urls import URLPattern, path

from alignment import views_ideas as views

urlpatterns: list[URLPattern] = [
    path("", views.idea_list, name="idea-list"),
    path("new/", views.idea_new, name="idea-new"),
    path("<int:pk>/", views.idea_detail, name="idea-detail"),
    path("<int:pk>/edit/", views.idea_edit, name="idea-edit"),
    path("<int:pk>/open/", views.idea_open_view, name="idea-open"),
    path("<int:pk>/comments/", views.idea_comment_view, name="idea-comment"),
    path("<int:pk>/vote/", views.idea_vote_view, name="idea-vote"),
    path("<int:pk>/adopt/", views.idea_adopt_view, name="idea-adopt"),
    path("<int:pk>/park/", views.idea_park_view, name="idea-park"),
    path("<int:pk>/delete/", views.idea_delete_view, name="idea-delete"),
]

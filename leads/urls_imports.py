from __future__ import annotations

from django.urls import path

from leads import views_imports

urlpatterns = [
    path("", views_imports.import_list, name="import-list"),
    path("<uuid:pk>/", views_imports.import_detail, name="import-detail"),
    path("<uuid:pk>/check/", views_imports.import_check, name="import-check"),
    path("<uuid:pk>/run/", views_imports.import_run, name="import-run"),
    path("<uuid:pk>/resume/", views_imports.import_resume_view, name="import-resume"),
    path("<uuid:pk>/rejected.csv", views_imports.import_rejected_csv, name="import-rejected"),
]

"""The insights pages, mounted at /insights/."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []

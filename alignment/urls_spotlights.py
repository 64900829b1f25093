"""The spotlights pages, mounted at /spotlights/."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []

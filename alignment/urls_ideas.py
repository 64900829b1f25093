"""The ideas pages, mounted at /ideas/."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []

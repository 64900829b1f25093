"""The shadowing pages, mounted at /shadowing/."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []

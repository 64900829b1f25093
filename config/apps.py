from __future__ import annotations

from django.apps import AppConfig


class ConfigConfig(AppConfig):
    """The composition root's own table: the API throttle's counts without Redis."""

    name = "config"
    verbose_name = "Tandem infrastructure"

"""What the infrastructure keeps in the database (the app models are in the apps)."""

from __future__ import annotations

from django.db import models


class ThrottleWindow(models.Model):
    """The requests counted in one window of one API limit (config.throttling), when there is no
    Redis to count in: shared by every process that uses the database."""

    key = models.CharField(max_length=200, primary_key=True)
    hits = models.PositiveIntegerField(default=0)
    expires = models.BigIntegerField(db_index=True, help_text="Unix time the window ends.")

    def __str__(self) -> str:
        return f"{self.key}: {self.hits}"

"""Shared by the ideas and insights forms (their base is `alignment.forms.ServiceForm`): a
campaign is chosen from the funnel's campaigns (through the foreign key's model: alignment
does not import leads)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Model


def campaign_field(model: type[Model], *, label: str = "Campaign", help_text: str = "") -> Any:
    """An optional choice of a campaign (the model a foreign key names), newest first."""
    return forms.ModelChoiceField(
        queryset=model._default_manager.order_by("-starts_on", "name"),
        required=False,
        label=label,
        empty_label="(none)",
        help_text=help_text,
    )

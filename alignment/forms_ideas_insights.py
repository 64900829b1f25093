"""Small forms shared by the ideas and insights pages: a service's errors go on the field they
name, and a campaign is chosen from the funnel's campaigns (through the foreign key's model:
alignment does not import leads)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Model


class ServiceErrorsForm(forms.Form):
    """Labels without a colon; `add_service_error` puts each of a service's messages on its
    field (or `FIELD_OF[name]`), the rest above the form."""

    FIELD_OF: dict[str, str] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def add_service_error(self, error: ValidationError) -> None:
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for name, messages in error.message_dict.items():
            field = self.FIELD_OF.get(name, name)
            self.add_error(field if field in self.fields else None, messages)


def multiline(text: str | None) -> str:
    """Browsers send a textarea's line breaks as CRLF; keep LF."""
    return (text or "").replace("\r\n", "\n").strip()


def campaign_field(model: type[Model], *, label: str = "Campaign", help_text: str = "") -> Any:
    """An optional choice of a campaign (the model a foreign key names), newest first."""
    return forms.ModelChoiceField(
        queryset=model._default_manager.order_by("-starts_on", "name"),
        required=False,
        label=label,
        empty_label="(none)",
        help_text=help_text,
    )

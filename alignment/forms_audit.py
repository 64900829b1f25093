"""The audit log page's filters (GET): a bad value is an error the page shows with a 400, never
a 500, and never a silently wider list."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.contrib.auth import get_user_model

from alignment.selectors_audit import SYSTEM, audit_action_choices, audit_target_types
from config.dates import date_in_range_problem


def _in_range(day: date | None) -> None:
    if day is not None and (problem := date_in_range_problem(day)):
        raise forms.ValidationError(problem)


def _day_field(label: str) -> forms.DateField:
    return forms.DateField(
        required=False,
        label=label,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[_in_range],
    )


class AuditFilterForm(forms.Form):
    EMPTY: dict[str, Any] = {
        "action": "",
        "actor": "",
        "target_type": "",
        "target_id": "",
        "since": None,
        "until": None,
    }

    action = forms.ChoiceField(required=False, label="What")
    actor = forms.ChoiceField(required=False, label="Who")
    target_type = forms.ChoiceField(required=False, label="Record")
    target_id = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    since = _day_field("From")
    until = _day_field("To")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", "Any change"), *audit_action_choices()]
        users = get_user_model().objects.order_by("username").values_list("username", flat=True)
        self.fields["actor"].choices = [
            ("", "Anyone"),
            (SYSTEM, "The system"),
            *((name, name) for name in users),
        ]
        self.fields["target_type"].choices = [("", "Any record"), *audit_target_types()]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("since", "The range starts after it ends.")
        if data.get("target_id") and not data.get("target_type"):
            self.add_error("target_type", "Say what kind of record the number is of.")
        return data

    def filters(self) -> dict[str, Any]:
        """The valid filters (the page answers 400 for the others, and leaves them out)."""
        self.is_valid()
        data = self.cleaned_data
        return {name: data.get(name) or empty for name, empty in self.EMPTY.items()}

"""Forms of the field insights pages: what a person types, for
`alignment.services.insights` to check."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.text import slugify

from alignment.forms import ServiceForm
from alignment.forms_ideas_insights import campaign_field
from alignment.models import FieldInsight

_CAMPAIGN = FieldInsight._meta.get_field("campaign").related_model


class InsightForm(ServiceForm):
    kind = forms.ChoiceField(
        choices=FieldInsight.Kind.choices, widget=forms.RadioSelect, required=False
    )
    text = forms.CharField(
        required=False,
        label="What the prospect said",
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Their words as close as you remember them, and the context: who, what deal, "
        "what they compared us with.",
    )
    tags = forms.CharField(
        required=False,
        max_length=500,
        help_text="Comma-separated, e.g. pricing, security review. New tags are created.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["campaign"] = campaign_field(
            _CAMPAIGN, help_text="The campaign the prospect came from or mentioned, if any."
        )

    def clean_text(self) -> str:
        return self.multiline(self.cleaned_data.get("text"))


class AnswerForm(ServiceForm):
    answer = forms.ChoiceField(
        choices=[("used", "Used it"), ("not_used", "Not using it")],
        widget=forms.RadioSelect,
        required=False,
    )
    text = forms.CharField(
        required=False,
        label="Where, or why not",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Used: the content or campaign it went into. Not used: why not. Markdown.",
    )

    def __init__(
        self, *args: Any, campaigns: list[tuple[Any, str]] | None = None, **kwargs: Any
    ) -> None:
        """`campaigns`: the campaign choices read once (`answer_campaign_choices`) for a page
        of many answer forms; without them, each form's select reads the campaigns again."""
        super().__init__(*args, **kwargs)
        field = campaign_field(_CAMPAIGN, label="Used in campaign")
        if campaigns is not None:
            field.choices = campaigns  # checked against the queryset all the same
        self.fields["campaign"] = field

    def clean_text(self) -> str:
        return self.multiline(self.cleaned_data.get("text"))


def answer_campaign_choices() -> list[tuple[Any, str]]:
    """The answer form's campaign choices, in one query for a whole page of forms."""
    field = campaign_field(_CAMPAIGN)
    return list(field.choices)


class InsightFilterForm(forms.Form):
    """The list's filters (GET): a bad value is left out (and shown as an error), never a 500."""

    EMPTY: dict[str, Any] = {"kind": "", "tag": "", "campaign": None, "answered": None}

    kind = forms.ChoiceField(choices=[("", "Any kind"), *FieldInsight.Kind.choices], required=False)
    tag = forms.CharField(required=False, max_length=50)
    answered = forms.ChoiceField(
        choices=[("", "Answered or not"), ("no", "Waiting for marketing"), ("yes", "Answered")],
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["campaign"] = forms.ModelChoiceField(
            queryset=_CAMPAIGN._default_manager.order_by("-starts_on", "name"),
            required=False,
            empty_label="Any campaign",
            to_field_name="external_id",
        )

    def filters(self) -> dict[str, Any]:
        self.is_valid()
        data = self.cleaned_data  # the valid ones; the page answers 400 for the others
        answered = {"yes": True, "no": False}.get(data.get("answered") or "")
        return {
            "kind": data.get("kind") or "",
            "tag": slugify(data.get("tag") or ""),
            "campaign": data.get("campaign"),
            "answered": answered,
        }

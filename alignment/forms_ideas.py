"""Forms of the ideas pages: what a person types, for `alignment.services.ideas` to check."""

from __future__ import annotations

from typing import Any

from django import forms

from alignment.forms import ServiceForm
from alignment.forms_ideas_insights import campaign_field
from alignment.models import Goal, Idea

TITLE_MAX = Idea._meta.get_field("title").max_length


class IdeaForm(ServiceForm):
    title = forms.CharField(max_length=TITLE_MAX, required=False)
    body = forms.CharField(
        required=False,
        label="The idea",
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text="Markdown. Half-done is fine: say what you would try and what you don't "
        "know yet. Only you see a draft until you open it for critique.",
    )

    def clean_body(self) -> str:
        return self.multiline(self.cleaned_data.get("body"))


class CommentForm(ServiceForm):
    body = forms.CharField(
        required=False,
        label="Your comment",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Markdown.",
    )

    def clean_body(self) -> str:
        return self.multiline(self.cleaned_data.get("body"))


class AdoptForm(ServiceForm):
    goal = forms.ModelChoiceField(
        queryset=Goal.objects.order_by("-period_start", "name"),
        required=False,
        empty_label="(none)",
        label="Goal",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["campaign"] = campaign_field(Idea._meta.get_field("campaign").related_model)
        self.order_fields(["campaign", "goal"])


class ParkForm(ServiceForm):
    reason = forms.CharField(
        required=False,
        label="Why park it",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean_reason(self) -> str:
        return self.multiline(self.cleaned_data.get("reason"))

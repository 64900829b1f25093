"""The form sales rates a campaign's leads with: 1–5 stars as radio buttons and a comment."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from alignment.services.campaign_ratings import MAX_COMMENT, RATING_WORDS

STAR_WORDS = {1: "1 star", 2: "2 stars", 3: "3 stars", 4: "4 stars", 5: "5 stars"}


class CampaignRatingForm(forms.Form):
    rating = forms.TypedChoiceField(
        choices=list(STAR_WORDS.items()),
        coerce=int,
        widget=forms.RadioSelect,
        label="Rate its leads",
        error_messages={"required": RATING_WORDS, "invalid_choice": RATING_WORDS},
    )
    comment = forms.CharField(
        required=False,
        max_length=MAX_COMMENT,
        label="Comment",
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": "What were its leads like? What should change?"}
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def add_service_error(self, error: ValidationError) -> None:
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for name, messages in error.message_dict.items():
            self.add_error(name if name in self.fields else None, messages)

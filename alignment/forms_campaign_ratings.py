"""The form sales rates a campaign's leads with: 1–5 stars as radio buttons and a comment."""

from __future__ import annotations

from django import forms

from alignment.forms import ServiceForm
from alignment.services.campaign_ratings import MAX_COMMENT, RATING_WORDS

STAR_WORDS = {1: "1 star", 2: "2 stars", 3: "3 stars", 4: "4 stars", 5: "5 stars"}


class CampaignRatingForm(ServiceForm):
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

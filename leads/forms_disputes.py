"""Small forms of disputes: marketing's comment, a head's outcome."""

from __future__ import annotations

from django import forms

from leads.models import Dispute


class DisputeRaiseForm(forms.Form):
    comment = forms.CharField(
        max_length=5000,
        error_messages={"required": "Say why the rejection is wrong."},
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": "What did sales miss about this lead?"}
        ),
    )


class DisputeOutcomeForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=Dispute.Outcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose 'upheld' or 'overturned'."},
    )
    note = forms.CharField(
        required=False,
        max_length=5000,
        widget=forms.Textarea(
            attrs={
                "rows": 3,
                "placeholder": "Required to overturn: the rep who rejected it reads it.",
            }
        ),
    )

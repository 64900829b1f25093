"""Small forms of the rep inbox: reject with a reason, log a contact attempt, pick an owner."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from leads.models import AttemptChannel, AttemptOutcome, Handoff, RejectionReason
from leads.selectors import sales_people

RATINGS = [(n, str(n)) for n in range(1, 6)]


class RejectForm(forms.Form):
    reason = forms.ModelChoiceField(
        queryset=RejectionReason.objects.filter(active=True),
        to_field_name="code",
        empty_label="Choose a reason…",
        error_messages={"required": "Choose why you reject this lead."},
    )
    feedback = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": "What should marketing know about this lead?"}
        ),
    )
    rating = forms.TypedChoiceField(
        choices=RATINGS,
        coerce=int,
        required=False,
        empty_value=None,
        widget=forms.RadioSelect,
        label="Lead quality",
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # Each reason says whether it needs feedback, so the page can say so before sending
        # (the service refuses it either way).
        needing = list(
            RejectionReason.objects.filter(active=True, requires_feedback=True).values_list(
                "code", "label"
            )
        )
        self.fields["reason"].widget.attrs["data-feedback-required-for"] = " ".join(
            code for code, _ in needing
        )
        self.feedback_reasons = ", ".join(label for _, label in needing)


class AttemptForm(forms.Form):
    channel = forms.ChoiceField(
        choices=AttemptChannel.choices, initial=AttemptChannel.CALL, widget=forms.RadioSelect
    )
    outcome = forms.ChoiceField(choices=AttemptOutcome.choices, initial=AttemptOutcome.NO_ANSWER)
    note = forms.CharField(
        required=False,
        max_length=1000,
        widget=forms.TextInput(attrs={"placeholder": "Note (optional)"}),
    )

    def row(self, *, handoff: Handoff, actor: AbstractBaseUser) -> dict:
        """The attempt as an ingest row for `attempts_upsert`, made now by `actor`."""
        return {
            "external_id": f"app-{uuid.uuid4().hex}",
            "lead": handoff.lead.external_id,
            "occurred_at": timezone.now(),
            "channel": self.cleaned_data["channel"],
            "outcome": self.cleaned_data["outcome"],
            "actor": actor.get_username(),
            "note": self.cleaned_data["note"],
        }


class InboxFilterForm(forms.Form):
    owner = forms.ChoiceField(required=False, label="Owner")

    def __init__(self, *args: object, **kwargs: object) -> None:

        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [
            ("", "Everyone"),
            *sales_people(),
            ("(unassigned)", "Unassigned"),
        ]

    def chosen_owner(self) -> str | None:
        return (self.cleaned_data.get("owner") or None) if self.is_valid() else None


class ReassignForm(forms.Form):
    """Whom a sales manager gives a pending handoff to: an active sales rep or manager."""

    owner = forms.ChoiceField(
        label="Reassign to",
        error_messages={
            "required": "Choose whom to give the handoff to.",
            "invalid_choice": "Reassign to an active sales rep or sales manager.",
        },
    )
    note = forms.CharField(
        required=False,
        max_length=1000,
        widget=forms.TextInput(attrs={"placeholder": "Note for the new owner (optional)"}),
    )

    def __init__(
        self, *args: object, people: list[tuple[str, str]] | None = None, **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)
        people = sales_people(active_only=True) if people is None else people
        self.fields["owner"].choices = [("", "Choose…"), *people]

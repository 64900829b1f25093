"""The shadowing forms: schedule (who, with whom, when, the focus), log what was learned, and
plan the debrief. The rules (other team, a rep only for themselves, times) are the service's
(`alignment.services.shadowing`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from alignment.forms import TEAM_LABELS, ServiceForm, moment_field, person_label
from alignment.models import ShadowingSession


def _choices(people: dict[str, list[AbstractBaseUser]]) -> list[tuple[str, Any]]:
    """Usernames by team (people without a team can't shadow or host)."""
    return [("", "Choose…")] + [
        (TEAM_LABELS[team], [(u.get_username(), person_label(u)) for u in users])
        for team, users in people.items()
        if team and users
    ]


def default_times(now: datetime) -> tuple[datetime, datetime]:
    """Tomorrow morning, 9:00 to 13:00 local time: the start of a new session."""
    local = timezone.localtime(now) + timedelta(days=1)
    start = local.replace(hour=9, minute=0, second=0, microsecond=0)
    return start, start + timedelta(hours=4)


class ShadowingForm(ServiceForm):
    person = forms.ChoiceField(label="Who shadows")
    host = forms.ChoiceField(label="Whom they shadow", help_text="Someone of the other team.")
    starts_at = moment_field("Starts")
    ends_at = moment_field("Ends", help_text="At most a day after the start.")
    focus = forms.CharField(
        required=False,
        max_length=ShadowingSession._meta.get_field("focus").max_length,
        help_text="What the person wants to see: discovery calls, a campaign launch…",
    )

    def __init__(
        self,
        *args: Any,
        people: dict[str, list[AbstractBaseUser]],
        only: Sequence[AbstractBaseUser] | None = None,
        **kwargs: Any,
    ) -> None:
        """`only`: the people who may shadow here (a rep schedules only themselves; one who
        reschedules keeps the person there is); None: anyone."""
        super().__init__(*args, **kwargs)
        self.fields["host"].choices = _choices(people)
        if only is not None:
            names = {u.get_username(): person_label(u) for u in only}
            self.fields["person"].choices = list(names.items())
            self.fields["person"].help_text = "Reps schedule shadowing for themselves."
        else:
            self.fields["person"].choices = _choices(people)

    @staticmethod
    def initial_of(session: ShadowingSession) -> dict[str, Any]:
        return {
            "person": session.person.get_username(),
            "host": session.host.get_username(),
            "starts_at": timezone.localtime(session.starts_at),
            "ends_at": timezone.localtime(session.ends_at),
            "focus": session.focus,
        }


class LogForm(ServiceForm):
    learned = forms.CharField(
        label="What was learned",
        required=False,  # the service says it is needed
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Markdown: what surprised you, what the other team should know.",
    )

    def clean_learned(self) -> str:
        return self.multiline(self.cleaned_data.get("learned"))


class DebriefForm(ServiceForm):
    starts_at = moment_field("Debrief at", help_text="Half an hour, with both of you.")

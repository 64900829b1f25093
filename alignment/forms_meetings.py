"""Forms of the meetings pages. They read what a person typed (a local date and time, the
people ticked, a campaign) into the values the services take; whether the times make a
meeting, or an action item has what it needs, is for the services to say
(`meeting_clean_times`, `action_item_clean`), and their messages land on these fields."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.forms import BoundField
from django.utils import timezone

from alignment.forms import TEAM_LABELS, ServiceForm, moment_field, next_hour
from alignment.models import ActionItem, Meeting
from alignment.selectors import users_by_team

DATE_INPUT = "%Y-%m-%d"


def person_name(user: AbstractBaseUser) -> str:
    return user.get_full_name() or user.get_username()


class MeetingForm(ServiceForm):
    """A meeting: kind, title, local start and end (the organisation's time zone), campaign,
    attendees (active people, by team) and its Markdown texts."""

    kind = forms.ChoiceField(choices=Meeting.Kind.choices, initial=Meeting.Kind.WEEKLY_ALIGNMENT)
    title = forms.CharField(
        max_length=200, required=False, help_text="Leave it empty for the kind and the day."
    )
    starts_at = moment_field("Starts")
    ends_at = moment_field("Ends")
    campaign = forms.ModelChoiceField(
        queryset=Meeting._meta.get_field("campaign").related_model.objects.none(),
        required=False,
        to_field_name="external_id",
        empty_label="No campaign",
    )
    attendees = forms.ModelMultipleChoiceField(
        queryset=get_user_model().objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Tick who attends."},
    )
    agenda = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 10}), help_text="Markdown."
    )
    notes = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 8}), help_text="Markdown."
    )
    decisions = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Markdown, one decision per item (“- …”).",
    )

    def __init__(self, *args: Any, meeting: Meeting | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._meeting = meeting
        campaigns = Meeting._meta.get_field("campaign").related_model.objects
        self.fields["campaign"].queryset = campaigns.order_by("-starts_on", "name")
        kept = list(meeting.attendance.values_list("user_id", flat=True)) if meeting else []
        self._teams = users_by_team(include=kept)
        people = [u.pk for group in self._teams.values() for u in group]
        self.fields["attendees"].queryset = get_user_model().objects.filter(pk__in=people)
        self.fields["attendees"].label_from_instance = person_name

    @classmethod
    def initial_of(cls, meeting: Meeting) -> dict[str, Any]:
        return {
            "kind": meeting.kind,
            "title": meeting.title,
            "starts_at": meeting.starts_at,
            "ends_at": meeting.ends_at,
            "campaign": meeting.campaign.external_id if meeting.campaign else None,
            "attendees": list(meeting.attendance.values_list("user_id", flat=True)),
            "agenda": meeting.agenda,
            "notes": meeting.notes,
            "decisions": meeting.decisions,
        }

    @classmethod
    def initial_new(cls, *, query: Any, user: AbstractBaseUser, now: datetime) -> dict[str, Any]:
        """A new meeting: the next full hour for an hour, its creator attending, and what the
        link that opened the page asks for (`?kind=&campaign=<external id>&title=&agenda=`)."""
        starts = next_hour(now)
        kind = query.get("kind", "")
        return {
            "kind": kind if kind in Meeting.Kind.values else Meeting.Kind.WEEKLY_ALIGNMENT,
            "title": query.get("title", "")[:200],
            "starts_at": starts,
            "ends_at": starts + timedelta(hours=1),
            "campaign": query.get("campaign") or None,
            "attendees": [user.pk],
            "agenda": query.get("agenda", ""),
        }

    def attendee_groups(self) -> list[tuple[str, str, list]]:
        """The attendees' checkboxes by team: (team, label, [checkbox]) for teams with people."""
        bound: BoundField = self["attendees"]
        boxes = {str(w.data["value"]): w for w in bound}
        return [
            (team, TEAM_LABELS[team], [boxes[str(u.pk)] for u in users if str(u.pk) in boxes])
            for team, users in self._teams.items()
            if users
        ]

    def _kept(self, name: str) -> datetime | None:
        """The moment as shown (to the minute) is the moment stored: saving a meeting with its
        time untouched leaves it as it was (and moves it to no other week)."""
        value = self.cleaned_data.get(name)
        before = getattr(self._meeting, name, None) if self._meeting else None
        shown = timezone.localtime(before).replace(second=0, microsecond=0) if before else None
        return before if value is not None and shown == value else value

    def clean_starts_at(self) -> datetime | None:
        return self._kept("starts_at")

    def clean_ends_at(self) -> datetime | None:
        return self._kept("ends_at")

    def clean_agenda(self) -> str:
        return self.multiline(self.cleaned_data.get("agenda", ""))

    def clean_notes(self) -> str:
        return self.multiline(self.cleaned_data.get("notes", ""))

    def clean_decisions(self) -> str:
        return self.multiline(self.cleaned_data.get("decisions", ""))

    def meeting_fields(self) -> dict[str, Any]:
        """The cleaned input as `meeting_create`/`meeting_update` fields."""
        data = dict(self.cleaned_data)
        data["attendees"] = list(data["attendees"])
        return data


class ActionItemForm(ServiceForm):
    """An action item: what, who (an active person, by team) and by when."""

    text = forms.CharField(
        max_length=ActionItem._meta.get_field("text").max_length,
        required=False,
        label="Action item",
        widget=forms.TextInput(attrs={"placeholder": "What is to be done"}),
    )
    owner = forms.ModelChoiceField(
        queryset=get_user_model().objects.none(), required=False, label="Owner"
    )
    due_on = forms.DateField(
        required=False,
        label="Due",
        input_formats=[DATE_INPUT],
        widget=forms.DateInput(attrs={"type": "date"}, format=DATE_INPUT),
    )

    def __init__(self, *args: Any, item: ActionItem | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        teams = users_by_team(include=[item.owner_id] if item else [])
        field = self.fields["owner"]
        field.queryset = get_user_model().objects.filter(
            pk__in=[u.pk for users in teams.values() for u in users]
        )
        field.choices = [("", "Choose who…")] + [
            (TEAM_LABELS[team], [(u.pk, person_name(u)) for u in users])
            for team, users in teams.items()
            if users
        ]

    @classmethod
    def initial_of(cls, item: ActionItem) -> dict[str, Any]:
        return {"text": item.text, "owner": item.owner_id, "due_on": item.due_on}

    @classmethod
    def initial_new(cls, *, today: date) -> dict[str, Any]:
        return {"due_on": today + timedelta(days=7)}

    def item_fields(self) -> dict[str, Any]:
        return dict(self.cleaned_data)

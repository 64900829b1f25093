"""Meetings of the two teams: who attended (with their team as it was), what was planned,
noted and decided. Every write that moves who met when logs the weeks whose
`joint_meetings_per_week` changes (`alignment.signals.together_changed`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from alignment.models import Meeting, MeetingAttendee
from alignment.roles import user_team
from alignment.services.versions import actor
from alignment.signals import together_changed
from core.periods import year_in_range

#: A meeting counts in its start week's rolling mean and in the three weeks after it.
ROLLING_WEEKS = 4
MAX_MEETING_LENGTH = timedelta(days=7)


def meeting_weeks_changed(*, starts: Iterable[datetime]) -> None:
    """Log the periods whose joint-meeting count a meeting starting at each of `starts` is in:
    its week and the three after it (the 4-week rolling mean), and its month and quarter."""
    spans = [(s, s + timedelta(weeks=ROLLING_WEEKS - 1)) for s in starts]
    if spans:
        together_changed(spans=spans, part="meetings")


def meeting_clean_times(*, starts_at: datetime | None, ends_at: datetime | None) -> None:
    errors = {}
    if starts_at is None:
        errors["starts_at"] = "Say when the meeting starts."
    elif not year_in_range(starts_at.date()):
        errors["starts_at"] = "That date is outside the years Tandem accepts (1900–2999)."
    if ends_at is None:
        errors["ends_at"] = "Say when the meeting ends."
    elif not year_in_range(ends_at.date()):
        errors["ends_at"] = "That date is outside the years Tandem accepts (1900–2999)."
    if not errors and ends_at <= starts_at:
        errors["ends_at"] = "A meeting ends after it starts."
    elif not errors and ends_at - starts_at > MAX_MEETING_LENGTH:
        errors["ends_at"] = "A meeting lasts at most a week."
    if errors:
        raise ValidationError(errors)


def _attendance_set(*, meeting: Meeting, attendees: Sequence[AbstractBaseUser]) -> None:
    """The attendees are exactly `attendees`: each one added keeps the team they are in now;
    those who stay keep the team they were recorded with."""
    wanted = {u.pk: u for u in attendees if getattr(u, "pk", None)}
    present = set(meeting.attendance.values_list("user_id", flat=True))
    meeting.attendance.exclude(user_id__in=wanted).delete()
    MeetingAttendee.objects.bulk_create(
        [
            MeetingAttendee(meeting=meeting, user=user, team=user_team(user))
            for pk, user in wanted.items()
            if pk not in present
        ]
    )


def meeting_users(*, usernames: Iterable[str], field: str = "attendees") -> list[AbstractBaseUser]:
    """The users named, in order; an unknown name is a ValidationError naming it."""
    names = list(dict.fromkeys(usernames))
    found = {u.get_username(): u for u in get_user_model().objects.filter(username__in=names)}
    missing = [n for n in names if n not in found]
    if missing:
        raise ValidationError({field: f"No user named {', '.join(map(repr, missing))}."})
    return [found[n] for n in names]


@transaction.atomic
def meeting_create(
    *,
    kind: str,
    starts_at: datetime,
    ends_at: datetime,
    attendees: Sequence[AbstractBaseUser],
    by: AbstractBaseUser | None,
    campaign: Any = None,
    title: str = "",
    agenda: str = "",
    notes: str = "",
    decisions: str = "",
) -> Meeting:
    """A meeting with its attendees; logs the weeks whose joint-meeting count it moves."""
    if kind not in Meeting.Kind.values:
        raise ValidationError({"kind": f"Use one of {', '.join(Meeting.Kind.values)}."})
    meeting_clean_times(starts_at=starts_at, ends_at=ends_at)
    meeting = Meeting.objects.create(
        kind=kind,
        title=title.strip(),
        starts_at=starts_at,
        ends_at=ends_at,
        campaign=campaign,
        agenda=agenda,
        notes=notes,
        decisions=decisions,
        created_by=actor(by),
    )
    _attendance_set(meeting=meeting, attendees=attendees)
    meeting_weeks_changed(starts=[starts_at])
    return meeting

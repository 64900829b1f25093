"""Starting the weekly alignment meeting from the meeting view: one a day, its agenda
pre-filled from the numbers (`kpis.pages.agenda`). The meeting itself is alignment's
(`alignment.services.meetings.meeting_create`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from alignment.models import Meeting
from alignment.selectors import weekly_meeting_last, weekly_meeting_on
from alignment.services.meetings import meeting_create
from kpis.pages.agenda import weekly_agenda

WEEKLY_MEETING_LENGTH = timedelta(hours=1)


@transaction.atomic
def weekly_meeting_start(
    *, by: AbstractBaseUser, now: datetime | None = None
) -> tuple[Meeting, bool]:
    """Today's weekly alignment meeting, and whether it was created now: the one that starts
    today (started from here, or planned) if there is one; else a new one from `now` for an
    hour (from the minute), with `by` and the people of the last weekly meeting (those still
    with an account) attending, and the agenda pre-filled from the numbers."""
    now = (now or timezone.now()).replace(second=0, microsecond=0)
    today = timezone.localtime(now, ZoneInfo(settings.TIME_ZONE)).date()
    existing = weekly_meeting_on(day=today)
    if existing is not None:
        return existing, False
    last = weekly_meeting_last(before=now)
    regulars = list(last.attendees.filter(is_active=True).exclude(pk=by.pk)) if last else []
    meeting = meeting_create(
        kind=Meeting.Kind.WEEKLY_ALIGNMENT,
        starts_at=now,
        ends_at=now + WEEKLY_MEETING_LENGTH,
        attendees=[by, *regulars],
        by=by,
        agenda=weekly_agenda(today=today, now=now),
    )
    return meeting, True

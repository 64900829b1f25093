"""A campaign's kick-off and post-mortem meetings: the habit of having sales at the table for
both (SPEC §8). The meetings themselves are `alignment.services.meetings`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from alignment.models import Meeting
from alignment.services.meetings import meeting_create

POSTMORTEM_LENGTH = timedelta(hours=1)


@transaction.atomic
def campaign_postmortem_start(
    *, campaign: Any, by: AbstractBaseUser, agenda: str, now: datetime | None = None
) -> Meeting:
    """The campaign's post-mortem, starting now (to the minute) for an hour, with `agenda`; the
    person who starts it attends (the others join from the meeting's page)."""
    starts = (now or timezone.now()).replace(second=0, microsecond=0)
    return meeting_create(
        kind=Meeting.Kind.CAMPAIGN_POSTMORTEM,
        starts_at=starts,
        ends_at=starts + POSTMORTEM_LENGTH,
        attendees=[by],
        by=by,
        campaign=campaign,
        title=f"Post-mortem: {campaign.name}"[:200],
        agenda=agenda,
    )

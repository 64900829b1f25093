"""Meetings of the two teams: who attended (with their team as it was), what was planned,
noted and decided, and the action items each one leaves. Every write that moves who met when
logs the weeks whose `joint_meetings_per_week` changes (`alignment.signals.together_changed`).

Who may do what (`meeting_can_edit`, `meeting_can_delete`, `action_item_can_tick`) is asked by
the pages and the API alike; anyone signed in may create a meeting."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from alignment.models import ActionItem, Meeting, MeetingAttendee
from alignment.roles import user_is_manager, user_team
from alignment.selectors import campaign_by_external_id
from alignment.services.versions import actor
from alignment.signals import together_changed
from config.dates import date_in_range_problem

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
    elif problem := date_in_range_problem(starts_at):
        errors["starts_at"] = problem
    if ends_at is None:
        errors["ends_at"] = "Say when the meeting ends."
    elif problem := date_in_range_problem(ends_at):
        errors["ends_at"] = problem
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


def meeting_campaign(*, external_id: str | None, field: str = "campaign") -> Any:
    """The campaign of a meeting by its external id (None for none); an unknown one is a
    ValidationError naming `field`. The campaign model is the FK's: alignment never imports
    the funnel."""
    if not external_id:
        return None
    campaign = campaign_by_external_id(external_id=external_id)
    if campaign is None:
        raise ValidationError({field: f"No campaign {external_id!r}."})
    return campaign


# --- who may do what -------------------------------------------------------------------------


def meeting_is_attendee(*, meeting: Meeting, user: AbstractBaseUser | AnonymousUser) -> bool:
    if not user.is_authenticated or meeting.pk is None:
        return False
    return MeetingAttendee.objects.filter(meeting=meeting, user_id=user.pk).exists()


def meeting_can_edit(*, meeting: Meeting, user: AbstractBaseUser | AnonymousUser) -> bool:
    """Its attendees and the managers (admins too) change a meeting: its agenda, notes and
    decisions, its times and attendees, and its action items."""
    return user_is_manager(user) or meeting_is_attendee(meeting=meeting, user=user)


def meeting_can_delete(*, meeting: Meeting, user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whoever created a meeting, and the managers, delete it: reps can't delete others'
    records."""
    if not user.is_authenticated:
        return False
    mine = meeting.created_by_id is not None and meeting.created_by_id == user.pk
    return mine or user_is_manager(user)


def action_item_can_tick(*, item: ActionItem, user: AbstractBaseUser | AnonymousUser) -> bool:
    """Its owner, the meeting's attendees and the managers tick an action item off (or open it
    again)."""
    if not user.is_authenticated:
        return False
    return item.owner_id == user.pk or meeting_can_edit(meeting=item.meeting, user=user)


def action_items_can_tick(
    *, meeting: Meeting, items: Iterable[ActionItem], user: AbstractBaseUser | AnonymousUser
) -> set[int]:
    """The ids of a meeting's `items` that `user` may tick (`action_item_can_tick` of each,
    asked in one query)."""
    if meeting_can_edit(meeting=meeting, user=user):
        return {i.pk for i in items}
    return {i.pk for i in items if user.is_authenticated and i.owner_id == user.pk}


# --- changing and deleting meetings ----------------------------------------------------------

MEETING_FIELDS = (
    "kind", "title", "starts_at", "ends_at", "campaign", "attendees", "agenda", "notes",
    "decisions",
)  # fmt: skip
_TEXTS = ("agenda", "notes", "decisions")


@transaction.atomic
def meeting_update(*, meeting: Meeting, by: AbstractBaseUser | None, **fields: Any) -> Meeting:
    """Change any of a meeting's `MEETING_FIELDS` (`attendees`: the whole list of users).
    A change of its start or of who attended logs the weeks of the old and the new start,
    whose joint-meeting counts it moves."""
    unknown = set(fields) - set(MEETING_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown meeting fields: {', '.join(sorted(unknown))}.")
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    kind = fields.get("kind", meeting.kind)
    if kind not in Meeting.Kind.values:
        raise ValidationError({"kind": f"Use one of {', '.join(Meeting.Kind.values)}."})
    starts_at = fields.get("starts_at", meeting.starts_at)
    ends_at = fields.get("ends_at", meeting.ends_at)
    meeting_clean_times(starts_at=starts_at, ends_at=ends_at)
    old_start = meeting.starts_at
    people_changed = False
    if "attendees" in fields:
        wanted = {u.pk for u in fields["attendees"] if getattr(u, "pk", None)}
        people_changed = wanted != set(meeting.attendance.values_list("user_id", flat=True))
    meeting.kind, meeting.starts_at, meeting.ends_at = kind, starts_at, ends_at
    if "campaign" in fields:
        meeting.campaign = fields["campaign"]
    if "title" in fields:
        meeting.title = (fields["title"] or "").strip()
    for name in _TEXTS:
        if name in fields:
            setattr(meeting, name, fields[name] or "")
    meeting.save()
    if people_changed:
        _attendance_set(meeting=meeting, attendees=fields["attendees"])
    if starts_at != old_start:
        meeting_weeks_changed(starts=[old_start, starts_at])
    elif people_changed:
        meeting_weeks_changed(starts=[starts_at])
    return meeting


@transaction.atomic
def meeting_delete(*, meeting: Meeting, by: AbstractBaseUser | None) -> None:
    """Delete a meeting with its attendance and action items; logs the weeks it counted in."""
    starts_at = meeting.starts_at
    meeting.delete()
    meeting_weeks_changed(starts=[starts_at])


# --- action items ----------------------------------------------------------------------------

ACTION_ITEM_FIELDS = ("text", "owner", "due_on")


def action_item_clean(
    *,
    text: str,
    owner: AbstractBaseUser | None,
    due_on: date | None,
    kept_owner_id: int | None = None,
) -> str:
    """The item's text, stripped; a ValidationError naming each field that is wrong. A new
    owner must be an active user (`kept_owner_id`: the one it has, kept even if they left)."""
    errors = {}
    text = (text or "").strip()
    limit = ActionItem._meta.get_field("text").max_length
    if not text:
        errors["text"] = "Say what is to be done."
    elif len(text) > limit:
        errors["text"] = f"Keep it to {limit} characters."
    if owner is None or not getattr(owner, "pk", None):
        errors["owner"] = "Choose who does it."
    elif owner.pk != kept_owner_id and not (
        get_user_model().objects.filter(pk=owner.pk, is_active=True).exists()
    ):
        errors["owner"] = "That person is not an active user."
    if due_on is None:
        errors["due_on"] = "Say by when."
    elif problem := date_in_range_problem(due_on):
        errors["due_on"] = problem
    if errors:
        raise ValidationError(errors)
    return text


@transaction.atomic
def action_item_add(
    *,
    meeting: Meeting,
    text: str,
    owner: AbstractBaseUser | None,
    due_on: date | None,
    by: AbstractBaseUser | None,
) -> ActionItem:
    """Something the meeting asks one person to do by a date."""
    text = action_item_clean(text=text, owner=owner, due_on=due_on)
    return ActionItem.objects.create(
        meeting=meeting, text=text, owner=owner, due_on=due_on, created_by=actor(by)
    )


@transaction.atomic
def action_item_update(
    *, item: ActionItem, by: AbstractBaseUser | None, **fields: Any
) -> ActionItem:
    """Change an item's text, owner or due date (ticking it off is `action_item_done`)."""
    unknown = set(fields) - set(ACTION_ITEM_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown action item fields: {', '.join(sorted(unknown))}.")
    item = ActionItem.objects.select_for_update().get(pk=item.pk)
    values = {"text": item.text, "owner": item.owner, "due_on": item.due_on, **fields}
    item.text = action_item_clean(**values, kept_owner_id=item.owner_id)
    item.owner, item.due_on = values["owner"], values["due_on"]
    item.save()
    return item


@transaction.atomic
def action_item_done(
    *,
    item: ActionItem,
    by: AbstractBaseUser | None,
    done: bool = True,
    now: datetime | None = None,
) -> ActionItem:
    """Tick an item off (`done`), noting when and by whom, or open it again. Ticking a done
    item again keeps who did it first."""
    item = ActionItem.objects.select_for_update().get(pk=item.pk)
    if done and item.done_at is None:
        item.done_at, item.done_by = now or timezone.now(), actor(by)
        item.save(update_fields=["done_at", "done_by"])
    elif not done and item.done_at is not None:
        item.done_at, item.done_by = None, None
        item.save(update_fields=["done_at", "done_by"])
    return item


@transaction.atomic
def action_item_delete(*, item: ActionItem, by: AbstractBaseUser | None) -> None:
    item.delete()

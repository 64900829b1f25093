"""Meetings and action items (alignment/services/meetings.py): attendees keep their team as it
was, times and items are checked, the weeks a change moves are logged, and who may do what."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from alignment.models import ActionItem, Meeting, MeetingAttendee
from alignment.roles import Role
from alignment.services.accounts import user_set_role
from alignment.services.meetings import (
    action_item_add,
    action_item_can_tick,
    action_item_delete,
    action_item_done,
    action_item_update,
    action_items_can_tick,
    meeting_campaign,
    meeting_can_delete,
    meeting_can_edit,
    meeting_create,
    meeting_delete,
    meeting_update,
)
from kpis.services_meetings import weekly_meeting_start
from leads.models import FunnelChange

pytestmark = pytest.mark.django_db

TUESDAY = datetime(2026, 5, 12, 9, 0, tzinfo=UTC)  # week of Monday 11 May 2026


def meeting(by: object, *attendees: object, **fields: object) -> Meeting:
    values = {
        "kind": Meeting.Kind.WEEKLY_ALIGNMENT,
        "starts_at": TUESDAY,
        "ends_at": TUESDAY + timedelta(hours=1),
        "attendees": list(attendees),
        **fields,
    }
    return meeting_create(by=by, **values)


def weeks_logged() -> set[date]:
    return set(
        FunnelChange.objects.filter(part="meetings", period="week").values_list(
            "period_start", flat=True
        )
    )


# --- attendees and times ---------------------------------------------------------------------


def test_attendees_keep_the_team_they_were_in_when_they_attended(
    sales_rep: object, marketing_rep: object, admin_user: object
) -> None:
    m = meeting(sales_rep, sales_rep, marketing_rep, admin_user)
    teams = dict(MeetingAttendee.objects.filter(meeting=m).values_list("user__username", "team"))
    assert teams == {"sam": "sales", "mia": "marketing", "ada": ""}
    user_set_role(user=sales_rep, role=Role.MARKETING_REP)  # sam moves to marketing later
    meeting_update(meeting=m, by=sales_rep, attendees=[sales_rep, marketing_rep], notes="x")
    teams = dict(MeetingAttendee.objects.filter(meeting=m).values_list("user__username", "team"))
    assert teams == {"sam": "sales", "mia": "marketing"}  # sam stays recorded as sales


@pytest.mark.parametrize(
    ("starts", "ends", "field"),
    [
        (TUESDAY, TUESDAY, "ends_at"),
        (TUESDAY, TUESDAY - timedelta(minutes=1), "ends_at"),
        (TUESDAY, TUESDAY + timedelta(days=8), "ends_at"),
        (datetime(1899, 12, 31, 10, tzinfo=UTC), TUESDAY, "starts_at"),
        (datetime(1969, 12, 31, 10, tzinfo=UTC), TUESDAY, "starts_at"),
        (TUESDAY, datetime(2101, 1, 1, 1, tzinfo=UTC), "ends_at"),
        (TUESDAY, datetime(3000, 1, 1, tzinfo=UTC), "ends_at"),
        (None, TUESDAY, "starts_at"),
    ],
)
def test_a_meeting_ends_after_it_starts_within_a_week_and_the_years_tandem_accepts(
    sales_rep: object, starts: datetime | None, ends: datetime, field: str
) -> None:
    with pytest.raises(ValidationError) as error:
        meeting(sales_rep, sales_rep, starts_at=starts, ends_at=ends)
    assert field in error.value.message_dict
    m = meeting(sales_rep, sales_rep)
    with pytest.raises(ValidationError) as error:
        meeting_update(meeting=m, by=sales_rep, starts_at=starts, ends_at=ends)
    assert field in error.value.message_dict
    m.refresh_from_db()
    assert (m.starts_at, m.ends_at) == (TUESDAY, TUESDAY + timedelta(hours=1))


def test_meetings_and_action_items_take_the_years_every_other_record_takes(
    sales_rep: object, settings: object
) -> None:
    settings.DATE_MIN_YEAR, settings.DATE_MAX_YEAR = 2020, 2030
    late = datetime(2031, 1, 6, 9, tzinfo=UTC)
    with pytest.raises(ValidationError) as error:
        meeting(sales_rep, sales_rep, starts_at=late, ends_at=late + timedelta(hours=1))
    assert error.value.message_dict["starts_at"] == [
        "Must be in the years 2020 to 2030 (DATE_MIN_YEAR, DATE_MAX_YEAR)."
    ]
    m = meeting(sales_rep, sales_rep)
    with pytest.raises(ValidationError) as error:
        action_item_add(
            meeting=m, by=sales_rep, text="Call", owner=sales_rep, due_on=date(2019, 12, 31)
        )
    assert "2020 to 2030" in error.value.message_dict["due_on"][0]
    assert not m.action_items.exists()


def test_an_unknown_kind_or_field_is_refused(sales_rep: object) -> None:
    with pytest.raises(ValidationError) as error:
        meeting(sales_rep, sales_rep, kind="party")
    assert "kind" in error.value.message_dict
    m = meeting(sales_rep, sales_rep)
    with pytest.raises(ValidationError):
        meeting_update(meeting=m, by=sales_rep, created_by=None)


def test_moving_a_meeting_logs_the_weeks_of_its_old_and_new_start(
    sales_rep: object, marketing_rep: object
) -> None:
    m = meeting(sales_rep, sales_rep, marketing_rep)
    FunnelChange.objects.all().delete()
    later = TUESDAY + timedelta(weeks=6)
    meeting_update(meeting=m, by=sales_rep, starts_at=later, ends_at=later + timedelta(hours=1))
    logged = weeks_logged()
    assert date(2026, 5, 11) in logged  # the old week and the three after it
    assert date(2026, 6, 22) in logged  # the new week
    assert {date(2026, 5, 11) + timedelta(weeks=n) for n in range(4)} <= logged


def test_a_change_of_attendees_logs_its_weeks_and_a_change_of_notes_does_not(
    sales_rep: object, marketing_rep: object
) -> None:
    m = meeting(sales_rep, sales_rep)
    FunnelChange.objects.all().delete()
    meeting_update(meeting=m, by=sales_rep, notes="We met.", agenda="- numbers")
    assert weeks_logged() == set()
    meeting_update(meeting=m, by=sales_rep, attendees=[sales_rep, marketing_rep])
    assert date(2026, 5, 11) in weeks_logged()


def test_deleting_a_meeting_takes_its_action_items_and_logs_its_weeks(
    sales_rep: object, marketing_rep: object
) -> None:
    m = meeting(sales_rep, sales_rep, marketing_rep)
    action_item_add(meeting=m, text="Call back", owner=sales_rep, due_on=date(2026, 5, 19),
                    by=sales_rep)  # fmt: skip
    FunnelChange.objects.all().delete()
    meeting_delete(meeting=m, by=sales_rep)
    assert not Meeting.objects.exists() and not ActionItem.objects.exists()
    assert date(2026, 5, 11) in weeks_logged()


def test_a_campaign_is_found_by_its_external_id(world: object) -> None:
    world.campaign("Spring webinar", external_id="C-spring")
    assert meeting_campaign(external_id="C-spring").name == "Spring webinar"
    assert meeting_campaign(external_id=None) is None
    with pytest.raises(ValidationError) as error:
        meeting_campaign(external_id="nope")
    assert "campaign" in error.value.message_dict


# --- who may do what -------------------------------------------------------------------------


def test_attendees_and_managers_edit_a_meeting_and_nobody_else(
    sales_rep: object,
    marketing_rep: object,
    sales_manager: object,
    marketing_manager: object,
    admin_user: object,
    make_user: Callable[..., object],
) -> None:
    other_rep = make_user("otto", Role.SALES_REP)
    m = meeting(marketing_rep, sales_rep)  # mia created it without attending
    allowed = [sales_rep, sales_manager, marketing_manager, admin_user]
    assert all(meeting_can_edit(meeting=m, user=u) for u in allowed)
    assert not meeting_can_edit(meeting=m, user=other_rep)
    assert not meeting_can_edit(meeting=m, user=marketing_rep)


def test_its_creator_and_managers_delete_a_meeting_and_other_reps_do_not(
    sales_rep: object,
    marketing_rep: object,
    sales_manager: object,
    admin_user: object,
) -> None:
    m = meeting(sales_rep, sales_rep, marketing_rep)
    assert meeting_can_delete(meeting=m, user=sales_rep)
    assert meeting_can_delete(meeting=m, user=sales_manager)
    assert meeting_can_delete(meeting=m, user=admin_user)
    assert not meeting_can_delete(meeting=m, user=marketing_rep)  # attends, did not create it


def test_an_items_owner_attendees_and_managers_tick_it_and_others_do_not(
    sales_rep: object,
    marketing_rep: object,
    marketing_manager: object,
    make_user: Callable[..., object],
) -> None:
    owner = make_user("olga", Role.MARKETING_REP)
    stranger = make_user("stan", Role.SALES_REP)
    m = meeting(sales_rep, sales_rep, marketing_rep)
    item = action_item_add(meeting=m, text="Send the deck", owner=owner, due_on=date(2026, 5, 19),
                           by=sales_rep)  # fmt: skip
    for user in (owner, sales_rep, marketing_rep, marketing_manager):
        assert action_item_can_tick(item=item, user=user)
    assert not action_item_can_tick(item=item, user=stranger)
    assert not meeting_can_edit(meeting=m, user=owner)  # ticks it, but edits nothing else
    other = action_item_add(meeting=m, text="Book a room", owner=sales_rep,
                            due_on=date(2026, 5, 19), by=sales_rep)  # fmt: skip
    items = [item, other]
    assert action_items_can_tick(meeting=m, items=items, user=owner) == {item.pk}
    assert action_items_can_tick(meeting=m, items=items, user=stranger) == set()
    assert action_items_can_tick(meeting=m, items=items, user=marketing_rep) == {item.pk, other.pk}


# --- action items ----------------------------------------------------------------------------


def test_an_action_item_needs_text_an_active_owner_and_a_due_date_in_range(
    sales_rep: object, make_user: Callable[..., object]
) -> None:
    m = meeting(sales_rep, sales_rep)
    gone = make_user("gone", Role.SALES_REP, is_active=False)
    cases = [
        ({"text": "  ", "owner": sales_rep, "due_on": date(2026, 5, 19)}, "text"),
        ({"text": "x" * 501, "owner": sales_rep, "due_on": date(2026, 5, 19)}, "text"),
        ({"text": "Call", "owner": None, "due_on": date(2026, 5, 19)}, "owner"),
        ({"text": "Call", "owner": gone, "due_on": date(2026, 5, 19)}, "owner"),
        ({"text": "Call", "owner": sales_rep, "due_on": None}, "due_on"),
        ({"text": "Call", "owner": sales_rep, "due_on": date(1899, 12, 31)}, "due_on"),
        ({"text": "Call", "owner": sales_rep, "due_on": date(3000, 1, 1)}, "due_on"),
    ]
    for fields, field in cases:
        with pytest.raises(ValidationError) as error:
            action_item_add(meeting=m, by=sales_rep, **fields)
        assert field in error.value.message_dict, fields
    assert not ActionItem.objects.exists()
    item = action_item_add(meeting=m, text="  Call Acme back ", owner=sales_rep,
                           due_on=date(2026, 5, 19), by=sales_rep)  # fmt: skip
    assert (item.text, item.created_by) == ("Call Acme back", sales_rep)


def test_an_item_keeps_an_owner_who_left_but_gets_no_new_one_who_did(
    sales_rep: object, make_user: Callable[..., object]
) -> None:
    m = meeting(sales_rep, sales_rep)
    leaver = make_user("lee", Role.SALES_REP)
    item = action_item_add(meeting=m, text="Call", owner=leaver, due_on=date(2026, 5, 19),
                           by=sales_rep)  # fmt: skip
    leaver.is_active = False
    leaver.save()
    item = action_item_update(item=item, by=sales_rep, text="Call twice")
    assert (item.text, item.owner) == ("Call twice", leaver)
    other = action_item_add(meeting=m, text="Mail", owner=sales_rep, due_on=date(2026, 5, 19),
                            by=sales_rep)  # fmt: skip
    with pytest.raises(ValidationError) as error:
        action_item_update(item=other, by=sales_rep, owner=leaver)
    assert "owner" in error.value.message_dict
    other.refresh_from_db()
    assert other.owner == sales_rep


def test_an_item_is_ticked_off_and_opened_again(sales_rep: object, sales_manager: object) -> None:
    m = meeting(sales_rep, sales_rep)
    item = action_item_add(meeting=m, text="Call", owner=sales_rep, due_on=date(2026, 5, 19),
                           by=sales_manager)  # fmt: skip
    at = datetime(2026, 5, 13, 15, tzinfo=UTC)
    item = action_item_done(item=item, by=sales_rep, now=at)
    assert (item.is_done, item.done_at, item.done_by) == (True, at, sales_rep)
    again = action_item_done(item=item, by=sales_manager, now=at + timedelta(hours=1))
    assert (again.done_at, again.done_by) == (at, sales_rep)  # the first tick stays
    item = action_item_done(item=item, by=sales_rep, done=False)
    item.refresh_from_db()
    assert (item.is_done, item.done_at, item.done_by) == (False, None, None)


def test_deleting_an_item_leaves_its_meeting(sales_rep: object) -> None:
    m = meeting(sales_rep, sales_rep)
    item = action_item_add(meeting=m, text="Call", owner=sales_rep, due_on=date(2026, 5, 19),
                           by=sales_rep)  # fmt: skip
    action_item_delete(item=item, by=sales_rep)
    assert not ActionItem.objects.exists() and Meeting.objects.filter(pk=m.pk).exists()


# --- starting the weekly meeting from the meeting view ---------------------------------------


def test_the_weekly_meeting_is_started_once_a_day(
    sales_manager: object, marketing_manager: object
) -> None:
    now = timezone.make_aware(datetime(2026, 5, 12, 9, 30))
    first, created = weekly_meeting_start(by=sales_manager, now=now)
    assert created
    assert first.kind == "weekly_alignment"
    assert (first.starts_at, first.ends_at) == (now, now + timedelta(hours=1))
    assert list(first.attendees.all()) == [sales_manager]
    assert first.created_by == sales_manager
    assert "## SLA breaches now" in first.agenda
    again, created = weekly_meeting_start(by=marketing_manager, now=now + timedelta(hours=5))
    assert (again, created) == (first, False)
    assert Meeting.objects.count() == 1
    tomorrow, created = weekly_meeting_start(by=marketing_manager, now=now + timedelta(days=1))
    assert created and tomorrow != first
    assert Meeting.objects.count() == 2


def test_the_weekly_meeting_invites_the_people_of_the_last_one(
    sales_manager: object, marketing_manager: object, sales_rep: object
) -> None:
    now = timezone.make_aware(datetime(2026, 5, 12, 9, 30))
    last, _ = weekly_meeting_start(by=sales_manager, now=now - timedelta(days=7))
    meeting_update(meeting=last, by=sales_manager,
                   attendees=[sales_manager, marketing_manager, sales_rep])  # fmt: skip
    sales_rep.is_active = False  # has left since
    sales_rep.save()
    found, created = weekly_meeting_start(by=marketing_manager, now=now)
    assert created
    assert set(found.attendees.all()) == {marketing_manager, sales_manager}  # joint at once


def test_a_weekly_meeting_planned_for_today_is_opened_instead_of_a_second(
    sales_manager: object,
) -> None:
    now = timezone.make_aware(datetime(2026, 5, 12, 9, 30))
    planned = meeting(sales_manager, sales_manager, starts_at=now + timedelta(hours=6),
                      ends_at=now + timedelta(hours=7))  # fmt: skip
    meeting(sales_manager, sales_manager, kind="brainstorm", starts_at=now,
            ends_at=now + timedelta(hours=1))  # fmt: skip
    found, created = weekly_meeting_start(by=sales_manager, now=now)
    assert (found, created) == (planned, False)

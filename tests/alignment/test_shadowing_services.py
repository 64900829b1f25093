"""Shadowing: a person of one team with a host of the other, scheduled, logged, debriefed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from alignment.models import Meeting, ShadowingSession
from alignment.roles import Role
from alignment.services.accounts import user_set_role
from alignment.services.shadowing import (
    shadowing_cancel,
    shadowing_debrief,
    shadowing_delete,
    shadowing_log,
    shadowing_schedule,
    shadowing_update,
)
from leads.models import FunnelChange

pytestmark = pytest.mark.django_db

START = datetime(2026, 5, 12, 9, 0, tzinfo=UTC)
END = START + timedelta(hours=4)


def session(by: object, person: object, host: object, **extra: object) -> ShadowingSession:
    values = {"starts_at": START, "ends_at": END, "focus": "Discovery calls", **extra}
    return shadowing_schedule(by=by, person=person, host=host, **values)


def test_a_rep_schedules_themselves_with_someone_of_the_other_team(
    marketing_rep: object, sales_rep: object
) -> None:
    s = session(marketing_rep, marketing_rep, sales_rep)
    assert (s.person_team, s.host_team, s.status) == ("marketing", "sales", "scheduled")
    assert s.created_by == marketing_rep


def test_a_rep_cannot_schedule_someone_else_a_manager_can(
    marketing_rep: object, sales_rep: object, marketing_manager: object
) -> None:
    with pytest.raises(PermissionDenied):
        session(sales_rep, marketing_rep, sales_rep)
    assert not ShadowingSession.objects.exists()
    s = session(marketing_manager, marketing_rep, sales_rep)
    assert s.person == marketing_rep


def test_the_person_and_the_host_are_in_different_teams(
    marketing_rep: object, marketing_manager: object, sales_rep: object, admin_user: object
) -> None:
    with pytest.raises(ValidationError) as error:
        session(marketing_rep, marketing_rep, marketing_manager)
    assert "both in marketing" in error.value.message_dict["host"][0]
    with pytest.raises(ValidationError) as error:
        session(admin_user, admin_user, sales_rep)
    assert "no team" in error.value.message_dict["person"][0]
    with pytest.raises(ValidationError) as error:
        session(marketing_rep, marketing_rep, marketing_rep)
    assert "host" in error.value.message_dict
    assert not ShadowingSession.objects.exists()


@pytest.mark.parametrize(
    ("starts_at", "ends_at", "field"),
    [
        (START, START, "ends_at"),
        (START, START - timedelta(hours=1), "ends_at"),
        (START, START + timedelta(hours=25), "ends_at"),
        (datetime(1899, 12, 31, 9, tzinfo=UTC), END, "starts_at"),
        (START, datetime(3000, 1, 1, tzinfo=UTC), "ends_at"),
        (None, END, "starts_at"),
    ],
)
def test_a_session_has_sane_times(
    marketing_rep: object,
    sales_rep: object,
    starts_at: datetime | None,
    ends_at: datetime,
    field: str,
) -> None:
    with pytest.raises(ValidationError) as error:
        session(marketing_rep, marketing_rep, sales_rep, starts_at=starts_at, ends_at=ends_at)
    assert field in error.value.message_dict


def test_a_full_day_is_the_longest_session(marketing_rep: object, sales_rep: object) -> None:
    s = session(marketing_rep, marketing_rep, sales_rep, ends_at=START + timedelta(days=1))
    assert s.ends_at - s.starts_at == timedelta(days=1)


def test_the_host_or_the_person_reschedules_others_do_not(
    marketing_rep: object, sales_rep: object, make_user: object
) -> None:
    other = make_user("otto", Role.SALES_REP)
    s = session(marketing_rep, marketing_rep, sales_rep)
    with pytest.raises(PermissionDenied):
        shadowing_update(session=s, by=other, starts_at=START + timedelta(days=1))
    later = START + timedelta(days=2)
    s = shadowing_update(
        session=s, by=sales_rep, starts_at=later, ends_at=later + timedelta(hours=2)
    )
    assert (s.starts_at, s.ends_at) == (later, later + timedelta(hours=2))
    with pytest.raises(PermissionDenied):  # the host can't put someone else in as the person
        shadowing_update(session=s, by=sales_rep, person=make_user("mo", Role.MARKETING_REP))
    s = shadowing_update(session=s, by=marketing_rep, host=other)
    assert (s.host, s.host_team) == (other, "sales")


def test_a_rescheduled_session_keeps_the_person_s_team_and_stays_cross_team(
    marketing_rep: object, sales_rep: object, marketing_manager: object
) -> None:
    s = session(marketing_rep, marketing_rep, sales_rep)
    user_set_role(user=marketing_rep, role=Role.SALES_REP)
    s = shadowing_update(session=s, by=marketing_rep, focus="Pricing objections")
    assert (s.person_team, s.focus) == ("marketing", "Pricing objections")
    with pytest.raises(ValidationError):
        shadowing_update(session=s, by=marketing_manager, host=marketing_manager)
    s.refresh_from_db()
    assert s.host == sales_rep


def test_only_after_it_started_the_person_logs_what_was_learned(
    marketing_rep: object, sales_rep: object, sales_manager: object
) -> None:
    s = session(marketing_rep, marketing_rep, sales_rep)
    with pytest.raises(ValidationError) as error:
        shadowing_log(
            session=s, by=marketing_rep, learned="Too soon", now=START - timedelta(hours=1)
        )
    assert "not started" in error.value.message_dict["learned"][0]
    with pytest.raises(PermissionDenied):  # the host does not say what the person learned
        shadowing_log(session=s, by=sales_rep, learned="They learned a lot", now=END)
    with pytest.raises(ValidationError):
        shadowing_log(session=s, by=marketing_rep, learned="   ", now=END)
    s.refresh_from_db()
    assert s.status == "scheduled"
    s = shadowing_log(
        session=s, by=marketing_rep, learned="Prospects ask for *ROI* first.", now=END
    )
    assert (s.status, s.logged_at, s.learned) == ("done", END, "Prospects ask for *ROI* first.")
    s = shadowing_log(session=s, by=sales_manager, learned="And pricing.", now=END + timedelta(1))
    assert (s.logged_at, s.learned) == (END, "And pricing.")


def test_a_cancelled_session_is_not_logged_and_a_logged_one_not_cancelled(
    marketing_rep: object, sales_rep: object
) -> None:
    s = session(marketing_rep, marketing_rep, sales_rep)
    shadowing_cancel(session=s, by=sales_rep)
    with pytest.raises(ValidationError):
        shadowing_log(session=s, by=marketing_rep, learned="x", now=END)
    with pytest.raises(ValidationError):
        shadowing_update(session=s, by=marketing_rep, focus="again")
    done = session(marketing_rep, marketing_rep, sales_rep)
    shadowing_log(session=done, by=marketing_rep, learned="Lots", now=END)
    with pytest.raises(ValidationError):
        shadowing_cancel(session=done, by=marketing_rep)
    assert ShadowingSession.objects.get(pk=done.pk).status == "done"


def test_a_rep_cannot_delete_someone_elses_session_but_can_delete_their_own(
    marketing_rep: object, sales_rep: object, sales_manager: object
) -> None:
    theirs = session(marketing_rep, marketing_rep, sales_rep)
    with pytest.raises(PermissionDenied):  # hosting is not owning
        shadowing_delete(session=theirs, by=sales_rep)
    assert ShadowingSession.objects.filter(pk=theirs.pk).exists()
    mine = session(sales_rep, sales_rep, marketing_rep)
    shadowing_delete(session=mine, by=sales_rep)
    shadowing_delete(session=theirs, by=sales_manager)
    assert not ShadowingSession.objects.exists()


def test_the_debrief_becomes_one_meeting_of_both_people_with_the_agenda_prefilled(
    marketing_rep: object, sales_rep: object, sales_manager: object
) -> None:
    s = session(marketing_rep, marketing_rep, sales_rep)
    shadowing_log(session=s, by=marketing_rep, learned="Prospects ask for **ROI** first.", now=END)
    FunnelChange.objects.all().delete()
    at = timezone.now().replace(microsecond=0) + timedelta(days=1)
    meeting = shadowing_debrief(session=s, by=sales_manager, starts_at=at)
    assert meeting.kind == "shadowing_debrief"
    assert meeting.title == "Debrief: mia with Sam Rep"
    assert (meeting.starts_at, meeting.ends_at) == (at, at + timedelta(minutes=30))
    attendance = dict(meeting.attendance.values_list("user__username", "team"))
    assert attendance == {"mia": "marketing", "sam": "sales", "sally": "sales"}
    assert "Discovery calls" in meeting.agenda
    assert "Prospects ask for **ROI** first." in meeting.agenda
    s.refresh_from_db()
    assert s.debrief == meeting
    assert FunnelChange.objects.filter(part="meetings").exists()  # a joint meeting was held
    again = shadowing_debrief(session=s, by=marketing_rep)
    assert again == meeting
    assert Meeting.objects.count() == 1


def test_a_debrief_waits_for_the_log_and_is_for_the_people_involved(
    marketing_rep: object, sales_rep: object, make_user: object
) -> None:
    s = session(marketing_rep, marketing_rep, sales_rep)
    with pytest.raises(ValidationError):
        shadowing_debrief(session=s, by=marketing_rep)
    shadowing_log(session=s, by=marketing_rep, learned="Lots", now=END)
    with pytest.raises(PermissionDenied):
        shadowing_debrief(session=s, by=make_user("otto", Role.SALES_REP))
    meeting = shadowing_debrief(session=s, by=sales_rep)
    assert set(meeting.attendance.values_list("user__username", flat=True)) == {"mia", "sam"}
    assert meeting.starts_at > timezone.now()


@pytest.mark.parametrize("at", [datetime(9999, 12, 31, 23, 50, tzinfo=UTC),
                                datetime(1, 1, 1, 0, 10, tzinfo=UTC)])  # fmt: skip
def test_a_debrief_at_the_ends_of_the_calendar_is_refused_not_a_crash(
    marketing_rep: object, sales_rep: object, at: datetime
) -> None:
    s = session(marketing_rep, marketing_rep, sales_rep)
    shadowing_log(session=s, by=marketing_rep, learned="Lots", now=END)
    with pytest.raises(ValidationError) as refused:
        shadowing_debrief(session=s, by=marketing_rep, starts_at=at)
    assert "starts_at" in refused.value.message_dict
    assert not Meeting.objects.exists()

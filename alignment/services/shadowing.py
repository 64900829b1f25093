"""Shadowing sessions: a person of one team spends time with someone of the other. A session
is scheduled, then logged with what was learned (or cancelled); its debrief can become a
meeting of both.

- Scheduling: a rep schedules only themselves; managers schedule anyone. The person and the
  host are in different teams (so each must be in one), kept as they were then.
- A session lasts at most a day (`MAX_SESSION_LENGTH`): a day in the other team's shoes; a
  longer stay is several sessions.
- Rescheduling and cancelling: the person, the host, whoever scheduled it, or a manager,
  while it is scheduled. Logging: the person (or a manager), once it has started.
- Deleting: the person, whoever scheduled it, or a manager (a rep can't delete others').
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from alignment.models import Meeting, ShadowingSession
from alignment.roles import user_is_manager, user_team
from alignment.services.meetings import meeting_create
from alignment.services.versions import actor
from config.dates import date_in_range_problem

MAX_SESSION_LENGTH = timedelta(days=1)
DEBRIEF_LENGTH = timedelta(minutes=30)
FOCUS_MAX = ShadowingSession._meta.get_field("focus").max_length
LEARNED_MAX = 20_000
TITLE_MAX = Meeting._meta.get_field("title").max_length


def _is(user: AbstractBaseUser | AnonymousUser, pk: Any) -> bool:
    return bool(user.is_authenticated) and pk is not None and user.pk == pk


# --- who may do what -----------------------------------------------------------------------


def shadowing_can_schedule(
    *, user: AbstractBaseUser | AnonymousUser, person: AbstractBaseUser | None = None
) -> bool:
    """A rep schedules only themselves (`person`: whom for; None: anyone at all); managers
    schedule anyone."""
    if not user.is_authenticated:
        return False
    return user_is_manager(user) or person is None or person.pk == user.pk


def shadowing_can_update(
    *, session: ShadowingSession, user: AbstractBaseUser | AnonymousUser
) -> bool:
    """Reschedule or cancel: the person, the host, whoever scheduled it, or a manager."""
    if not user.is_authenticated:
        return False
    mine = any(_is(user, pk) for pk in (session.person_id, session.host_id, session.created_by_id))
    return mine or user_is_manager(user)


def shadowing_can_cancel(
    *, session: ShadowingSession, user: AbstractBaseUser | AnonymousUser
) -> bool:
    return shadowing_can_update(session=session, user=user)


def shadowing_can_log(*, session: ShadowingSession, user: AbstractBaseUser | AnonymousUser) -> bool:
    """What was learned is the person's to say (or a manager's, on their behalf)."""
    return _is(user, session.person_id) or (user.is_authenticated and user_is_manager(user))


def shadowing_can_debrief(
    *, session: ShadowingSession, user: AbstractBaseUser | AnonymousUser
) -> bool:
    """The person, the host or a manager turns the debrief into a meeting."""
    involved = _is(user, session.person_id) or _is(user, session.host_id)
    return involved or (user.is_authenticated and user_is_manager(user))


def shadowing_can_delete(
    *, session: ShadowingSession, user: AbstractBaseUser | AnonymousUser
) -> bool:
    """The person, whoever scheduled it, or a manager: reps can't delete others' records."""
    mine = _is(user, session.person_id) or _is(user, session.created_by_id)
    return mine or (user.is_authenticated and user_is_manager(user))


# --- checks --------------------------------------------------------------------------------


def shadowing_time_errors(
    *, starts_at: datetime | None, ends_at: datetime | None
) -> dict[str, str]:
    errors = {}
    if starts_at is None:
        errors["starts_at"] = "Say when the session starts."
    elif problem := date_in_range_problem(starts_at):
        errors["starts_at"] = problem
    if ends_at is None:
        errors["ends_at"] = "Say when the session ends."
    elif problem := date_in_range_problem(ends_at):
        errors["ends_at"] = problem
    if not errors and ends_at <= starts_at:
        errors["ends_at"] = "A session ends after it starts."
    elif not errors and ends_at - starts_at > MAX_SESSION_LENGTH:
        errors["ends_at"] = "A session lasts at most a day; schedule a longer stay as several."
    return errors


def shadowing_people_errors(
    *,
    person: AbstractBaseUser | None,
    host: AbstractBaseUser | None,
    person_team: str,
    host_team: str,
) -> dict[str, str]:
    """The person and the host are two people of different teams."""
    errors = {}
    if person is None:
        errors["person"] = "Say who shadows."
    elif not person_team:
        errors["person"] = f"{person.get_username()} is in no team: shadowing is of the other team."
    if host is None:
        errors["host"] = "Say whom they shadow."
    elif not host_team:
        errors["host"] = f"{host.get_username()} is in no team: shadowing is of the other team."
    if not errors and person.pk == host.pk:
        errors["host"] = "The host is someone of the other team, not the person themselves."
    elif not errors and person_team == host_team:
        errors["host"] = (
            f"{person.get_username()} and {host.get_username()} are both in {person_team}: "
            "the host is someone of the other team."
        )
    return errors


def _focus_errors(focus: str) -> dict[str, str]:
    if len(focus) > FOCUS_MAX:
        return {"focus": f"Keep the focus under {FOCUS_MAX} characters."}
    return {}


# --- writes --------------------------------------------------------------------------------


@transaction.atomic
def shadowing_schedule(
    *,
    by: AbstractBaseUser,
    person: AbstractBaseUser,
    host: AbstractBaseUser,
    starts_at: datetime,
    ends_at: datetime,
    focus: str = "",
) -> ShadowingSession:
    """Schedule `person` to spend `starts_at`–`ends_at` with `host` of the other team."""
    if not shadowing_can_schedule(user=by, person=person):
        raise PermissionDenied(
            "A rep schedules shadowing only for themselves; managers for anyone."
        )
    person_team = user_team(person) if person is not None else ""
    host_team = user_team(host) if host is not None else ""
    focus = (focus or "").strip()
    errors = {
        **shadowing_people_errors(
            person=person, host=host, person_team=person_team, host_team=host_team
        ),
        **shadowing_time_errors(starts_at=starts_at, ends_at=ends_at),
        **_focus_errors(focus),
    }
    if errors:
        raise ValidationError(errors)
    return ShadowingSession.objects.create(
        person=person,
        person_team=person_team,
        host=host,
        host_team=host_team,
        starts_at=starts_at,
        ends_at=ends_at,
        focus=focus,
        created_by=actor(by),
    )


def _locked(session: ShadowingSession) -> ShadowingSession:
    return ShadowingSession.objects.select_for_update().get(pk=session.pk)


@transaction.atomic
def shadowing_update(
    *,
    session: ShadowingSession,
    by: AbstractBaseUser,
    person: AbstractBaseUser | None = None,
    host: AbstractBaseUser | None = None,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    focus: str | None = None,
) -> ShadowingSession:
    """Reschedule a session while it is scheduled (None: unchanged). A person who stays keeps
    the team they were scheduled with; a new person or host gets the team they are in now. A
    rep who changes who shadows can only put themselves in."""
    if not shadowing_can_update(session=session, user=by):
        raise PermissionDenied(
            "Only the person, the host, whoever scheduled it or a manager reschedules a session."
        )
    session = _locked(session)
    if session.status != ShadowingSession.Status.SCHEDULED:
        raise ValidationError(f"This session is {session.get_status_display().lower()}: it stays.")
    if person is not None and person.pk != session.person_id:
        if not shadowing_can_schedule(user=by, person=person):
            raise PermissionDenied(
                "A rep schedules shadowing only for themselves; managers for anyone."
            )
        session.person, session.person_team = person, user_team(person)
    if host is not None and host.pk != session.host_id:
        session.host, session.host_team = host, user_team(host)
    session.starts_at = session.starts_at if starts_at is None else starts_at
    session.ends_at = session.ends_at if ends_at is None else ends_at
    session.focus = session.focus if focus is None else focus.strip()
    errors = {
        **shadowing_people_errors(
            person=session.person,
            host=session.host,
            person_team=session.person_team,
            host_team=session.host_team,
        ),
        **shadowing_time_errors(starts_at=session.starts_at, ends_at=session.ends_at),
        **_focus_errors(session.focus),
    }
    if errors:
        raise ValidationError(errors)
    session.save()
    return session


@transaction.atomic
def shadowing_log(
    *,
    session: ShadowingSession,
    by: AbstractBaseUser,
    learned: str,
    now: datetime | None = None,
) -> ShadowingSession:
    """The person says what they learned: the session is done. Only once it has started; a
    second log rewrites what was learned and keeps when it was first logged."""
    if not shadowing_can_log(session=session, user=by):
        raise PermissionDenied("Only the person who shadowed (or a manager) logs what was learned.")
    now = now or timezone.now()
    session = _locked(session)
    if session.status == ShadowingSession.Status.CANCELLED:
        raise ValidationError("This session was cancelled: there is nothing to log.")
    if now < session.starts_at:
        raise ValidationError(
            {"learned": "The session has not started yet: log what was learned afterwards."}
        )
    learned = (learned or "").strip()
    if not learned:
        raise ValidationError({"learned": "Say what was learned."})
    if len(learned) > LEARNED_MAX:
        raise ValidationError({"learned": f"Keep it under {LEARNED_MAX:,} characters."})
    session.learned = learned
    session.status = ShadowingSession.Status.DONE
    session.logged_at = session.logged_at or now
    session.save()
    return session


@transaction.atomic
def shadowing_cancel(*, session: ShadowingSession, by: AbstractBaseUser) -> ShadowingSession:
    """Call a scheduled session off (cancelling twice changes nothing)."""
    if not shadowing_can_cancel(session=session, user=by):
        raise PermissionDenied(
            "Only the person, the host, whoever scheduled it or a manager cancels a session."
        )
    session = _locked(session)
    if session.status == ShadowingSession.Status.DONE:
        raise ValidationError("This session took place and is logged: it can't be cancelled.")
    if session.status != ShadowingSession.Status.CANCELLED:
        session.status = ShadowingSession.Status.CANCELLED
        session.save()
    return session


@transaction.atomic
def shadowing_delete(*, session: ShadowingSession, by: AbstractBaseUser) -> None:
    """Delete a session (its debrief meeting stays a meeting)."""
    if not shadowing_can_delete(session=session, user=by):
        raise PermissionDenied(
            "Only the person, whoever scheduled the session or a manager deletes it: "
            "reps can't delete others' records."
        )
    session.delete()


def _name(user: AbstractBaseUser) -> str:
    return user.get_full_name() or user.get_username()


def shadowing_debrief_agenda(session: ShadowingSession) -> str:
    """The debrief's agenda in Markdown, from the session's focus and what was learned."""
    local_start = timezone.localtime(session.starts_at)
    local_end = timezone.localtime(session.ends_at)
    when = f"{local_start:%a %d %b %Y, %H:%M}–{local_end:%H:%M}"
    if local_end.date() != local_start.date():
        when = f"{local_start:%a %d %b %Y, %H:%M} – {local_end:%a %d %b, %H:%M}"
    person_team = session.person_team or "no team"
    host_team = session.host_team or "no team"
    lines = [
        f"{_name(session.person)} ({person_team}) spent {when} with "
        f"{_name(session.host)} ({host_team}).",
        "",
        "## Focus",
        "",
        session.focus or "_No focus was set._",
        "",
        "## What was learned",
        "",
        session.learned,
        "",
        "## To discuss",
        "",
        f"- What should {person_team} know about how {host_team} works?",
        "- What do we change, and who does it by when? (add action items)",
        "- Who shadows next?",
    ]
    return "\n".join(lines)


@transaction.atomic
def shadowing_debrief(
    *,
    session: ShadowingSession,
    by: AbstractBaseUser,
    starts_at: datetime | None = None,
    now: datetime | None = None,
) -> Meeting:
    """Turn a logged session's debrief into a meeting of kind `shadowing_debrief` with the
    person and the host (and `by`, if someone else), its agenda prefilled from the focus and
    what was learned. It starts at `starts_at` (default: the next full hour) for half an hour.
    A session has one debrief: asking again returns the meeting it already has."""
    if not shadowing_can_debrief(session=session, user=by):
        raise PermissionDenied(
            "Only the person, the host or a manager turns a session's debrief into a meeting."
        )
    session = (
        ShadowingSession.objects.select_for_update(of=("self",))
        .select_related("debrief")
        .get(pk=session.pk)
    )
    if session.debrief is not None:
        return session.debrief
    if session.status != ShadowingSession.Status.DONE:
        raise ValidationError("Log what was learned first: the debrief starts from it.")
    if starts_at is None:
        local = timezone.localtime(now or timezone.now())
        starts_at = local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    if problem := date_in_range_problem(starts_at):  # before its end: 9999 + 30 min overflows
        raise ValidationError({"starts_at": problem})
    attendees = [session.person, session.host]
    if by.pk not in {session.person_id, session.host_id}:
        attendees.append(by)
    meeting = meeting_create(
        kind=Meeting.Kind.SHADOWING_DEBRIEF,
        starts_at=starts_at,
        ends_at=starts_at + DEBRIEF_LENGTH,
        attendees=attendees,
        by=by,
        title=f"Debrief: {_name(session.person)} with {_name(session.host)}"[:TITLE_MAX],
        agenda=shadowing_debrief_agenda(session),
    )
    session.debrief = meeting
    session.save(update_fields=["debrief"])
    return meeting

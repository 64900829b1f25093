"""The shadowing pages through real HTTP: schedule, reschedule, log, cancel, debrief, delete,
with their permissions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from alignment.models import Meeting, ShadowingSession
from alignment.roles import Role
from alignment.services.shadowing import shadowing_log, shadowing_schedule
from leads.models import FunnelChange
from tests.conftest import csv_rows

pytestmark = pytest.mark.django_db

FORMAT = "%Y-%m-%dT%H:%M"


def local(delta: timedelta) -> str:
    return (timezone.localtime() + delta).strftime(FORMAT)


def schedule(
    by: object, person: object, host: object, *, days: float = 1, **extra: object
) -> ShadowingSession:
    start = timezone.now().replace(microsecond=0) + timedelta(days=days)
    return shadowing_schedule(
        by=by, person=person, host=host, starts_at=start, ends_at=start + timedelta(hours=3),
        focus=extra.pop("focus", "Discovery calls"), **extra,
    )  # fmt: skip


def logged_in(client: Client, user: object) -> Client:
    client.force_login(user)
    return client


def form(**extra: object) -> dict:
    return {"person": "mia", "host": "sam", "starts_at": local(timedelta(days=2)),
            "ends_at": local(timedelta(days=2, hours=4)), "focus": "Pricing calls", **extra}  # fmt: skip


def test_a_rep_schedules_themselves_from_the_page(
    client: Client, marketing_rep: object, sales_rep: object
) -> None:
    client = logged_in(client, marketing_rep)
    page = client.get("/shadowing/new/").content.decode()
    assert '<option value="mia" selected>mia</option>' in page
    assert '<optgroup label="Sales">' in page
    response = client.post("/shadowing/new/", form())
    session = ShadowingSession.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/shadowing/{session.pk}/"
    assert (session.person, session.host, session.focus) == (
        marketing_rep,
        sales_rep,
        "Pricing calls",
    )


def test_a_rep_cannot_schedule_someone_else_a_manager_can(
    client: Client, marketing_rep: object, sales_rep: object, sales_manager: object
) -> None:
    refused = logged_in(client, sales_rep).post("/shadowing/new/", form())
    assert refused.status_code == 403
    assert not ShadowingSession.objects.exists()
    allowed = logged_in(client, sales_manager).post("/shadowing/new/", form())
    assert allowed.status_code == 302
    assert ShadowingSession.objects.get().created_by == sales_manager


def test_people_of_the_same_team_or_bad_times_get_a_400_and_nothing_is_saved(
    client: Client, marketing_rep: object, marketing_manager: object, sales_rep: object
) -> None:
    client = logged_in(client, marketing_rep)
    same = client.post("/shadowing/new/", form(host="max"))
    assert same.status_code == 400
    assert "the host is someone of the other team" in same.content.decode()
    too_long = client.post("/shadowing/new/", form(ends_at=local(timedelta(days=4))))
    assert too_long.status_code == 400 and "at most a day" in too_long.content.decode()
    old = client.post("/shadowing/new/", form(starts_at="1899-12-31T09:00"))
    assert old.status_code == 400 and "1970 to 2100" in old.content.decode()
    assert not ShadowingSession.objects.exists()


def test_the_list_shows_this_month_and_ahead_then_the_past(
    client: Client, marketing_rep: object, sales_rep: object, sales_manager: object
) -> None:
    ahead = schedule(marketing_rep, marketing_rep, sales_rep, focus="Ahead")
    past = schedule(sales_manager, sales_rep, marketing_rep, days=-70, focus="Long ago")
    shadowing_log(session=past, by=sales_rep, learned="Marketing *plans* quarters ahead.")
    response = logged_in(client, sales_rep).get("/shadowing/")
    assert [s.pk for s in response.context["current"]] == [ahead.pk]
    assert [s.pk for s in response.context["past"]] == [past.pk]
    html = response.content.decode()
    assert html.index("Ahead") < html.index("Long ago")
    assert "Marketing plans quarters ahead." in html  # the excerpt, as text
    assert 'class="person person-sales"' in html and 'class="person person-marketing"' in html
    assert 'aria-current="page">Shadowing' in html


def test_the_person_or_the_host_reschedules_others_get_a_403(
    client: Client, marketing_rep: object, sales_rep: object, make_user: Callable[..., object]
) -> None:
    session = schedule(marketing_rep, marketing_rep, sales_rep)
    url = f"/shadowing/{session.pk}/edit/"
    stranger = logged_in(client, make_user("otto", Role.SALES_REP))
    assert stranger.get(url).status_code == 403
    assert stranger.post(url, form(focus="Taken over")).status_code == 403
    host = logged_in(client, sales_rep)
    assert '<option value="mia" selected>' in host.get(url).content.decode()
    assert host.post(url, form(focus="Renewals")).status_code == 302
    session.refresh_from_db()
    assert (session.person, session.focus) == (marketing_rep, "Renewals")


def test_a_session_whose_host_has_left_is_rescheduled_with_them(
    client: Client, marketing_rep: object, sales_rep: object
) -> None:
    session = schedule(marketing_rep, marketing_rep, sales_rep)
    sales_rep.is_active = False
    sales_rep.save(update_fields=["is_active"])
    client = logged_in(client, marketing_rep)
    assert (
        '<option value="sam" selected>'
        in client.get(f"/shadowing/{session.pk}/edit/").content.decode()
    )
    assert client.post(f"/shadowing/{session.pk}/edit/", form(focus="Renewals")).status_code == 302
    session.refresh_from_db()
    assert (session.host, session.focus) == (sales_rep, "Renewals")
    new = client.get("/shadowing/new/").content.decode()
    assert 'value="sam"' not in new  # someone who left is not offered for a new session


def test_the_person_logs_what_was_learned_once_the_session_started(
    client: Client, marketing_rep: object, sales_rep: object
) -> None:
    future = schedule(marketing_rep, marketing_rep, sales_rep)
    client = logged_in(client, marketing_rep)
    assert "Log it" not in client.get(f"/shadowing/{future.pk}/").content.decode()
    too_soon = client.post(f"/shadowing/{future.pk}/log/", {"learned": "Already?"})
    assert too_soon.status_code == 400 and "not started" in too_soon.content.decode()
    started = schedule(marketing_rep, marketing_rep, sales_rep, days=-0.05)
    assert "Log it" in client.get(f"/shadowing/{started.pk}/").content.decode()
    host = logged_in(Client(), sales_rep)
    assert host.post(f"/shadowing/{started.pk}/log/", {"learned": "Mine"}).status_code == 403
    response = client.post(f"/shadowing/{started.pk}/log/", {"learned": "Calls open with *ROI*."})
    assert response.status_code == 302
    started.refresh_from_db()
    assert (started.status, started.learned) == ("done", "Calls open with *ROI*.")
    assert "<em>ROI</em>" in client.get(f"/shadowing/{started.pk}/").content.decode()


def test_the_debrief_becomes_one_meeting_with_both_people(
    client: Client, marketing_rep: object, sales_rep: object
) -> None:
    session = schedule(marketing_rep, marketing_rep, sales_rep, days=-1)
    shadowing_log(session=session, by=marketing_rep, learned="Sales needs case studies.")
    FunnelChange.objects.all().delete()
    client = logged_in(client, sales_rep)
    assert (
        "Turn the debrief into a meeting"
        in client.get(f"/shadowing/{session.pk}/").content.decode()
    )
    url = f"/shadowing/{session.pk}/debrief/"
    first = client.post(url, {"starts_at": local(timedelta(days=1))})
    assert first.status_code == 302
    meeting = Meeting.objects.get()
    assert set(meeting.attendees.values_list("username", flat=True)) == {"mia", "sam"}
    assert meeting.kind == "shadowing_debrief" and "Sales needs case studies." in meeting.agenda
    assert FunnelChange.objects.filter(part="meetings").exists()
    assert client.post(url, {"starts_at": ""}).status_code == 302  # the same debrief again
    assert Meeting.objects.count() == 1
    session.refresh_from_db()
    assert session.debrief == meeting


def test_a_stranger_cannot_debrief_and_an_unlogged_session_is_not_debriefed(
    client: Client, marketing_rep: object, sales_rep: object, make_user: Callable[..., object]
) -> None:
    session = schedule(marketing_rep, marketing_rep, sales_rep, days=-1)
    stranger = logged_in(client, make_user("otto", Role.SALES_REP))
    assert stranger.post(f"/shadowing/{session.pk}/debrief/").status_code == 403
    unlogged = logged_in(client, marketing_rep).post(f"/shadowing/{session.pk}/debrief/")
    assert unlogged.status_code == 400 and "Log what was learned first" in unlogged.content.decode()
    assert not Meeting.objects.exists()


def test_a_debrief_in_the_year_9999_is_a_400_not_a_crash(
    client: Client, marketing_rep: object, sales_rep: object
) -> None:
    session = schedule(marketing_rep, marketing_rep, sales_rep, days=-1)
    shadowing_log(session=session, by=marketing_rep, learned="Sales needs case studies.")
    client = logged_in(client, marketing_rep)
    response = client.post(f"/shadowing/{session.pk}/debrief/", {"starts_at": "9999-12-31T23:50"})
    assert response.status_code == 400 and "1970 to 2100" in response.content.decode()
    assert not Meeting.objects.exists()


def test_a_rep_cannot_delete_someone_elses_session_but_can_delete_their_own(
    client: Client, marketing_rep: object, sales_rep: object
) -> None:
    theirs = schedule(marketing_rep, marketing_rep, sales_rep)
    client = logged_in(client, sales_rep)
    assert client.post(f"/shadowing/{theirs.pk}/delete/").status_code == 403
    assert ShadowingSession.objects.filter(pk=theirs.pk).exists()
    assert "/delete/" not in client.get(f"/shadowing/{theirs.pk}/").content.decode()
    mine = schedule(sales_rep, sales_rep, marketing_rep)
    assert client.post(f"/shadowing/{mine.pk}/delete/").status_code == 302
    assert list(ShadowingSession.objects.values_list("pk", flat=True)) == [theirs.pk]
    assert client.get(f"/shadowing/{theirs.pk}/delete/").status_code == 405


def test_the_host_cancels_a_scheduled_session_a_stranger_cannot(
    client: Client, marketing_rep: object, sales_rep: object, make_user: Callable[..., object]
) -> None:
    session = schedule(marketing_rep, marketing_rep, sales_rep)
    stranger = logged_in(client, make_user("otto", Role.SALES_REP))
    assert stranger.post(f"/shadowing/{session.pk}/cancel/").status_code == 403
    assert ShadowingSession.objects.get().status == "scheduled"
    assert logged_in(client, sales_rep).post(f"/shadowing/{session.pk}/cancel/").status_code == 302
    assert ShadowingSession.objects.get().status == "cancelled"
    assert client.get(f"/shadowing/{session.pk}/edit/").status_code == 403


def test_markdown_in_what_was_learned_renders_inert(
    client: Client, marketing_rep: object, sales_rep: object
) -> None:
    session = schedule(marketing_rep, marketing_rep, sales_rep, days=-1)
    learned = '<script>alert(1)</script>\n\n[x](javascript:alert(2))\n\n<img src=x onerror="y">'
    shadowing_log(session=session, by=marketing_rep, learned=learned)
    html = logged_in(client, sales_rep).get(f"/shadowing/{session.pk}/").content.decode()
    body = html[html.index('<div class="md">') :]
    body = body[: body.index("</div>")]
    assert "<script" not in body and 'href="javascript:' not in body and "<img" not in body
    assert "<script>alert" not in client.get("/shadowing/").content.decode()


def test_the_list_downloads_as_csv_with_every_past_session(
    client: Client, marketing_rep: object, sales_rep: object, sales_manager: object
) -> None:
    ahead = schedule(marketing_rep, marketing_rep, sales_rep, days=40, focus="=Pricing calls")
    for n in range(101):  # more than the page shows of the past
        schedule(sales_manager, sales_rep, marketing_rep, days=-70 - n, focus=f"Past {n}")
    client = logged_in(client, marketing_rep)
    assert 'class="csv" href="?format=csv"' in client.get("/shadowing/").content.decode()
    rows = csv_rows(client.get("/shadowing/?format=csv"))
    assert rows[0][:6] == ["Section", "Person", "Person's team", "Host", "Host's team", "Starts"]
    assert len(rows) == 1 + 1 + 101
    assert rows[1][1:5] == ["mia", "marketing", "Sam Rep", "sales"]
    assert rows[1][7] == "'=Pricing calls" and rows[1][0].endswith("and ahead")
    assert rows[1][5] == timezone.localtime(ahead.starts_at).strftime("%Y-%m-%d %H:%M:%S")
    assert [r[7] for r in rows[2:5]] == ["Past 0", "Past 1", "Past 2"]  # the latest first
    assert {r[0] for r in rows[2:]} == {rows[2][0]} and rows[2][0].startswith("Before ")

"""The weekly alignment meeting's agenda, pre-filled from the numbers (kpis/pages/agenda.py), and
starting the meeting from the meeting view (kpis/views_meetings.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from alignment.markdown import markdown_html
from alignment.models import FieldInsight, Idea, Meeting
from alignment.roles import Role
from alignment.services.goals import goal_check_in
from alignment.services.meetings import action_item_add, action_item_done, meeting_create
from core.periods import period_start, previous_period
from kpis.pages.agenda import md_text, weekly_agenda
from leads.models import Handoff, Lead
from leads.services import handoff_reject
from tests.conftest import World, ago, goal
from tests.kpis.test_views import recompute_recent

pytestmark = pytest.mark.django_db


def midnight(day: object) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


@pytest.fixture
def week(
    world: World,
    sales_rep: object,
    marketing_rep: object,
    marketing_manager: object,
    make_user: Callable[..., object],
) -> dict[str, object]:
    """A week of the two teams: a breach, a rejection with sales' words, a goal the teams call
    off track, last week's meeting with an open and a done item, insights and an idea."""
    rita = make_user("rita", Role.SALES_REP, first_name="Rita", last_name="Reyes")
    late = world.lead(ago(days=3), owner="rita", external_id="late")
    world.stage(late, "mql", ago(days=2))  # past its first-contact deadline now

    last_week = previous_period("week", period_start("week", timezone.localdate()))
    moment = (midnight(last_week) + timedelta(days=2, hours=10)).isoformat()
    student = world.lead(moment, owner="sam", external_id="student")
    Lead.objects.filter(external_id=student).update(company="Campus Ltd")
    world.stage(student, "mql", moment)
    handoff_reject(
        handoff=Handoff.objects.get(lead__external_id="student"),
        by=sales_rep,
        reason="bad_fit",
        feedback="A student project, *not* a company",
    )
    Handoff.objects.filter(lead__external_id="student").update(
        decided_at=datetime.fromisoformat(moment) + timedelta(hours=2)
    )
    recompute_recent()

    month = period_start("month", timezone.localdate())
    sals = goal(marketing_manager, now=midnight(month) - timedelta(days=1), name="SALs this month",
                period_start=month, target=Decimal(500))  # fmt: skip
    goal_check_in(goal=sals, by=marketing_manager, status="off_track", note="Webinar moved")

    last = meeting_create(
        kind="weekly_alignment",
        starts_at=timezone.now() - timedelta(days=7),
        ends_at=timezone.now() - timedelta(days=7, hours=-1),
        attendees=[sales_rep, marketing_rep],
        by=marketing_rep,
    )
    action_item_add(meeting=last, text="Send the pricing deck", owner=rita,
                    due_on=timezone.localdate() - timedelta(days=1), by=marketing_rep)  # fmt: skip
    done = action_item_add(meeting=last, text="Book the room", owner=sales_rep,
                           due_on=timezone.localdate(), by=marketing_rep)  # fmt: skip
    action_item_done(item=done, by=sales_rep)

    FieldInsight.objects.create(kind="objection", text="Too pricey for small teams",
                                posted_by=sales_rep, posted_at=timezone.now() - timedelta(days=2))  # fmt: skip
    FieldInsight.objects.create(kind="question", text="Old question", posted_by=sales_rep,
                                posted_at=timezone.now() - timedelta(days=20))  # fmt: skip
    Idea.objects.create(title="Joint webinar with sales demos", author=marketing_rep,
                        author_team="marketing", status="open", opened_at=timezone.now())  # fmt: skip
    Idea.objects.create(title="A draft nobody saw", author=marketing_rep, status="draft")
    return {"last": last, "rita": rita}


def section(agenda: str, title: str) -> str:
    start = agenda.index(f"## {title}")
    end = agenda.find("\n## ", start + 1)
    return agenda[start : end if end >= 0 else None]


def test_the_agenda_is_pre_filled_from_the_numbers(week: dict) -> None:
    agenda = weekly_agenda(today=timezone.localdate())
    breaches = section(agenda, "SLA breaches now")
    assert "**Rita Reyes**: 1" in breaches
    goals = section(agenda, "Goals off track")
    assert "**SALs this month**" in goals and "says off track" in goals and "Webinar moved" in goals
    reasons = section(agenda, "Why sales rejected leads")
    assert "1. **Bad fit**: 1 (100.0 %)" in reasons
    assert r"> “A student project, \*not\* a company” (Sam Rep on Campus Ltd" in reasons
    actions = section(agenda, "Open action items from the last meeting")
    assert "Send the pricing deck (Rita Reyes, overdue, due" in actions
    assert f"(/meetings/{week['last'].pk}/)" in actions
    assert "Book the room" not in actions  # done
    insights = section(agenda, "New field insights since")
    assert "*An objection*: “Too pricey for small teams”" in insights
    assert "Old question" not in insights  # posted before the last meeting…
    assert "[1 older insight](/insights/) still waits for marketing's answer" in insights
    ideas = section(agenda, "Ideas open for critique")
    idea = Idea.objects.get(status="open")
    assert f"**[Joint webinar with sales demos](/ideas/{idea.pk}/)**" in ideas
    assert "draft nobody" not in ideas


def test_the_agenda_renders_as_markdown_with_what_people_typed_as_text(week: dict) -> None:
    html = markdown_html(weekly_agenda(today=timezone.localdate()))
    assert "<h2>SLA breaches now</h2>" in html
    assert "<blockquote>" in html
    assert "*not*" in html and "<em>not</em>" not in html


def test_an_empty_week_says_so_in_each_part(db: None) -> None:
    agenda = weekly_agenda(today=timezone.localdate())
    assert "No handoff is past its first-contact deadline." in agenda
    assert "No shared goals are running." in agenda
    assert "No rejections from" in agenda
    assert "This is the first weekly alignment meeting in Tandem." in agenda
    assert "No field insights posted since" in agenda
    assert "No idea is open for critique." in agenda


def test_markdown_typed_by_people_is_escaped() -> None:
    assert md_text("[x](javascript:alert(1)) <b>*hi*</b>\n\n# no") == (
        r"\[x\](javascript:alert(1)) \<b\>\*hi\*\</b\> \# no"
    )
    assert md_text("a" * 10, limit=5) == "aaaa…"


def test_starting_the_weekly_meeting_from_the_meeting_view_opens_it_with_the_agenda(
    client: Client, week: dict, sales_rep: object, sales_manager: object
) -> None:
    client.force_login(sales_rep)  # reps start it too: it is the team's meeting
    html = client.get("/meeting/").content.decode()
    assert 'action="/meeting/start/"' in html
    assert client.get("/meeting/start/").status_code == 405
    response = client.post("/meeting/start/")
    started = Meeting.objects.exclude(pk=week["last"].pk).get()
    assert response.status_code == 302 and response["Location"] == f"/meetings/{started.pk}/"
    assert started.kind == "weekly_alignment"
    # The starter, and the people of the last weekly meeting.
    assert set(started.attendees.all()) == {sales_rep, *week["last"].attendees.all()}
    page = client.get(response["Location"]).content.decode()
    assert "Send the pricing deck" in page and "Too pricey for small teams" in page
    # A second start the same day opens the same meeting; the view links to it.
    client.force_login(sales_manager)
    assert client.post("/meeting/start/")["Location"] == f"/meetings/{started.pk}/"
    assert Meeting.objects.count() == 2
    html = client.get("/meeting/").content.decode()
    assert 'action="/meeting/start/"' not in html and f'href="/meetings/{started.pk}/"' in html


def test_the_meeting_view_lists_every_open_action_item(
    client: Client, week: dict, sales_rep: object
) -> None:
    client.force_login(sales_rep)
    html = client.get("/meeting/").content.decode()
    assert 'data-section="actions"' in html
    part = client.get("/meeting/section/actions/")
    body = part.content.decode()
    assert part.status_code == 200 and "<html" not in body
    assert "Send the pricing deck" in body and "Rita Reyes" in body and "overdue" in body
    assert "Book the room" not in body
    assert f'href="/meetings/{week["last"].pk}/#action-items"' in body
    assert part.context["data"].total == 1 and part.context["data"].overdue == 1


def test_the_home_page_shows_your_open_items_only(
    client: Client, week: dict, sales_rep: object
) -> None:
    client.force_login(week["rita"])
    html = client.get("/").content.decode()
    assert "Your action items" in html and "Send the pricing deck" in html
    card = html[
        html.index("Your action items") : html.index("</section>", html.index("Your action items"))
    ]
    assert "overdue" in card and 'name="next" value="/"' in card
    client.force_login(sales_rep)  # sam's only item is done
    html = client.get("/").content.decode()
    assert "Your action items" not in html and "Send the pricing deck" not in html

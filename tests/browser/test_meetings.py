"""A weekly alignment meeting in a browser (issue 11's acceptance): a manager starts it from the
meeting view with the agenda pre-filled from the numbers and gives a sales rep an action item;
the rep sees it on their dashboard, due today, and ticks it off there; the next meeting's open
items no longer show it. Screenshots go to /tmp/shots_meetings/."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone

from alignment.models import ActionItem, Meeting
from alignment.roles import Role
from tests.conftest import World

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("restore_base_data"),
]
SHOTS = Path("/tmp/shots_meetings")


@pytest.fixture
def team(make_user: Callable[..., object]) -> dict[str, object]:
    people = {
        "maria": make_user("maria", Role.MARKETING_MANAGER, first_name="Maria", last_name="Lind"),
        "tom": make_user("tom", Role.SALES_MANAGER, first_name="Tom", last_name="Berg"),
        "sam": make_user("sam", Role.SALES_REP, first_name="Sam", last_name="Rep"),
    }
    world = World()
    with transaction.atomic():  # a handoff of sam's past its first-contact deadline
        ago = timezone.now() - timedelta(days=2)
        lead = world.lead(ago.isoformat(), owner="sam", external_id="late")
        world.stage(lead, "mql", (ago + timedelta(minutes=5)).isoformat())
    return people


def test_a_weekly_meeting_runs_from_the_meeting_view_to_the_reps_dashboard_and_back(
    page: object, login: Callable, live_server: object, team: dict
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    login(page, "maria")
    page.goto(f"{live_server.url}/meeting/")
    with page.expect_navigation():
        page.click('button:has-text("Start this week\'s meeting")')
    meeting = Meeting.objects.get()
    assert page.url.endswith(f"/meetings/{meeting.pk}/")
    agenda = page.locator(".meeting-agenda")
    assert agenda.locator("h2", has_text="SLA breaches now").is_visible()
    assert "Sam Rep: 1" in agenda.inner_text()
    assert agenda.locator("h2", has_text="Open action items from the last meeting").is_visible()

    page.fill("#id_text", "Call the late webinar lead back")
    page.select_option("#id_owner", label="Sam Rep")
    page.fill("#id_due_on", timezone.localdate().isoformat())
    with page.expect_navigation():
        page.click("button:has-text('Add the action item')")
    item = ActionItem.objects.get()
    assert (item.owner.username, item.due_on) == ("sam", timezone.localdate())
    row = page.locator(f"[data-item='{item.pk}']")
    assert "due today" in row.inner_text()
    page.screenshot(path=SHOTS / "meeting_detail.png", full_page=True)
    # The meeting view lists it among the open items, and opens today's meeting again.
    page.goto(f"{live_server.url}/meeting/#actions")
    actions = page.locator("#actions")
    assert "Call the late webinar lead back" in actions.inner_text()
    assert "due today" in actions.inner_text()
    assert page.locator('a:has-text("Open today\'s meeting")').is_visible()
    page.screenshot(path=SHOTS / "meeting_view_open_items.png")

    # The rep, on their dashboard: the item, marked, and its tick box.
    page.context.clear_cookies()
    login(page, "sam")
    page.goto(f"{live_server.url}/")
    card = page.locator("section.my-actions")
    assert "Call the late webinar lead back" in card.inner_text()
    assert "due today" in card.inner_text()
    card.scroll_into_view_if_needed()
    page.screenshot(path=SHOTS / "home_action_items.png")
    with page.expect_navigation():
        card.locator(f"[data-item='{item.pk}'] button.tick").click()
    assert page.url == f"{live_server.url}/"
    assert page.locator("section.my-actions").count() == 0
    assert "Done: Call the late webinar lead back" in page.inner_text(".messages")
    item.refresh_from_db()
    assert item.is_done and item.done_by.username == "sam"

    # The next meeting: the meeting view's open items, and the next day's agenda.
    Meeting.objects.filter(pk=meeting.pk).update(
        starts_at=meeting.starts_at - timedelta(days=1), ends_at=meeting.ends_at - timedelta(days=1)
    )
    page.context.clear_cookies()
    login(page, "tom")
    page.goto(f"{live_server.url}/meeting/#actions")
    actions = page.locator("#actions")
    assert actions.is_visible()
    assert "No open action items" in actions.inner_text()
    assert "Call the late webinar lead back" not in actions.inner_text()
    page.screenshot(path=SHOTS / "meeting_view_actions.png")
    with page.expect_navigation():
        page.click('button:has-text("Start this week\'s meeting")')
    following = Meeting.objects.exclude(pk=meeting.pk).get()
    assert page.url.endswith(f"/meetings/{following.pk}/")
    agenda = page.locator(".meeting-agenda").inner_text()
    assert "Everything from the meeting of" in agenda
    assert "Call the late webinar lead back" not in agenda
    page.screenshot(path=SHOTS / "next_meeting.png", full_page=True)

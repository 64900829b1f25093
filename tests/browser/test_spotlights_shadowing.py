"""Spotlights and shadowing in a browser: a joint win posted and thanked (htmx swaps the button
in place), a session scheduled, logged and debriefed, and both on the meeting view. Screenshots
go to a temporary folder (SHOTS=<folder> keeps them)."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from alignment.models import Meeting, ShadowingSession, Spotlight, SpotlightThanks
from alignment.roles import Role
from alignment.services.shadowing import shadowing_schedule
from leads.models import Lead
from tests.conftest import World

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("restore_base_data"),
]


@pytest.fixture
def people(make_user: Callable[..., object]) -> dict[str, object]:
    return {
        "maria": make_user("maria", Role.MARKETING_MANAGER, first_name="Maria", last_name="Lind"),
        "mia": make_user("mia", Role.MARKETING_REP, first_name="Mia", last_name="Park"),
        "sam": make_user("sam", Role.SALES_REP, first_name="Sam", last_name="Rossi"),
        "tom": make_user("tom", Role.SALES_MANAGER, first_name="Tom", last_name="Berg"),
    }


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    out = Path(os.environ.get("SHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    return out


def test_a_joint_win_is_posted_and_thanked_in_place(
    page: object, login: Callable, live_server: object, people: dict, shots: Path
) -> None:
    world = World()
    lead = world.lead("2026-03-01T10:00", external_id="northwind")
    Lead.objects.filter(external_id=lead).update(company="Northwind Traders", name="Nora Field")
    closed = (timezone.now() - timedelta(days=3)).isoformat()
    world.deal(lead, 48000, "2026-03-10T10:00", status="won", closed_at=closed,
               external_id="D-northwind")  # fmt: skip

    login(page, "mia")
    page.goto(f"{live_server.url}/spotlights/new/?deal=D-northwind")
    assert page.input_value("#id_deal") == "D-northwind"
    page.fill("#id_title", "Northwind signs for three years")
    page.check("input[name=people][value=mia]")
    with page.expect_navigation() as posted:
        page.click("button:has-text('Put it in the spotlight')")
    assert posted.value.status == 400  # one team only, no story
    assert "joint win" in page.inner_text(".people-pick")
    page.check("input[name=people][value=sam]")
    page.fill(
        "#id_story",
        "Mia's **webinar** brought Nora in; Sam ran the pilot.\n\n"
        "<script>alert('x')</script> [see](javascript:alert(1))",
    )
    page.screenshot(path=shots / "spotlight_form.png", full_page=True)
    with page.expect_navigation():
        page.click("button:has-text('Put it in the spotlight')")
    spotlight = Spotlight.objects.get()
    assert page.url.endswith(f"/spotlights/{spotlight.pk}/")
    assert page.inner_text(".md strong") == "webinar"
    assert page.locator(".md script").count() == 0
    assert page.locator('.md a[href^="javascript"]').count() == 0
    page.screenshot(path=shots / "spotlight_detail.png", full_page=True)

    page.context.clear_cookies()
    login(page, "tom")
    page.goto(f"{live_server.url}/spotlights/")
    button = page.locator(f"#thanks-{spotlight.pk} button")
    assert button.get_attribute("aria-pressed") == "false"
    url_before = page.url
    button.click()
    page.wait_for_selector(f"#thanks-{spotlight.pk} button[aria-pressed=true]")
    assert page.url == url_before  # swapped in place
    assert page.inner_text(f"#thanks-{spotlight.pk} .thanks-count") == "1"
    assert "Thanked by Tom Berg" in page.inner_text(f"#thanks-{spotlight.pk}")
    assert SpotlightThanks.objects.filter(user__username="tom").count() == 1
    page.screenshot(path=shots / "spotlights.png", full_page=True)

    page.goto(f"{live_server.url}/")
    assert "Northwind signs for three years" in page.inner_text(".spotlights-home")
    page.locator(f"#thanks-{spotlight.pk} button").click()  # take it back, from the dashboard
    page.wait_for_selector(f"#thanks-{spotlight.pk} button[aria-pressed=false]")
    assert not SpotlightThanks.objects.exists()
    page.locator("#spotlights-h").scroll_into_view_if_needed()
    page.screenshot(path=shots / "dashboard_spotlights.png")
    page.goto(f"{live_server.url}/meeting/#spotlights")
    page.wait_for_timeout(300)
    assert "Northwind signs for three years" in page.locator("section#spotlights").inner_text()
    page.screenshot(path=shots / "meeting_spotlights.png")


def test_a_session_is_scheduled_logged_and_debriefed_and_shows_on_the_meeting_view(
    page: object, login: Callable, live_server: object, people: dict, shots: Path
) -> None:
    start = timezone.localtime() - timedelta(hours=3)
    earlier = shadowing_schedule(
        by=people["tom"], person=people["sam"], host=people["maria"],
        starts_at=start, ends_at=start + timedelta(hours=2), focus="How a campaign is planned",
    )  # fmt: skip
    login(page, "mia")
    page.goto(f"{live_server.url}/shadowing/new/")
    assert page.locator("#id_person option").all_inner_texts() == ["Mia Park (mia)"]
    page.select_option("#id_host", "sam")
    page.fill("#id_focus", "Discovery calls")
    with page.expect_navigation():
        page.click("button:has-text('Schedule it')")
    assert ShadowingSession.objects.filter(person__username="mia").exists()

    page.context.clear_cookies()
    login(page, "sam")
    page.goto(f"{live_server.url}/shadowing/{earlier.pk}/")
    page.fill("#id_learned", "Marketing plans **a quarter** ahead; we should ask earlier.")
    with page.expect_navigation():
        page.click("button:has-text('Log it')")
    assert page.inner_text(".md strong") == "a quarter"
    page.screenshot(path=shots / "shadowing_detail.png", full_page=True)
    with page.expect_navigation():
        page.click("button:has-text('Turn the debrief into a meeting')")
    meeting = Meeting.objects.get()
    assert set(meeting.attendees.values_list("username", flat=True)) == {"sam", "maria"}
    earlier.refresh_from_db()
    assert earlier.debrief == meeting

    page.goto(f"{live_server.url}/shadowing/")
    page.screenshot(path=shots / "shadowing.png", full_page=True)
    page.goto(f"{live_server.url}/meeting/#shadowing")
    page.wait_for_timeout(300)
    slide = page.locator("section#shadowing")
    assert "Marketing plans a quarter ahead" in slide.inner_text()
    page.screenshot(path=shots / "meeting_shadowing.png")

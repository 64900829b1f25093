"""The pages in a real browser: charts drawn, filters, the inbox on a phone, the meeting view."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from alignment.roles import Role
from tests.conftest import World, ago

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("restore_base_data"),
]


@pytest.fixture
def team(make_user: Callable[..., object]) -> World:
    """A manager, a rep and a marketer; two campaigns; a won deal and three pending handoffs.

    Written in one transaction: on commit the dirty periods recompute (Celery runs eagerly).
    """
    make_user("tom", Role.SALES_MANAGER, first_name="Tom")
    make_user("sam", Role.SALES_REP, first_name="Sam", last_name="Rep")
    make_user("mia", Role.MARKETING_REP)
    world = World()
    begin = (timezone.localdate() - timedelta(days=60)).isoformat()
    with transaction.atomic():
        world.campaign("Spring webinar", external_id="web", channel="webinar", starts_on=begin)
        world.campaign("Search ads", external_id="search", channel="paid_search", starts_on=begin)
        won = world.lead(ago(days=9), campaign="web", owner="sam", external_id="won")
        world.touch(won, "web", ago(days=9))
        world.stage(won, "mql", ago(days=8))
        world.stage(won, "sal", ago(days=7), actor="sam")
        world.deal(won, 5000, ago(days=6), status="won", closed_at=ago(days=1))
        for n, (campaign, hours) in enumerate([("web", 30), ("search", 3), ("web", 1)]):
            lead = world.lead(ago(days=2), campaign=campaign, owner="sam", external_id=f"p{n}")
            world.touch(lead, campaign, ago(days=1), kind="download")
            world.stage(lead, "mql", ago(hours=hours))
    return world


def test_a_manager_sees_the_dashboard_with_rendered_charts(
    page: object, login: Callable, live_server: object, team: World
) -> None:
    login(page, "tom")
    page.goto(f"{live_server.url}/")
    page.wait_for_selector(".js-plotly-plot")
    assert page.locator(".js-plotly-plot").count() >= 5  # waterfall, SLA, three trends
    assert page.locator(".tile").count() == 8
    assert "Recompute now" in page.inner_text(".head-actions")


def test_changing_a_filter_changes_the_numbers(
    page: object, login: Callable, live_server: object, team: World
) -> None:
    login(page, "mia")
    page.goto(f"{live_server.url}/")
    leads = "table[data-funnel] tbody tr:first-child td"
    assert page.inner_text(leads) == "4"
    page.select_option("#id_channel", "paid_search")
    with page.expect_navigation():
        page.click("text=Apply")
    assert "channel=paid_search" in page.url
    assert "start=" not in page.url  # untouched default dates keep a shared link rolling
    assert page.inner_text(leads) == "1"
    page.wait_for_selector(".js-plotly-plot")


def test_a_rep_rejects_a_lead_in_the_inbox_and_the_reason_reaches_the_dashboard(
    page: object, login: Callable, live_server: object, team: World
) -> None:
    login(page, "sam")
    page.goto(f"{live_server.url}/leads/inbox/")
    card = page.locator("article.handoff").first  # the overdue one comes first
    assert "First contact overdue by" in card.inner_text()
    card.locator("summary[data-action=reject]").click()
    card.locator("select[name=reason]").select_option("wrong_contact")
    card.locator("textarea[name=feedback]").fill("The intern downloaded it")
    card.locator("text=2★").click()
    card.locator("button:has-text('Reject lead')").click()
    page.wait_for_selector("article.is-done")
    assert "Rejected" in page.inner_text("article.is-done")
    assert page.inner_text("#inbox-counts").startswith("2 pending")

    page.goto(f"{live_server.url}/")
    reasons = page.locator("section[aria-labelledby=reasons-h]")
    reasons.locator("summary:has-text('Show the data')").click()
    assert "Wrong contact" in reasons.inner_text()


def test_the_meeting_view_moves_between_sections_with_the_arrow_keys(
    page: object, login: Callable, live_server: object, team: World
) -> None:
    login(page, "mia")
    page.goto(f"{live_server.url}/meeting/")
    assert page.is_visible("#week") and not page.is_visible("#meetings")
    page.keyboard.press("ArrowRight")
    assert page.is_visible("#meetings") and not page.is_visible("#week")
    page.keyboard.press("ArrowRight")
    assert page.is_visible("#goals") and not page.is_visible("#meetings")
    page.keyboard.press("ArrowRight")
    assert page.is_visible("#sla")
    page.keyboard.press("ArrowLeft")
    assert page.is_visible("#goals")
    page.click("button[data-goto=reasons]")
    assert page.is_visible("#reasons") and page.url.endswith("#reasons")
    # It refreshes its numbers on its own (every minute; here on demand).
    page.evaluate("window.tandemMeetingRefresh()")
    page.wait_for_selector("[data-meeting][data-refreshed-at]")
    assert page.is_visible("#reasons")


def test_the_inbox_works_on_a_phone(
    browser: object, login: Callable, live_server: object, team: World
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    try:
        login(page, "sam")
        page.goto(f"{live_server.url}/leads/inbox/")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways ({width} px)"
        accept = page.locator("button[data-action=accept]").first
        box = accept.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390 and box["height"] >= 40
        page.locator("summary[data-action=attempt]").first.click()
        attempt = page.locator("button:has-text('Log attempt')").first
        attempt.scroll_into_view_if_needed()
        assert attempt.bounding_box()["x"] + attempt.bounding_box()["width"] <= 390
        attempt.click()
        page.wait_for_selector("text=Attempt logged.")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.locator("button[data-action=accept]").first.click()
        page.wait_for_selector("article.is-done")
    finally:
        context.close()


def test_a_manager_recomputes_and_watches_the_progress(
    page: object, login: Callable, live_server: object, team: World
) -> None:
    login(page, "tom")
    page.goto(f"{live_server.url}/?period=week")
    with page.expect_navigation():
        page.click("text=Recompute now")
    assert "job=" in page.url
    page.wait_for_url(lambda url: "job=" not in url)  # done: the page reloads without the job
    assert "period=week" in page.url
    page.wait_for_selector(".js-plotly-plot")


def test_every_section_stays_one_click_away_in_the_top_bar_at_any_width(
    page: object, login: Callable, live_server: object, team: World
) -> None:
    sections = ["Dashboard", "Meeting", "Inbox", "My leads", "Disputes", "Campaigns", "Goals",
                "Together", "Agreements", "Definitions", "Import", "Audit log"]  # fmt: skip
    login(page, "tom")  # a sales manager: the most sections of any role
    read = """() => {
        const nav = document.querySelector('.nav'), right = nav.getBoundingClientRect().right;
        const names = (sel) => [...document.querySelectorAll(sel)].map(a => a.textContent.trim());
        return {bar: names('.nav > a'), more: names('.nav-more-menu a'),
                clipped: [...nav.children].filter(a => a.getBoundingClientRect().right > right + 1)
                                          .map(a => a.textContent.trim()),
                menu: !document.querySelector('.nav-more').hidden,
                current: document.querySelector('.nav-more summary').classList.contains('is-current'),
                width: document.documentElement.scrollWidth};
    }"""

    def words(names: list[str]) -> list[str]:
        return [name.split(" ")[0] if name.startswith("Disputes") else name for name in names]

    page.goto(f"{live_server.url}/")
    at_1366 = page.evaluate(read)
    assert at_1366["menu"] and at_1366["more"], "a manager's links do not fit 1366 px"
    assert words(at_1366["bar"] + at_1366["more"]) == sections  # in order, each once
    assert not at_1366["clipped"] and not at_1366["current"]
    page.click(".nav-more summary")
    page.click(".nav-more-menu a:has-text('Audit log')")
    page.wait_for_url("**/audit/")
    assert page.evaluate(read)["current"]  # the page open is in the menu: "More" is marked
    page.click(".nav-more summary")
    assert page.is_visible(".nav-more-menu a[aria-current=page]:has-text('Audit log')")
    page.keyboard.press("Escape")
    assert not page.is_visible(".nav-more-menu")

    page.set_viewport_size({"width": 1920, "height": 900})  # everything fits: no menu
    page.wait_for_function("() => document.querySelector('.nav-more').hidden")
    wide = page.evaluate(read)
    assert words(wide["bar"]) == sections and not wide["clipped"]
    page.set_viewport_size({"width": 1024, "height": 900})  # narrower: more of them move
    page.wait_for_function(
        f"() => document.querySelectorAll('.nav-more-menu a').length > {len(at_1366['more'])}"
    )
    narrow = page.evaluate(read)
    assert words(narrow["bar"] + narrow["more"]) == sections and not narrow["clipped"]
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: the links wrap instead
    page.wait_for_function("() => document.querySelector('.nav-more').hidden")
    phone = page.evaluate(read)
    assert words(phone["bar"]) == sections and phone["width"] <= 390

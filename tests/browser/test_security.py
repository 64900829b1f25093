"""The Content-Security-Policy in chromium: the pages draw and work under it, and what it
forbids is blocked. Every browser test fails on a violation (conftest's `page`); these visit
the pages with the most script: charts, the API docs, the confirm dialogs, the print button.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from alignment.models import Goal
from alignment.roles import Role
from alignment.services.goals import goal_create
from tests.browser.conftest import csp_violations
from tests.conftest import World, ago

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("restore_base_data"),
]


@pytest.fixture
def world(make_user: Callable[..., object]) -> Goal:
    """A sales manager (tom), a campaign with a won deal, and a goal for this month."""
    tom = make_user("tom", Role.SALES_MANAGER, first_name="Tom")
    make_user("sam", Role.SALES_REP, first_name="Sam")
    world = World()
    begin = (timezone.localdate() - timedelta(days=60)).isoformat()
    with transaction.atomic():
        world.campaign("Spring webinar", external_id="web", channel="webinar", starts_on=begin)
        won = world.lead(ago(days=9), campaign="web", owner="sam", external_id="won")
        world.touch(won, "web", ago(days=9))
        world.stage(won, "mql", ago(days=8))
        world.stage(won, "sal", ago(days=7), actor="sam")
        world.deal(won, 5000, ago(days=6), status="won", closed_at=ago(days=1))
        return goal_create(
            by=tom, name="Ten SALs", metric="sals", target=Decimal(10), period="month",
            period_start=timezone.localdate().replace(day=1), specific="Ten SALs.",
        )  # fmt: skip


def test_the_pages_with_charts_draw_them_under_the_policy(
    page: object, login: Callable, live_server: object, world: Goal
) -> None:
    login(page, "tom")
    for path, charts in [("/", 5), ("/scorecard/", 1), ("/campaigns/web/", 1)]:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_selector(".js-plotly-plot .main-svg")
        assert page.locator(".js-plotly-plot").count() >= charts, path
        # Plotly's own style rules went into the nonce'd element the page gave it.
        rules = page.evaluate(
            "document.getElementById('plotly.js-style-global').sheet.cssRules.length"
        )
        assert rules > 0, path
    page.screenshot(path="/tmp/tandem-csp-charts.png", full_page=False)


def test_the_api_docs_run_swagger_ui_from_our_own_files(
    page: object, login: Callable, live_server: object, world: Goal
) -> None:
    login(page, "tom")
    page.goto(f"{live_server.url}/api/v1/docs/")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "Tandem API" in page.inner_text(".swagger-ui .info .title")
    assert page.locator(".opblock").count() > 20  # the operations, read from /api/v1/schema/
    page.screenshot(path="/tmp/tandem-csp-api-docs.png")


def test_a_delete_asks_first_and_cancelling_keeps_the_record(
    page: object, login: Callable, live_server: object, world: Goal
) -> None:
    login(page, "tom")
    page.goto(f"{live_server.url}/goals/{world.pk}/")
    asked: list[str] = []

    def answer(dialog: object) -> None:
        asked.append(dialog.message)
        dialog.dismiss() if len(asked) == 1 else dialog.accept()

    page.on("dialog", answer)
    page.click("form[data-confirm] button")
    assert asked == ["Delete this goal? Its check-ins go with it."]
    assert page.url.endswith(f"/goals/{world.pk}/")
    assert Goal.objects.filter(pk=world.pk).exists()
    with page.expect_navigation():
        page.click("form[data-confirm] button")
    assert len(asked) == 2
    assert not Goal.objects.filter(pk=world.pk).exists()


def test_the_meeting_view_prints_from_its_button(
    page: object, login: Callable, live_server: object, world: Goal
) -> None:
    login(page, "tom")
    page.goto(f"{live_server.url}/meeting/")
    page.evaluate("() => { window.printed = 0; window.print = () => { window.printed += 1; }; }")
    page.click("text=Print handout")
    assert page.evaluate("window.printed") == 1


def test_an_inline_script_put_into_a_page_is_blocked_and_reported(
    browser: object, login: Callable, live_server: object, world: Goal
) -> None:
    """The policy is on and the fixtures see what it blocks: a script injected without the
    nonce (as a stored XSS would be) does not run."""
    context = browser.new_context()
    page = context.new_page()
    blocked = csp_violations(page)
    login(page, "tom")
    page.goto(f"{live_server.url}/")
    page.evaluate(
        """() => {
            const s = document.createElement("script");
            s.textContent = "window.injected = true";
            document.body.appendChild(s);
            const b = document.createElement("div");
            b.innerHTML = '<img src="https://evil.example.com/x.gif">';
            document.body.appendChild(b);
        }"""
    )
    page.wait_for_timeout(300)
    assert page.evaluate("window.injected") is None
    context.close()
    assert len(blocked) == 2, blocked
    assert "script-src" in blocked[0] or "script-src" in blocked[1]

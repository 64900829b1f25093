"""The goals pages in a browser: a SMART error fixed, the scorecard's pay for a hand-computed
attainment, a forecast refused once its period started, a rep who cannot edit goals (the pages' screenshots
are taken of the demo company in test_screenshots.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from alignment.models import Goal, GoalCheckIn, PayoutCurve, RevenueForecast
from alignment.roles import Role
from core.periods import next_period, period_start, previous_period
from kpis.services import kpis_recompute
from tests.conftest import World, goal

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("restore_base_data"),
]


@pytest.fixture
def people(make_user: Callable[..., object]) -> dict[str, object]:
    return {
        "maria": make_user("maria", Role.MARKETING_MANAGER, first_name="Maria"),
        "tom": make_user("tom", Role.SALES_MANAGER, first_name="Tom"),
        "sam": make_user("sam", Role.SALES_REP, first_name="Sam"),
    }


def midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def test_a_manager_fixes_a_smart_error_and_sets_the_goal(
    page: object, login: Callable, live_server: object, people: dict
) -> None:
    login(page, "maria")
    page.goto(f"{live_server.url}/goals/")
    page.click("text=New goal")
    page.fill("#id_name", "SQLs from webinars")
    page.select_option("#id_owner_team", "sales")
    page.select_option("#id_metric", "sqls")
    page.fill("#id_specific", "Sales turns webinar SALs into SQLs.")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.click("button:has-text('Set the goal')")
    assert posted.value.status == 400
    target = page.locator(".field.has-error", has=page.locator("#id_target"))
    assert "A goal must be measurable: set a target." in target.inner_text()
    assert page.input_value("#id_name") == "SQLs from webinars"  # the input is kept
    assert not Goal.objects.exists()

    page.fill("#id_target", "12")
    with page.expect_navigation():
        page.click("button:has-text('Set the goal')")
    created = Goal.objects.get()
    assert page.url.endswith(f"/goals/{created.pk}/")
    assert (created.owner_team, created.metric, created.target) == ("sales", "sqls", 12)
    assert "SQLs from webinars" in page.inner_text("h1")
    # This week's check-in, then a second one that replaces it.
    page.click("text=At risk")
    page.fill("textarea[name=note]", "Webinar moved a week")
    with page.expect_navigation():
        page.click("button:has-text('Save this week')")
    page.click("text=On track")
    with page.expect_navigation():
        page.click("button:has-text('Save this week')")
    assert GoalCheckIn.objects.get().status == "on_track"
    assert "On track" in page.inner_text(".check-ins")


def test_the_scorecard_shows_the_payout_the_curve_gives(
    page: object, login: Callable, live_server: object, people: dict
) -> None:
    """Last quarter: 3 SALs, 3 MQLs, 1 deal won; curve 0 below 60 %, 50 % at 60 %, 100 % at
    target, 200 % at the cap of 150 %.

    - SALs 3 of 4 (both teams, weight 2) → 75 %
    - MQLs 3 of 10 (marketing, weight 1) → 30 %
    - Deals won 1 of 1 (sales, weight 1) → 100 %
    Joint (2·0.75 + 0.3 + 1) / 4 = 70 % → 0.5 + 0.5 · 0.1 / 0.4 = 62.5 %
    Marketing (1.5 + 0.3) / 3 = 60 % → 50 %; sales (1.5 + 1) / 3 = 83.3 % → 79.2 %.
    """
    start = previous_period("quarter", period_start("quarter", timezone.localdate()))
    day = midnight(start) + timedelta(days=10)
    world = World()
    with transaction.atomic():
        PayoutCurve.objects.create(
            effective_from=start - timedelta(days=30), threshold=Decimal("0.6"),
            threshold_payout=Decimal("0.5"), target=1, cap=Decimal("1.5"), cap_payout=2,
        )  # fmt: skip
        for name, metric, owner, target, weight in [
            ("More SALs", "sals", "both", 4, 2),
            ("MQLs", "mqls", "marketing", 10, 1),
            ("A deal won", "deals_won", "sales", 1, 1),
        ]:
            goal(people["maria"], now=midnight(start) - timedelta(days=1), name=name,
                 metric=metric, owner_team=owner, target=Decimal(target), weight=Decimal(weight),
                 period="quarter", period_start=start)  # fmt: skip
        for n in range(3):
            lead = world.lead((day + timedelta(hours=n)).isoformat())
            world.stage(lead, "mql", (day + timedelta(hours=n, minutes=10)).isoformat())
            world.stage(lead, "sal", (day + timedelta(hours=n, minutes=20)).isoformat())
        world.deal(lead, 8000, (day + timedelta(days=2)).isoformat(), status="won",
                   closed_at=(day + timedelta(days=9)).isoformat())  # fmt: skip
    kpis_recompute(kind="quarter", periods=[start])

    login(page, "sam")
    page.goto(f"{live_server.url}/scorecard/?period=quarter:{start.isoformat()}")
    page.wait_for_selector(".js-plotly-plot")
    assert page.inner_text("[data-attainment]") == "70.0 %"
    assert page.inner_text("[data-payout=joint]") == "62.5 %"
    assert page.inner_text("[data-payout=marketing]") == "50.0 %"
    assert page.inner_text("[data-payout=sales]") == "79.2 %"
    assert page.locator(".curve-edit").count() == 0  # a rep sees, managers edit


def test_a_forecast_is_refused_once_its_period_started(
    page: object, login: Callable, live_server: object, people: dict
) -> None:
    this_month = period_start("month", timezone.localdate())
    login(page, "tom")
    page.goto(f"{live_server.url}/forecasts/")
    page.select_option("#id_period", "month")
    page.fill("#id_period_start", this_month.isoformat())
    page.fill("#id_amount", "50000")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.click("button:has-text('Save the forecast')")
    assert posted.value.status == 400
    assert "this one has begun" in page.inner_text("form[aria-label=Forecast]")
    assert not RevenueForecast.objects.exists()

    page.fill("#id_period_start", next_period("month", this_month).isoformat())
    with page.expect_navigation():
        page.click("button:has-text('Save the forecast')")
    assert RevenueForecast.objects.get().amount == 50000
    assert "Forecast saved" in page.inner_text(".messages")
    assert "not started" in page.inner_text(".forecast-table")


def test_a_rep_cannot_edit_goals(
    page: object, login: Callable, live_server: object, people: dict
) -> None:
    running = goal(
        people["maria"],
        now=timezone.now(),
        name="SALs this month",
        period_start=period_start("month", timezone.localdate()),
    )
    login(page, "sam")
    page.goto(f"{live_server.url}/goals/")
    assert "SALs this month" in page.inner_text("main")
    assert page.locator("text=New goal").count() == 0
    assert page.locator("a:has-text('Edit')").count() == 0
    page.click("text=SALs this month")
    assert page.locator('form[aria-label="This week\'s check-in"]').count() == 0
    assert page.locator("button:has-text('Delete')").count() == 0
    assert page.goto(f"{live_server.url}/goals/new/").status == 403
    assert page.goto(f"{live_server.url}/goals/{running.pk}/edit/").status == 403

    post = """async ([url, body]) => {
        const token = document.cookie.split("; ").find(c => c.startsWith("csrftoken="));
        const response = await fetch(url, {method: "POST", body: new URLSearchParams(body),
            headers: {"X-CSRFToken": token ? token.split("=")[1] : ""}});
        return response.status;
    }"""
    page.goto(f"{live_server.url}/goals/")
    edit = {"name": "Mine now", "metric": "sals", "target": "1", "owner_team": "both",
            "period": f"month:{running.period_start.isoformat()}", "weight": "1"}  # fmt: skip
    assert page.evaluate(post, [f"/goals/{running.pk}/edit/", edit]) == 403
    assert page.evaluate(post, [f"/goals/{running.pk}/delete/", {}]) == 403
    assert page.evaluate(post, ["/goals/new/", edit]) == 403
    running.refresh_from_db()
    assert running.name == "SALs this month" and Goal.objects.count() == 1
    # The same request from a manager goes through: the 403 above is the role, not the token.
    page.context.clear_cookies()
    login(page, "tom")
    page.goto(f"{live_server.url}/goals/")
    assert page.evaluate(post, [f"/goals/{running.pk}/edit/", edit]) == 200  # redirected
    assert Goal.objects.get().name == "Mine now"

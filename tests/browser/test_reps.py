"""The rep views in a real browser: why a lead is an MQL, reassigning, "Other" needs feedback,
the styled refusal; and screenshots of the pages to /tmp/shots_reps/."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from alignment.roles import Role
from leads.models import Handoff, HandoffReassignment, Lead
from tests.conftest import World, ago

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("restore_base_data"),
]

SHOTS = Path(os.environ.get("SHOTS_REPS", "/tmp/shots_reps"))
RULES = [
    {"field": "segment", "operator": "equals", "value": "enterprise", "points": 30},
    {"field": "employees", "operator": "gte", "value": 200, "points": 20},
    {"field": "channel", "operator": "in", "value": ["webinar", "event"], "points": 25},
]


@pytest.fixture
def reps(
    make_user: Callable[..., object], sales_manager: object, signed_definition: Callable
) -> World:
    """Sally (head of sales) and two reps: Sam has a scored lead, a lead marked MQL by the API
    and an accepted one with a deal; Nina owns a lead of her own."""
    make_user("sam", Role.SALES_REP, first_name="Sam", last_name="Rep", email="sam@example.com")
    make_user(
        "nina", Role.SALES_REP, first_name="Nina", last_name="Kowalski", email="nina@example.com"
    )
    type(sales_manager).objects.filter(pk=sales_manager.pk).update(
        first_name="Sally", last_name="Manager"
    )
    world = World()
    with transaction.atomic():
        signed_definition(RULES, threshold=50)
        begin = (timezone.localdate() - timedelta(days=60)).isoformat()
        world.campaign("Spring webinar", external_id="web", channel="webinar", starts_on=begin)
        world.lead(
            ago(days=2), external_id="hannah", owner="sam", campaign="web",
            segment="enterprise", employees=250,
        )  # fmt: skip
        world.touch("hannah", "web", ago(days=1), kind="webinar")
        world.lead(ago(days=3), external_id="lucas", owner="sam", segment="smb")
        world.stage("lucas", "mql", ago(hours=5))
        world.lead(ago(days=9), external_id="amara", owner="sam", campaign="web")
        world.stage("amara", "mql", ago(days=6))
        world.stage("amara", "sal", ago(days=6, hours=-1), actor="sam")
        world.attempt("amara", ago(days=5), actor="sam", outcome="no_answer")
        world.attempt("amara", ago(days=3), actor="sam", outcome="voicemail")
        world.stage("amara", "sql", ago(days=2), actor="sam")
        world.deal("amara", 18000, ago(days=2))
        world.lead(ago(days=4), external_id="olivia", owner="sam", campaign="web")
        world.stage("olivia", "mql", ago(days=1))
        world.stage("olivia", "sal", ago(hours=20), actor="sam")
        world.lead(ago(days=30), external_id="jonas", owner="sam")
        world.stage("jonas", "mql", ago(days=25))
        world.stage("jonas", "sal", ago(days=25, hours=-2), actor="sam")
        world.attempt("jonas", ago(days=24), actor="sam", outcome="meeting_booked")
        world.stage("jonas", "opportunity", ago(days=20), actor="sam")
        world.deal("jonas", 42000, ago(days=20))
        world.lead(ago(days=40), external_id="lina", owner="sam")
        world.stage("lina", "mql", ago(days=35))
        world.stage("lina", "sal", ago(days=35, hours=-1), actor="sam")
        world.attempt("lina", ago(days=34), actor="sam", outcome="connected")
        world.deal("lina", 9500, ago(days=30), status="won", closed_at=ago(days=10))
        world.stage("lina", "won", ago(days=10), actor="sam")
        world.lead(ago(days=2), external_id="petra", owner="nina", campaign="web")
        world.stage("petra", "mql", ago(hours=2))
        for external_id, name, company in [
            ("hannah", "Hannah Weber", "Nordlicht Logistics"),
            ("lucas", "Lucas Martin", "Atelier Verde"),
            ("amara", "Amara Okafor", "Brightline Health"),
            ("petra", "Petra Novak", "Novak GmbH"),
            ("olivia", "Olivia Brandt", "Kessler Maschinenbau"),
            ("jonas", "Jonas Lind", "Fjord Analytics"),
            ("lina", "Lina Haddad", "Cedar Foods"),
        ]:
            Lead.objects.filter(external_id=external_id).update(
                name=name, company=company, email=f"{external_id}@example.com"
            )
    return world


def _shot(page: object, name: str, **options: object) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), **options)


def test_the_inbox_shows_a_scored_leads_rules_in_words_with_score_and_threshold(
    page: object, login: Callable, live_server: object, reps: World
) -> None:
    login(page, "sam")
    page.goto(f"{live_server.url}/leads/inbox/")
    card = page.locator("article.handoff", has_text="Hannah Weber")
    why = card.locator(".why").inner_text()
    assert "Score 75 · threshold 50 · lead definition v1" in why
    assert "Segment is enterprise: +30" in why
    assert "Employees ≥ 200 (has 250): +20" in why
    assert "Channel is one of webinar, event (has webinar): +25" in why
    other = page.locator("article.handoff", has_text="Lucas Martin").locator(".why").inner_text()
    assert "Marked MQL by the API on" in other
    assert "Score now 0 of threshold 50 (lead definition v1): below it." in other
    card.scroll_into_view_if_needed()
    _shot(page, "inbox_card_desktop", full_page=True)
    with page.expect_navigation():
        card.locator("h2 a").click()
    assert page.locator("h1").inner_text() == "Hannah Weber"


def test_a_sales_manager_reassigns_a_pending_handoff_and_it_moves(
    page: object, login: Callable, live_server: object, reps: World
) -> None:
    login(page, "sally")
    page.goto(f"{live_server.url}/leads/inbox/?owner=sam")
    card = page.locator("article.handoff", has_text="Lucas Martin")
    card.locator("select[name=owner]").select_option("nina")
    card.scroll_into_view_if_needed()
    _shot(page, "reassign_control_desktop")
    card.locator("button[data-action=reassign]").click()
    page.wait_for_selector("article.is-done:has-text('Reassigned Lucas Martin to Nina Kowalski')")
    assert page.inner_text("#inbox-counts").startswith("1 pending")  # Sam's one left
    handoff = Handoff.objects.get(lead__external_id="lucas")
    assert handoff.owner.username == "nina"
    assert [m.to for m in mail.outbox] == [["nina@example.com"]]
    assert HandoffReassignment.objects.get().notified_at is not None

    page.goto(f"{live_server.url}/leads/inbox/?owner=nina")
    assert page.locator("article.handoff", has_text="Lucas Martin").count() == 1
    page.context.clear_cookies()
    login(page, "nina")
    page.goto(f"{live_server.url}/leads/inbox/")
    assert page.locator("article.handoff", has_text="Lucas Martin").count() == 1


def test_other_without_feedback_is_refused_with_the_message_shown(
    page: object, login: Callable, live_server: object, reps: World
) -> None:
    login(page, "sam")
    page.goto(f"{live_server.url}/leads/inbox/")
    card = page.locator("article.handoff", has_text="Lucas Martin")
    card.locator("summary[data-action=reject]").click()
    card.locator("select[name=reason]").select_option("other")
    feedback = card.locator("textarea[name=feedback]")
    assert feedback.evaluate("box => box.required")  # the page says so before sending
    feedback.fill("   ")  # only blanks: the browser lets it through, the server does not
    card.locator("button:has-text('Reject lead')").click()
    page.wait_for_selector("text=Say what is wrong: 'Other' needs feedback for marketing.")
    card = page.locator("article.handoff", has_text="Lucas Martin")
    assert card.locator("details[open] select[name=reason]").input_value() == "other"
    assert Handoff.objects.get(lead__external_id="lucas").status == "pending"
    card.locator("textarea[name=feedback]").fill("A reseller, not a buyer")
    card.locator("button:has-text('Reject lead')").click()
    page.wait_for_selector("article.is-done:has-text('Rejected Lucas Martin')")
    assert Handoff.objects.get(lead__external_id="lucas").feedback == "A reseller, not a buyer"


def test_a_rep_opening_another_reps_lead_sees_the_styled_refusal(
    page: object, login: Callable, live_server: object, reps: World
) -> None:
    login(page, "sam")
    response = page.goto(f"{live_server.url}/leads/{Lead.objects.get(external_id='petra').pk}/")
    assert response.status == 403
    assert page.is_visible("header.topbar")
    assert page.locator("h1").inner_text() == "This page is not yours to open"
    assert (
        "This lead belongs to Nina Kowalski. Ask a sales manager to reassign it."
        in page.inner_text(".refusal")
    )
    _shot(page, "forbidden_lead_desktop", full_page=True)
    with page.expect_navigation():
        page.click(".refusal a:has-text('My leads')")
    assert page.url.endswith("/leads/mine/")


def test_screenshots_of_my_leads_the_lead_page_and_the_card_on_a_phone(
    page: object, browser: object, login: Callable, live_server: object, reps: World
) -> None:
    login(page, "sam")
    page.goto(f"{live_server.url}/leads/mine/")
    assert "Amara Okafor" in page.inner_text("table")
    assert "18,000" in page.inner_text("table")
    _shot(page, "my_leads_desktop", full_page=True)
    page.locator("summary:has-text('Log attempt')").first.click()
    _shot(page, "my_leads_log_attempt_desktop", full_page=True)
    with page.expect_navigation():
        page.click("table a:has-text('Amara Okafor')")
    assert "Stage history" in page.inner_text("main")
    _shot(page, "lead_page_desktop", full_page=True)

    page.context.clear_cookies()
    login(page, "sally")
    page.goto(f"{live_server.url}/leads/{Lead.objects.get(external_id='hannah').pk}/")
    _shot(page, "lead_page_manager_desktop", full_page=True)

    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone = context.new_page()
    try:
        login(phone, "sally")
        phone.goto(f"{live_server.url}/leads/inbox/")
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the inbox scrolls sideways ({width} px)"
        reassign = phone.locator("button[data-action=reassign]").first
        box = reassign.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
        _shot(phone, "inbox_card_phone", full_page=True)
        phone.goto(f"{live_server.url}/leads/mine/")
        _shot(phone, "my_leads_phone", full_page=True)
        phone.goto(f"{live_server.url}/leads/{Lead.objects.get(external_id='hannah').pk}/")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        _shot(phone, "lead_page_phone", full_page=True)
    finally:
        context.close()

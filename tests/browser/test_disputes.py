"""A dispute in a browser: lena (marketing rep) disputes jonas' rejection from the lead page,
maria (head of marketing) records "overturned" with a note, tom (head of sales) confirms, and
the lead lands in nina's inbox marked as reopened after a dispute.

The dispute's page as tom finds it (both sides, maria's outcome, his confirm button) is
screenshot to docs/screenshots/dispute.png with TANDEM_SCREENSHOTS=1
(`TANDEM_SCREENSHOTS=1 pytest -m browser tests/browser/test_disputes.py`); it and the other
steps' pages go to $TANDEM_DISPUTES_SHOTS, by default /tmp/shots_disputes/.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core import mail
from django.db import transaction

from alignment.roles import Role, Team
from alignment.services.accounts import team_head_set
from leads.models import Dispute, Handoff, Lead
from tests.conftest import World, ago

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("restore_base_data"),
]
DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SHOTS = Path(os.environ.get("TANDEM_DISPUTES_SHOTS", "/tmp/shots_disputes"))
COMMENT = "Dana asked for a quote at the fair: the budget is there, for Q3."
NOTE = "One call on a Friday evening is no follow-up: call her again this week."


@pytest.fixture
def rejection(make_user: Callable[..., object]) -> Handoff:
    """jonas rejected Dana Fischer's handoff for "No budget" two days ago, after one call."""
    maria = make_user("maria", Role.MARKETING_MANAGER, first_name="Maria", last_name="Schneider",
                      email="maria@example.com")  # fmt: skip
    tom = make_user("tom", Role.SALES_MANAGER, first_name="Tom", last_name="Becker",
                    email="tom@example.com")  # fmt: skip
    team_head_set(team=Team.MARKETING, user=maria)
    team_head_set(team=Team.SALES, user=tom)
    make_user("lena", Role.MARKETING_REP, first_name="Lena", last_name="Vogel")
    make_user("jonas", Role.SALES_REP, first_name="Jonas", last_name="Berg")
    make_user("nina", Role.SALES_REP, first_name="Nina", last_name="Kowalski")
    world = World()
    with transaction.atomic():
        world.campaign("Spring trade fair", external_id="fair", channel="event")
        world.lead(ago(days=12), external_id="dana", campaign="fair", owner="jonas")
        Lead.objects.filter(external_id="dana").update(
            name="Dana Fischer", company="Fischer Werkzeuge GmbH", email="dana@fischer.example"
        )
        world.touch("dana", "fair", ago(days=11), kind="booth visit")
        world.stage("dana", "mql", ago(days=10))
        world.attempt("dana", ago(days=9), actor="jonas", outcome="no_answer")
        world.stage("dana", "rejected", ago(days=2), reason="no_budget", actor="jonas",
                    note="No budget this year, they said so on the form.")  # fmt: skip
    return Handoff.objects.get(lead__external_id="dana")


def _shot(page: object, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    if name == "dispute" and os.environ.get("TANDEM_SCREENSHOTS"):
        DOCS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS / "dispute.png"), full_page=True)


def _log_in_as(page: object, login: Callable, username: str) -> None:
    if page.locator("button:has-text('Log out')").count():
        with page.expect_navigation():
            page.click("button:has-text('Log out')")
    login(page, username)


def test_marketing_disputes_the_heads_overturn_and_another_rep_gets_the_lead(
    page: object, login: Callable, live_server: object, rejection: Handoff
) -> None:
    # lena disputes the rejection from the lead page.
    _log_in_as(page, login, "lena")
    page.goto(f"{live_server.url}/leads/{rejection.lead_id}/")
    handoff = page.locator(f"#handoff-{rejection.pk}")
    handoff.locator("summary:has-text('Dispute this rejection')").click()
    handoff.locator("textarea[name=comment]").fill(COMMENT)
    _shot(page, "lead_dispute_form")
    with page.expect_navigation():
        handoff.locator("button:has-text('Send the dispute')").click()
    dispute = Dispute.objects.get()
    assert page.url.endswith(f"/leads/disputes/{dispute.pk}/")
    assert "Disputed the rejection of Dana Fischer" in page.inner_text(".messages")
    assert COMMENT in page.inner_text("[data-comment]")

    # maria finds it waiting for her and records "overturned" with a note.
    _log_in_as(page, login, "maria")
    assert page.inner_text("[data-disputes-waiting]") == "1"
    with page.expect_navigation():
        page.click("nav >> text=Disputes")
    _shot(page, "disputes_list")
    with page.expect_navigation():
        page.locator("[data-section=waiting]").locator("a:has-text('Dana Fischer')").click()
    assert "1 attempt" in page.inner_text("[data-attempts]")
    page.click("label:has-text('Rejection overturned')")
    page.fill("textarea[name=note]", NOTE)
    with page.expect_navigation():
        page.click("button[data-action=record]")
    assert "Waits for Tom Becker, the head of sales, to confirm it." in page.inner_text(
        ".dispute-outcome"
    )
    assert page.locator("button[data-action=confirm]").count() == 0
    assert [m.to for m in mail.outbox] == [["tom@example.com"]]

    # tom confirms it from the link in his e-mail.
    _log_in_as(page, login, "tom")
    assert f"/leads/disputes/{dispute.pk}/" in mail.outbox[0].body
    page.goto(f"{live_server.url}/leads/disputes/{dispute.pk}/")
    assert "Tom Becker, the head of sales (you)" in page.inner_text(".dispute-outcome")
    _shot(page, "dispute")
    with page.expect_navigation():
        page.click("button[data-action=confirm]")
    assert "the lead handed off again" in page.inner_text(".messages")
    assert "Rejection overturned" in page.inner_text("[data-dispute-status]")
    assert "to Nina Kowalski" in page.inner_text("[data-reopened]")
    _shot(page, "dispute_settled")
    assert len(mail.outbox) == 1  # tom, once

    # nina finds Dana in her inbox, marked as reopened after a dispute.
    _log_in_as(page, login, "nina")
    page.goto(f"{live_server.url}/leads/inbox/")
    card = page.locator("article.handoff", has_text="Dana Fischer")
    assert "Reopened after a dispute" in card.inner_text()
    _shot(page, "inbox_reopened")
    page.goto(f"{live_server.url}/leads/{rejection.lead_id}/")
    assert page.locator("[data-reopened]").count() == 1
    _shot(page, "lead_reopened")
    rejected = Handoff.objects.get(pk=rejection.pk)
    assert rejected.status == Handoff.Status.REJECTED  # as it happened
    assert Handoff.objects.get(lead=rejected.lead, status="pending").owner.username == "nina"

"""A campaign's post-mortem in a real browser: its hand-computed numbers, sales' ratings and
rejection reasons, a rep rating its leads from the campaign page, and the post-mortem meeting
started from it. Screenshots go to /tmp/shots_campaigns/ (SHOTS_CAMPAIGNS), or with
TANDEM_SCREENSHOTS=1 to docs/screenshots/campaign_postmortem.png."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone

from alignment.models import CampaignRating, Meeting
from alignment.roles import Role
from alignment.services.campaign_ratings import campaign_rate
from alignment.services.meetings import meeting_create
from core.periods import period_start, periods_between
from kpis.services import kpis_recompute
from leads.models import Campaign, Handoff, Lead
from leads.services import handoff_reject
from tests.conftest import World

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("restore_base_data"),
]

SHOTS = Path(os.environ.get("SHOTS_CAMPAIGNS", "/tmp/shots_campaigns"))
DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def day(offset: int) -> str:
    return (timezone.localdate() + timedelta(days=offset)).isoformat()


def at(offset: int, hour: int = 10) -> str:
    return f"{day(offset)}T{hour:02d}:00:00"


@pytest.fixture
def spring(make_user: Callable[..., object]) -> World:
    """The spring webinar (75 to 15 days ago, 1,500): six leads, five handed to sales, one won
    (6,000, touched first by the webinar and last by retargeting), three rejected with feedback,
    one pending; two sales ratings; a kick-off without sales."""
    sam = make_user("sam", Role.SALES_REP, first_name="Sam", last_name="Reyes")
    rita = make_user("rita", Role.SALES_REP, first_name="Rita", last_name="Okafor")
    mia = make_user("mia", Role.MARKETING_REP, first_name="Mia", last_name="Lang")
    make_user("max", Role.MARKETING_MANAGER, first_name="Max", last_name="Berg")
    world = World()
    with transaction.atomic():
        world.campaign("Spring webinar: data for ops teams", external_id="spring",
                       starts_on=day(-75), ends_on=day(-15), cost=1500)  # fmt: skip
        world.campaign("Retargeting", external_id="retarget", channel="paid_social",
                       starts_on=day(-75), ends_on=day(60))  # fmt: skip
        world.lead(at(-70), campaign="spring", owner="sam", external_id="won")
        world.touch("won", "spring", at(-70))
        world.touch("won", "retarget", at(-60))
        world.stage("won", "mql", at(-69))
        world.stage("won", "sal", at(-68), actor="sam")
        world.stage("won", "sql", at(-65))
        world.deal("won", 6000, at(-60), status="won", closed_at=at(-30))
        said = [("bad_fit", "Students, not buyers: they came for the free certificate"),
                ("bad_fit", "Wrong industry entirely"),
                ("no_budget", "Budget frozen until next year")]  # fmt: skip
        for n, (reason, feedback) in enumerate(said):
            world.lead(at(-50 + n), campaign="spring", owner="sam", external_id=f"rej{n}")
            world.stage(f"rej{n}", "mql", at(-49 + n))
            handoff_reject(handoff=Handoff.objects.get(lead__external_id=f"rej{n}"), by=sam,
                           reason=reason, feedback=feedback)  # fmt: skip
        world.lead(at(-40), campaign="spring", owner="rita", external_id="pending")
        world.stage("pending", "mql", at(-39))
        world.lead(at(-30), campaign="spring", external_id="cold")
        for key, company in [("won", "Fjord Analytics"), ("rej0", "Uni Leipzig"),
                             ("rej1", "Cedar Foods"), ("rej2", "Novak GmbH")]:  # fmt: skip
            Lead.objects.filter(external_id=key).update(company=company)
        campaign = Campaign.objects.get(external_id="spring")
        campaign_rate(campaign=campaign, by=sam, rating=2,
                      comment="Half of them were students. The ops managers were great.")  # fmt: skip
        campaign_rate(campaign=campaign, by=rita, rating=4, comment="Good questions in the Q&A")
        start = timezone.make_aware(datetime.fromisoformat(at(-77)))
        meeting_create(kind="campaign_kickoff", starts_at=start, ends_at=start + timedelta(hours=1),
                       attendees=[mia], by=mia, campaign=campaign)  # fmt: skip
    first = period_start("month", date.fromisoformat(day(-75)))
    kpis_recompute(kind="month", periods=periods_between("month", first, timezone.localdate()))
    return world


def _shot(page: object, name: str) -> Path:
    out = DOCS if os.environ.get("TANDEM_SCREENSHOTS") else SHOTS
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def test_the_post_mortem_page_shows_the_campaigns_numbers_and_what_sales_says(
    page: object, login: Callable, live_server: object, spring: World
) -> None:
    login(page, "max")
    page.goto(f"{live_server.url}/campaigns/spring/post-mortem/")
    metric = {
        key: page.locator(f'[data-metric="{key}"]').inner_text().split("\n")[0].strip()
        for key in (
            "leads_created",
            "mqls",
            "acceptance_rate",
            "sqls",
            "deals_won",
            "attributed_revenue",
            "campaign_cost",
            "campaign_roi",
        )
    }
    assert metric == {
        "leads_created": "6", "mqls": "5", "acceptance_rate": "25.0 %", "sqls": "1",
        "deals_won": "1", "attributed_revenue": "3,000", "campaign_cost": "1,500",
        "campaign_roi": "100.0 %",
    }  # fmt: skip
    assert "1 of 4 decided" in page.locator('[data-metric="acceptance_rate"]').inner_text()
    main = page.inner_text("main")
    assert "3.0" in main and "average of 2 sales ratings" in main
    assert "Half of them were students" in main and "Rita Okafor" in main
    assert "Bad fit" in main and "Wrong industry entirely" in main
    assert "no one from sales" in main and "Post-mortem due" in main
    assert page.locator("[data-print]").is_visible()  # shown once JavaScript runs
    _shot(page, "campaign_postmortem")
    page.emulate_media(media="print")
    assert not page.locator(".topbar").is_visible()
    assert not page.locator("form[action$='/post-mortem/start/']").is_visible()
    _shot(page, "campaign_postmortem_print")
    page.emulate_media(media="screen")

    page.click("nav[aria-label='Attribution model'] >> text=First touch")
    assert page.locator('[data-metric="attributed_revenue"]').inner_text() == "6,000"
    assert page.locator('[data-metric="campaign_roi"]').inner_text() == "300.0 %"
    with page.expect_navigation():
        page.click("text=Start the post-mortem meeting")
    meeting = Meeting.objects.get(kind="campaign_postmortem")
    assert "- Won revenue (First touch): 6,000" in meeting.agenda
    assert [u.username for u in meeting.attendees.all()] == ["max"]


def test_a_rep_rates_the_campaigns_leads_from_its_page(
    page: object, login: Callable, live_server: object, spring: World
) -> None:
    login(page, "rita")
    page.goto(f"{live_server.url}/campaigns/spring/")
    card = page.locator("#ratings")
    assert "Your rating:" in card.inner_text()
    card.locator("label", has_text="5 ★").click()
    card.locator("textarea[name=comment]").fill("Better than I said: two of them booked demos")
    with page.expect_navigation():
        card.locator("button[type=submit]", has_text="Change my rating").click()
    assert "is saved" in page.inner_text(".messages")
    assert CampaignRating.objects.get(rater__username="rita").rating == 5
    assert CampaignRating.objects.count() == 2
    assert "two of them booked demos" in page.locator("#ratings").inner_text()
    _shot(page, "campaign_ratings_and_meetings")

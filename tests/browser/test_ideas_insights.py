"""The ideas board and the field insights in a browser: sales posts what a prospect said,
marketing answers it from the list, and the meeting view's slide empties; an idea goes from
draft to critique with a vote from the other team. Screenshots go to a temporary folder (or to
$TANDEM_SHOTS)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from alignment.models import FieldInsight, Idea
from alignment.roles import Role

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("restore_base_data"),
]


@pytest.fixture
def people(make_user: Callable[..., object]) -> dict[str, object]:
    return {
        "maria": make_user(
            "maria", Role.MARKETING_MANAGER, first_name="Maria", last_name="Martens"
        ),
        "sam": make_user("sam", Role.SALES_REP, first_name="Sam", last_name="Rep"),
    }


def _shots(tmp_path: Path) -> Path:
    out = Path(os.environ.get("TANDEM_SHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    return out


def test_sales_posts_an_insight_and_marketing_answers_it_from_the_list(
    browser: object, login: Callable, live_server: object, people: dict, tmp_path: Path
) -> None:
    out = _shots(tmp_path)
    sales = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    login(sales, "sam")
    sales.goto(f"{live_server.url}/insights/")
    sales.click("text=Post an insight")
    sales.click("label:has-text('An objection')")
    sales.fill("#id_text", "“Your onboarding takes a quarter; theirs takes a week.”")
    sales.fill("#id_tags", "Onboarding, competitor")
    sales.screenshot(path=out / "insight_form.png", full_page=True)
    with sales.expect_navigation():
        sales.click("button:has-text('Post it')")
    insight = FieldInsight.objects.get()
    assert insight.kind == "objection"
    assert "Waiting under an hour for marketing" in sales.inner_text("main")

    marketing = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    login(marketing, "maria")
    marketing.goto(f"{live_server.url}/meeting/#insights")
    assert "1" in marketing.inner_text("#insights .big-number")
    marketing.screenshot(path=out / "meeting_insights.png")
    marketing.goto(f"{live_server.url}/insights/?answered=no")
    card = marketing.locator(f"article[aria-labelledby='insight-{insight.pk}-h']")
    card.locator("label:has-text('Used it')").click()
    card.locator("textarea").fill("New onboarding one-pager, in the **battle card**.")
    marketing.screenshot(path=out / "insights_answering.png", full_page=True)
    with marketing.expect_navigation():
        card.locator("button:has-text('Answer')").click()
    assert marketing.url.endswith("/insights/?answered=no")
    assert "No insights match" in marketing.inner_text("main")
    insight.refresh_from_db()
    assert insight.answer == "used"
    marketing.goto(f"{live_server.url}/insights/")
    assert "Used" in marketing.inner_text(".insight-answer")
    marketing.screenshot(path=out / "insights.png", full_page=True)
    marketing.goto(f"{live_server.url}/meeting/#insights")
    assert "Every field insight is answered" in marketing.inner_text("#insights")


def test_an_idea_goes_from_draft_to_critique_with_a_vote_from_the_other_team(
    browser: object, login: Callable, live_server: object, people: dict, tmp_path: Path
) -> None:
    out = _shots(tmp_path)
    author = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    login(author, "maria")
    author.goto(f"{live_server.url}/ideas/")
    author.click("text=New idea")
    author.fill("#id_title", "A webinar for CFOs, run with sales")
    author.fill(
        "#id_body",
        "- sales brings **three** customers\n- we do the slides\n\n<script>alert(1)</script>",
    )
    with author.expect_navigation():
        author.click("button:has-text('Save the draft')")
    idea = Idea.objects.get()
    assert idea.status == "draft"
    assert "<script>alert(1)</script>" in author.inner_text(".idea-body")  # shown, not run
    with author.expect_navigation():
        author.click("button:has-text('Open for critique')")

    voter = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    login(voter, "sam")
    voter.goto(f"{live_server.url}/ideas/{idea.pk}/")
    with voter.expect_navigation():
        voter.click("button:has-text('Vote for it')")
    voter.fill("#id_body", "Prospects ask us for exactly this.")
    with voter.expect_navigation():
        voter.click("button:has-text('Comment')")
    voter.screenshot(path=out / "idea.png", full_page=True)
    voter.goto(f"{live_server.url}/ideas/")
    assert "0 marketing · 1 sales" in voter.inner_text(".idea-column-open")
    voter.screenshot(path=out / "ideas.png", full_page=True)
    voter.goto(f"{live_server.url}/meeting/#ideas")
    assert "A webinar for CFOs" in voter.inner_text("#ideas")
    voter.screenshot(path=out / "meeting_ideas.png")

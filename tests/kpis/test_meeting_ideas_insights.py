"""The meeting view's "New field insights" and "Ideas for critique" sections."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from alignment.services import ideas as ideas_svc
from alignment.services import insights as insights_svc
from kpis.pages import meeting

pytestmark = pytest.mark.django_db


@pytest.fixture
def screen(client: Client, marketing_manager: object) -> Client:
    client.force_login(marketing_manager)
    return client


def test_the_meeting_view_has_both_sections_and_they_follow_the_records(
    screen: Client,
) -> None:
    html = screen.get("/meeting/").content.decode()
    for slug, title in (("insights", "New field insights"), ("ideas", "Ideas for critique")):
        assert f'data-section="{slug}"' in html and title in html
        assert meeting.section(slug).live  # never kept: these records move without snapshots


def test_unanswered_insights_show_the_longest_waiting_first_with_their_wait(
    screen: Client, sales_rep: object, marketing_rep: object
) -> None:
    now = timezone.now()
    newer = insights_svc.insight_post(
        by=sales_rep,
        kind="question",
        text="Do you integrate with SAP?",
        posted_at=now - timedelta(days=2),
    )
    older = insights_svc.insight_post(
        by=sales_rep, kind="objection", text="Onboarding takes too long", tags=["onboarding"],
        posted_at=now - timedelta(days=9),
    )  # fmt: skip
    answered = insights_svc.insight_post(by=sales_rep, kind="message_works", text="ROI calculator")
    insights_svc.insight_answer(insight=answered, by=marketing_rep, answer="used", text="Ads")
    response = screen.get("/meeting/section/insights/")
    data = response.context["data"]
    assert data.total == 2
    assert [i.pk for i in data.rows] == [older.pk, newer.pk]
    html = response.content.decode()
    assert "waiting 9 days" in html and "waiting 2 days" in html
    assert '<span class="meet-wait bad">waiting 9 days' in html  # a week or more is marked
    assert "#onboarding" in html
    assert "ROI calculator" not in html
    assert 'aria-label="2 field insights unanswered"' in html


def test_an_answer_takes_the_insight_off_the_screen_at_once(
    screen: Client, sales_rep: object, marketing_rep: object
) -> None:
    insight = insights_svc.insight_post(by=sales_rep, kind="question", text="SOC 2?")
    assert screen.get("/meeting/section/insights/").context["data"].total == 1
    insights_svc.insight_answer(insight=insight, by=marketing_rep, answer="used", text="Trust page")
    html = screen.get("/meeting/section/insights/").content.decode()
    assert "Every field insight is answered" in html


def test_ideas_for_critique_show_votes_per_team_and_never_a_draft(
    screen: Client, marketing_rep: object, sales_rep: object, sales_manager: object
) -> None:
    ideas_svc.idea_create(by=marketing_rep, title="Secret draft")
    quiet = ideas_svc.idea_open(
        idea=ideas_svc.idea_create(by=marketing_rep, title="Quiet idea"), by=marketing_rep
    )
    loved = ideas_svc.idea_open(
        idea=ideas_svc.idea_create(by=marketing_rep, title="Loved idea"), by=marketing_rep
    )
    for user in (sales_rep, sales_manager):
        ideas_svc.idea_vote(idea=loved, by=user)
    ideas_svc.idea_comment(idea=loved, by=sales_rep, body="Yes")
    response = screen.get("/meeting/section/ideas/")
    data = response.context["data"]
    assert [i.pk for i in data.rows] == [loved.pk, quiet.pk]
    assert (data.rows[0].marketing_votes, data.rows[0].sales_votes, data.rows[0].comment_count) == (
        0,
        2,
        1,
    )
    html = response.content.decode()
    assert "Secret draft" not in html
    assert '<span class="n team-sales">2</span>' in html
    assert data.total == 2


def test_the_sections_say_when_there_is_nothing(screen: Client) -> None:
    assert (
        "Every field insight is answered"
        in screen.get("/meeting/section/insights/").content.decode()
    )
    assert "No ideas open for critique" in screen.get("/meeting/section/ideas/").content.decode()


def test_the_sections_cut_long_lists_and_say_how_many_there_are(
    screen: Client, sales_rep: object
) -> None:
    for n in range(8):
        insights_svc.insight_post(by=sales_rep, kind="question", text=f"Question {n}")
    data = screen.get("/meeting/section/insights/").context["data"]
    assert (len(data.rows), data.total) == (6, 8)

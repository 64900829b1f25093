from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alignment.models import FieldInsight
from alignment.roles import Role
from alignment.services import insights as svc
from leads.models import Campaign, FunnelChange
from tests.alignment.inert import assert_inert
from tests.conftest import csv_rows

pytestmark = pytest.mark.django_db


def _as(client: Client, user: object) -> Client:
    client.force_login(user)
    return client


@pytest.fixture
def insight(sales_rep: object) -> FieldInsight:
    return svc.insight_post(
        by=sales_rep,
        kind="message_stopped",
        text="Nobody cares about 'AI-powered' any more.",
        tags=["messaging"],
        posted_at=timezone.now() - timedelta(days=3, hours=2),
    )


def test_sales_posts_an_insight(client: Client, sales_rep: object, world: object) -> None:
    campaign = Campaign.objects.get(external_id=world.campaign("spring"))
    _as(client, sales_rep)
    assert client.get("/insights/new/").status_code == 200
    response = client.post(
        "/insights/new/",
        {
            "kind": "objection",
            "text": "Too expensive",
            "tags": "Pricing, budget",
            "campaign": campaign.pk,
        },
    )
    insight = FieldInsight.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/insights/{insight.pk}/"
    assert insight.campaign == campaign
    assert sorted(insight.tags.values_list("name", flat=True)) == ["budget", "pricing"]


def test_only_sales_posts_insights(
    client: Client, marketing_rep: object, marketing_manager: object
) -> None:
    for user in (marketing_rep, marketing_manager):
        _as(client, user)
        assert client.get("/insights/new/").status_code == 403
        assert client.post("/insights/new/", {"kind": "question", "text": "?"}).status_code == 403
        assert "Post an insight" not in client.get("/insights/").content.decode()
    assert not FieldInsight.objects.exists()


def test_a_bad_insight_is_a_400_and_nothing_is_saved(client: Client, sales_rep: object) -> None:
    response = _as(client, sales_rep).post("/insights/new/", {"kind": "", "text": ""})
    assert response.status_code == 400
    assert "Write what the prospect said." in response.content.decode()
    assert not FieldInsight.objects.exists()


def test_each_card_shows_the_kind_text_tags_poster_and_wait(
    client: Client, insight: FieldInsight, marketing_rep: object
) -> None:
    page = _as(client, marketing_rep).get("/insights/").content.decode()
    assert 'class="insight-kind insight-kind-message_stopped"' in page
    assert "A message that stopped working" in page
    assert "Nobody cares about &#x27;AI-powered&#x27; any more." in page
    assert "#messaging" in page
    assert "Sam Rep" in page
    assert "Waiting 3 days for marketing" in page
    assert f'action="/insights/{insight.pk}/answer/"' in page  # marketing gets the answer form


def test_sales_sees_no_answer_form(
    client: Client, insight: FieldInsight, sales_rep: object
) -> None:
    page = _as(client, sales_rep).get("/insights/").content.decode()
    assert f'action="/insights/{insight.pk}/answer/"' not in page
    assert "Waiting 3 days for marketing" in page


def test_only_marketing_answers_insights(
    client: Client,
    insight: FieldInsight,
    sales_rep: object,
    sales_manager: object,
    marketing_rep: object,
) -> None:
    for user in (sales_rep, sales_manager):
        response = _as(client, user).post(
            f"/insights/{insight.pk}/answer/", {"answer": "not_used", "text": "No"}
        )
        assert response.status_code == 403
    insight.refresh_from_db()
    assert insight.answered_at is None
    _as(client, marketing_rep)
    response = client.post(
        f"/insights/{insight.pk}/answer/",
        {
            "answer": "not_used",
            "text": "We dropped it in October.",
            "next": "/insights/?answered=no",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/insights/?answered=no"
    insight.refresh_from_db()
    assert (insight.answer, insight.answered_by) == ("not_used", marketing_rep)


def test_the_answer_forms_of_a_page_read_the_campaigns_once(
    client: Client, marketing_rep: object, sales_rep: object, world: object
) -> None:
    spring = Campaign.objects.get(external_id=world.campaign("Spring webinar"))
    world.campaign("Autumn webinar")
    _as(client, marketing_rep)

    def queries(posted: int) -> int:
        for n in range(posted):
            svc.insight_post(by=sales_rep, kind="objection", text=f"Too dear, {n}", tags=["price"])
        with CaptureQueriesContext(connection) as seen:
            page = client.get("/insights/")
        assert page.status_code == 200 and f'value="{spring.pk}"' in page.content.decode()
        return len(seen)

    assert queries(2) == queries(4)  # six answer forms cost what two did


def test_an_answer_shows_where_it_was_used_who_and_after_how_long(
    client: Client, insight: FieldInsight, marketing_rep: object, sales_rep: object, world: object
) -> None:
    campaign = Campaign.objects.get(external_id=world.campaign("Outcomes, not AI"))
    _as(client, marketing_rep).post(
        f"/insights/{insight.pk}/answer/", {"answer": "used", "text": "", "campaign": campaign.pk}
    )
    page = _as(client, sales_rep).get("/insights/").content.decode()
    assert "Used in" in page and "Outcomes, not AI" in page
    assert "after 3 days" in page


def test_a_used_answer_without_content_or_campaign_is_a_400(
    client: Client, insight: FieldInsight, marketing_rep: object
) -> None:
    response = _as(client, marketing_rep).post(
        f"/insights/{insight.pk}/answer/", {"answer": "used"}
    )
    assert response.status_code == 400
    assert "Say which content or campaign it went into." in response.content.decode()
    insight.refresh_from_db()
    assert insight.answered_at is None


def test_an_answer_logs_the_periods_for_the_engine(
    client: Client, insight: FieldInsight, marketing_rep: object
) -> None:
    FunnelChange.objects.all().delete()
    _as(client, marketing_rep).post(
        f"/insights/{insight.pk}/answer/", {"answer": "used", "text": "FAQ"}
    )
    assert FunnelChange.objects.filter(part="insights").exists()


def test_an_answer_in_markdown_renders_inert(
    client: Client, insight: FieldInsight, marketing_rep: object
) -> None:
    evil = "<script>alert(1)</script> [x](javascript:alert(2)) <b onmouseover=alert(3)>hi</b>"
    svc.insight_answer(insight=insight, by=marketing_rep, answer="not_used", text=evil)
    page = _as(client, marketing_rep).get(f"/insights/{insight.pk}/").content.decode()
    assert_inert(page)
    assert "&lt;script&gt;" in page


def test_the_filters_narrow_the_list(
    client: Client, insight: FieldInsight, sales_rep: object, marketing_rep: object
) -> None:
    other = svc.insight_post(
        by=sales_rep, kind="question", text="Do you do SSO?", tags=["security"]
    )
    svc.insight_answer(insight=other, by=marketing_rep, answer="used", text="Security page")
    _as(client, sales_rep)

    def shown(query: str) -> set[str]:
        response = client.get(f"/insights/?{query}")
        assert response.status_code == 200
        return {i.text for i, _ in response.context["cards"]}

    assert shown("kind=question") == {other.text}
    assert shown("tag=messaging") == {insight.text}
    assert shown("tag=Messaging") == {insight.text}
    assert shown("answered=no") == {insight.text}
    assert shown("answered=yes") == {other.text}
    assert shown("") == {insight.text, other.text}
    assert client.get("/insights/?kind=gossip").status_code == 400


def test_the_campaign_filter_takes_the_campaigns_external_id(
    client: Client, sales_rep: object, world: object
) -> None:
    campaign = Campaign.objects.get(external_id=world.campaign("spring"))
    svc.insight_post(by=sales_rep, kind="question", text="Spring?", campaign=campaign)
    svc.insight_post(by=sales_rep, kind="question", text="Other")
    response = _as(client, sales_rep).get("/insights/?campaign=spring")
    assert [i.text for i, _ in response.context["cards"]] == ["Spring?"]


def test_the_poster_edits_until_the_answer(
    client: Client,
    insight: FieldInsight,
    sales_rep: object,
    sales_manager: object,
    marketing_rep: object,
) -> None:
    assert _as(client, sales_manager).get(f"/insights/{insight.pk}/edit/").status_code == 403
    _as(client, sales_rep)
    response = client.post(
        f"/insights/{insight.pk}/edit/", {"kind": "message_stopped", "text": "Edited", "tags": ""}
    )
    assert response.status_code == 302
    insight.refresh_from_db()
    assert insight.text == "Edited" and not insight.tags.exists()
    svc.insight_answer(insight=insight, by=marketing_rep, answer="used", text="FAQ")
    assert client.get(f"/insights/{insight.pk}/edit/").status_code == 403


def test_reps_cant_delete_others_insights(
    client: Client, insight: FieldInsight, make_user: object, sales_rep: object
) -> None:
    other = make_user("otto", Role.SALES_REP)
    assert _as(client, other).post(f"/insights/{insight.pk}/delete/").status_code == 403
    assert "Delete" not in client.get(f"/insights/{insight.pk}/").content.decode()
    assert FieldInsight.objects.exists()
    assert _as(client, sales_rep).post(f"/insights/{insight.pk}/delete/").status_code == 302
    assert not FieldInsight.objects.exists()


def test_marketing_withdraws_an_answer(
    client: Client, insight: FieldInsight, marketing_rep: object, sales_rep: object
) -> None:
    svc.insight_answer(insight=insight, by=marketing_rep, answer="used", text="FAQ")
    assert _as(client, sales_rep).post(f"/insights/{insight.pk}/unanswer/").status_code == 403
    insight.refresh_from_db()
    assert insight.answered_at is not None
    _as(client, marketing_rep).post(f"/insights/{insight.pk}/unanswer/")
    insight.refresh_from_db()
    assert insight.answered_at is None


def test_another_marketing_rep_can_neither_change_nor_withdraw_an_answer(
    client: Client, insight: FieldInsight, marketing_rep: object, make_user: Callable
) -> None:
    svc.insight_answer(insight=insight, by=marketing_rep, answer="used", text="FAQ")
    other = _as(client, make_user("mo", Role.MARKETING_REP))
    assert "Change the answer" not in other.get(f"/insights/{insight.pk}/").content.decode()
    answer = {"answer": "not_used", "text": "Not for us."}
    assert other.post(f"/insights/{insight.pk}/answer/", answer).status_code == 403
    assert other.post(f"/insights/{insight.pk}/unanswer/").status_code == 403
    insight.refresh_from_db()
    assert (insight.answer, insight.answer_text, insight.answered_by) == (
        "used",
        "FAQ",
        marketing_rep,
    )


def test_the_insights_pages_use_the_together_tabs(
    client: Client, insight: FieldInsight, sales_rep: object
) -> None:
    _as(client, sales_rep)
    for url in ("/insights/", "/insights/new/", f"/insights/{insight.pk}/"):
        assert 'href="/insights/" aria-current="page"' in client.get(url).content.decode()


# --- the list as CSV -------------------------------------------------------------------------


def test_the_list_downloads_as_csv_with_its_filters_and_every_page(
    client: Client, insight: FieldInsight, sales_rep: object, marketing_rep: object
) -> None:
    for n in range(30):  # more than a page
        svc.insight_post(
            by=sales_rep, kind="objection", text=f"-{n} off, or no deal", tags=["price"]
        )
    _as(client, marketing_rep)
    page = client.get("/insights/?kind=objection").content.decode()
    assert 'class="csv" href="?kind=objection&amp;format=csv"' in page
    rows = csv_rows(client.get("/insights/?kind=objection&format=csv"))
    assert rows[0][:4] == ["Kind", "Posted by", "Posted at", "What the prospect said"]
    assert len(rows) == 31
    assert {r[0] for r in rows[1:]} == {"An objection"}
    assert rows[1][3] == "'-29 off, or no deal"  # newest first; text neutralised
    assert {r[4] for r in rows[1:]} == {"#price"}
    tagged = csv_rows(client.get("/insights/?tag=messaging&format=csv"))
    assert [(r[0], r[6]) for r in tagged[1:]] == [
        ("A message that stopped working", "Waiting for marketing")
    ]
    assert float(tagged[1][-1]) >= 3.0  # days waited so far
    bad = client.get("/insights/?kind=gossip&format=csv")
    assert bad.status_code == 400 and bad["Content-Type"].startswith("text/plain")

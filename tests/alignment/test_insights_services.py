from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from alignment import selectors
from alignment.models import FieldInsight, InsightTag
from alignment.roles import Role
from alignment.services import insights as svc
from leads.models import Campaign, FunnelChange

pytestmark = pytest.mark.django_db

POSTED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def insight(sales_rep: object) -> FieldInsight:
    return svc.insight_post(
        by=sales_rep,
        kind="objection",
        text="Your price is twice theirs.",
        tags=["Pricing", "competitor X"],
        posted_at=POSTED,
    )


def _insight_changes() -> set[tuple[str, str]]:
    return {
        (c.period, c.period_start.isoformat()) for c in FunnelChange.objects.filter(part="insights")
    }


def test_sales_posts_an_insight_with_tags_made_slugs_on_first_use(
    insight: FieldInsight, sales_manager: object
) -> None:
    assert insight.posted_by.username == "sam"
    assert sorted(insight.tags.values_list("name", flat=True)) == ["competitor-x", "pricing"]
    svc.insight_post(by=sales_manager, kind="question", text="SSO?", tags="pricing, SSO, pricing")
    assert sorted(InsightTag.objects.values_list("name", flat=True)) == [
        "competitor-x", "pricing", "sso",
    ]  # fmt: skip


def test_only_sales_or_an_admin_posts_insights(
    marketing_rep: object, marketing_manager: object, admin_user: object
) -> None:
    for user in (marketing_rep, marketing_manager):
        with pytest.raises(PermissionDenied):
            svc.insight_post(by=user, kind="question", text="Heard it myself")
    assert not FieldInsight.objects.exists()
    svc.insight_post(by=admin_user, kind="question", text="Imported from the CRM")
    assert FieldInsight.objects.count() == 1


def test_an_insight_needs_a_known_kind_and_text(sales_rep: object) -> None:
    with pytest.raises(ValidationError) as error:
        svc.insight_post(by=sales_rep, kind="rumour", text=" ")
    assert set(error.value.message_dict) == {"kind", "text"}


def test_an_insight_is_not_posted_in_the_future_or_outside_the_years(sales_rep: object) -> None:
    for when in (timezone.now() + timedelta(days=1), datetime(1850, 1, 1, tzinfo=UTC)):
        with pytest.raises(ValidationError) as error:
            svc.insight_post(by=sales_rep, kind="question", text="?", posted_at=when)
        assert "posted_at" in error.value.message_dict
    assert not FieldInsight.objects.exists()


def test_only_marketing_answers_insights(
    insight: FieldInsight, sales_rep: object, sales_manager: object, marketing_rep: object
) -> None:
    for user in (sales_rep, sales_manager):
        with pytest.raises(PermissionDenied):
            svc.insight_answer(insight=insight, by=user, answer="not_used", text="No.")
    insight.refresh_from_db()
    assert insight.answered_at is None
    svc.insight_answer(insight=insight, by=marketing_rep, answer="not_used", text="Not our market.")
    insight.refresh_from_db()
    assert (insight.answer, insight.answered_by) == ("not_used", marketing_rep)


def test_an_admin_answers_too(insight: FieldInsight, admin_user: object) -> None:
    svc.insight_answer(insight=insight, by=admin_user, answer="used", text="FAQ page")
    insight.refresh_from_db()
    assert insight.answer == "used"


def test_used_names_the_content_or_campaign_and_not_used_the_why(
    insight: FieldInsight, marketing_rep: object, world: object
) -> None:
    with pytest.raises(ValidationError):
        svc.insight_answer(insight=insight, by=marketing_rep, answer="used")
    with pytest.raises(ValidationError):
        svc.insight_answer(insight=insight, by=marketing_rep, answer="not_used")
    with pytest.raises(ValidationError):
        svc.insight_answer(insight=insight, by=marketing_rep, answer="maybe", text="x")
    insight.refresh_from_db()
    assert insight.answered_at is None
    campaign = Campaign.objects.get(external_id=world.campaign("price-page"))
    svc.insight_answer(insight=insight, by=marketing_rep, answer="used", campaign=campaign)
    insight.refresh_from_db()
    assert insight.answer_campaign == campaign


def test_an_answer_logs_the_periods_of_its_time_for_the_engine(
    insight: FieldInsight, marketing_rep: object
) -> None:
    FunnelChange.objects.all().delete()
    svc.insight_answer(insight=insight, by=marketing_rep, answer="used", text="Battle card")
    insight.refresh_from_db()
    day = timezone.localdate(insight.answered_at)
    week = (day - timedelta(days=day.weekday())).isoformat()
    assert ("week", week) in _insight_changes()
    assert ("month", day.replace(day=1).isoformat()) in _insight_changes()


def test_answering_again_replaces_the_answer_but_keeps_its_time(
    insight: FieldInsight, marketing_rep: object, marketing_manager: object
) -> None:
    svc.insight_answer(insight=insight, by=marketing_rep, answer="not_used", text="Later.")
    insight.refresh_from_db()
    first = insight.answered_at
    FunnelChange.objects.all().delete()
    svc.insight_answer(insight=insight, by=marketing_manager, answer="used", text="Pricing FAQ")
    insight.refresh_from_db()
    assert (insight.answer, insight.answer_text) == ("used", "Pricing FAQ")
    assert insight.answered_by == marketing_manager
    assert insight.answered_at == first
    assert _insight_changes()  # logged all the same


def test_a_marketing_rep_changes_or_withdraws_only_their_own_answer(
    insight: FieldInsight,
    marketing_rep: object,
    marketing_manager: object,
    make_user: Callable[..., object],
) -> None:
    other_rep = make_user("mo", Role.MARKETING_REP)
    svc.insight_answer(insight=insight, by=marketing_rep, answer="used", text="FAQ")
    for write in (
        lambda: svc.insight_answer(insight=insight, by=other_rep, answer="not_used", text="No."),
        lambda: svc.insight_unanswer(insight=insight, by=other_rep),
    ):
        with pytest.raises(PermissionDenied):
            write()
        insight.refresh_from_db()
        assert (insight.answer, insight.answered_by) == ("used", marketing_rep)
    assert not svc.insight_can_change_answer(insight=insight, user=other_rep)
    assert svc.insight_can_change_answer(insight=insight, user=marketing_rep)
    svc.insight_unanswer(insight=insight, by=marketing_manager)  # a manager may
    insight.refresh_from_db()
    assert insight.answered_at is None
    assert svc.insight_can_change_answer(insight=insight, user=other_rep)  # it waits again


def test_withdrawing_or_deleting_an_answered_insight_logs_its_answer_time(
    insight: FieldInsight, marketing_rep: object, sales_rep: object
) -> None:
    svc.insight_answer(insight=insight, by=marketing_rep, answer="used", text="FAQ")
    FunnelChange.objects.all().delete()
    svc.insight_unanswer(insight=insight, by=marketing_rep)
    insight.refresh_from_db()
    assert (insight.answer, insight.answered_at) == ("", None)
    assert _insight_changes()
    svc.insight_answer(insight=insight, by=marketing_rep, answer="used", text="FAQ")
    FunnelChange.objects.all().delete()
    svc.insight_delete(insight=insight, by=sales_rep)
    assert not FieldInsight.objects.exists()
    assert _insight_changes()


def test_deleting_an_unanswered_insight_logs_nothing(
    insight: FieldInsight, sales_rep: object
) -> None:
    FunnelChange.objects.all().delete()
    svc.insight_delete(insight=insight, by=sales_rep)
    assert not _insight_changes()


def test_the_poster_changes_an_insight_until_it_is_answered(
    insight: FieldInsight, sales_rep: object, sales_manager: object, marketing_rep: object
) -> None:
    with pytest.raises(PermissionDenied):
        svc.insight_update(insight=insight, by=sales_manager, text="Edited by someone else")
    svc.insight_update(
        insight=insight, by=sales_rep, text="Twice the price of X.", tags=["pricing"]
    )
    insight.refresh_from_db()
    assert insight.text == "Twice the price of X."
    assert list(insight.tags.values_list("name", flat=True)) == ["pricing"]
    svc.insight_answer(insight=insight, by=marketing_rep, answer="used", text="FAQ")
    with pytest.raises(ValidationError):
        svc.insight_update(insight=insight, by=sales_rep, text="Changed after the answer")
    insight.refresh_from_db()
    assert insight.text == "Twice the price of X."


def test_reps_cant_delete_others_insights(
    insight: FieldInsight, make_user: object, marketing_manager: object
) -> None:
    from alignment.roles import Role

    other = make_user("otto", Role.SALES_REP)
    with pytest.raises(PermissionDenied):
        svc.insight_delete(insight=insight, by=other)
    assert FieldInsight.objects.filter(pk=insight.pk).exists()
    svc.insight_delete(insight=insight, by=marketing_manager)
    assert not FieldInsight.objects.exists()


def test_the_filters_find_insights_by_kind_tag_campaign_and_answer(
    insight: FieldInsight, sales_rep: object, marketing_rep: object, world: object
) -> None:
    campaign = Campaign.objects.get(external_id=world.campaign("spring"))
    other = svc.insight_post(
        by=sales_rep, kind="message_works", text="Loved the ROI calc", campaign=campaign
    )
    svc.insight_answer(insight=other, by=marketing_rep, answer="used", text="Landing page")
    assert list(selectors.insights_filtered(kind="objection")) == [insight]
    assert list(selectors.insights_filtered(tag="pricing")) == [insight]
    assert list(selectors.insights_filtered(campaign=campaign)) == [other]
    assert list(selectors.insights_filtered(answered=True)) == [other]
    assert list(selectors.insights_filtered(answered=False)) == [insight]
    assert list(selectors.insights_unanswered()) == [insight]
    assert selectors.insight_tags_used() == [("competitor-x", 1), ("pricing", 1)]

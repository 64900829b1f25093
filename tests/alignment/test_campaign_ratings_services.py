"""Sales' ratings of a campaign's leads, and starting a campaign's post-mortem meeting."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from alignment.models import CampaignRating, Meeting
from alignment.roles import Role
from alignment.selectors import campaign_meeting_flags, campaign_meetings, campaign_ratings
from alignment.services.campaign_meetings import campaign_postmortem_start
from alignment.services.campaign_ratings import (
    campaign_rate,
    campaign_rating_can_change,
    campaign_rating_delete,
)
from alignment.services.meetings import meeting_create
from leads.models import Campaign
from tests.conftest import World

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(world: World) -> Campaign:
    return Campaign.objects.get(external_id=world.campaign("Spring webinar", external_id="spring"))


def test_a_sales_rep_and_a_sales_manager_rate_a_campaigns_leads(
    campaign: Campaign, sales_rep: object, sales_manager: object
) -> None:
    campaign_rate(campaign=campaign, by=sales_rep, rating=4, comment="  Good fit, mostly.  ")
    campaign_rate(campaign=campaign, by=sales_manager, rating=2)
    ratings = campaign_ratings(campaign_id=campaign.pk)
    assert ratings.count == 2
    assert ratings.average == 3
    assert ratings.of(sales_rep).comment == "Good fit, mostly."
    assert dict(ratings.stars) == {5: 0, 4: 1, 3: 0, 2: 1, 1: 0}


@pytest.mark.parametrize("role", [Role.MARKETING_REP, Role.MARKETING_MANAGER, Role.ADMIN, None])
def test_only_sales_rates_a_campaigns_leads(
    campaign: Campaign, make_user: Callable[..., object], role: Role | None
) -> None:
    with pytest.raises(PermissionDenied):
        campaign_rate(campaign=campaign, by=make_user("someone", role), rating=5)
    assert not CampaignRating.objects.exists()


def test_rating_again_changes_ones_rating_and_never_adds_a_second(
    campaign: Campaign, sales_rep: object
) -> None:
    first = campaign_rate(campaign=campaign, by=sales_rep, rating=2, comment="Students, mostly")
    again = campaign_rate(campaign=campaign, by=sales_rep, rating=4, comment="Better since May")
    assert again.pk == first.pk
    assert CampaignRating.objects.count() == 1
    assert (again.rating, again.comment) == (4, "Better since May")
    assert CampaignRating.objects.get().comment == "Better since May"


@pytest.mark.parametrize("rating", [0, 6, -1, "4", 3.5, None, True])
def test_a_rating_is_a_whole_number_from_1_to_5(
    campaign: Campaign, sales_rep: object, rating: object
) -> None:
    with pytest.raises(ValidationError) as error:
        campaign_rate(campaign=campaign, by=sales_rep, rating=rating)
    assert "from 1 to 5" in error.value.message_dict["rating"][0]
    assert not CampaignRating.objects.exists()


def test_a_bad_rating_again_leaves_the_first_as_it_was(
    campaign: Campaign, sales_rep: object
) -> None:
    campaign_rate(campaign=campaign, by=sales_rep, rating=3, comment="Fine")
    with pytest.raises(ValidationError):
        campaign_rate(campaign=campaign, by=sales_rep, rating=9, comment="Changed")
    assert (CampaignRating.objects.get().rating, CampaignRating.objects.get().comment) == (
        3,
        "Fine",
    )


def test_a_comment_has_a_length_limit(campaign: Campaign, sales_rep: object) -> None:
    with pytest.raises(ValidationError) as error:
        campaign_rate(campaign=campaign, by=sales_rep, rating=3, comment="x" * 2001)
    assert "comment" in error.value.message_dict


def test_the_rater_or_a_manager_removes_a_rating_and_other_reps_do_not(
    campaign: Campaign,
    sales_rep: object,
    make_user: Callable[..., object],
    marketing_manager: object,
) -> None:
    other = make_user("rita", Role.SALES_REP)
    mine = campaign_rate(campaign=campaign, by=sales_rep, rating=3)
    for refused in (other, make_user("mo", Role.MARKETING_REP)):
        with pytest.raises(PermissionDenied):
            campaign_rating_delete(rating=mine, by=refused)
    assert CampaignRating.objects.filter(pk=mine.pk).exists()
    assert not campaign_rating_can_change(rating=mine, user=other)
    campaign_rating_delete(rating=mine, by=sales_rep)
    assert not CampaignRating.objects.exists()
    hers = campaign_rate(campaign=campaign, by=other, rating=1, comment="rude words")
    campaign_rating_delete(rating=hers, by=marketing_manager)
    assert not CampaignRating.objects.exists()


def _meeting(kind: str, campaign: Campaign, attendees: list, start: datetime) -> Meeting:
    return meeting_create(
        kind=kind,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        attendees=attendees,
        by=None,
        campaign=campaign,
    )


def test_the_meeting_flags_of_many_campaigns_take_one_query(
    world: World,
    sales_rep: object,
    marketing_rep: object,
    django_assert_num_queries: Callable,
) -> None:
    ids = {}
    for key in ("with-sales", "without-sales", "postmortem-only", "nothing"):
        ids[key] = Campaign.objects.get(external_id=world.campaign(key)).pk
    now = timezone.now()
    kickoff, postmortem = Meeting.Kind.CAMPAIGN_KICKOFF, Meeting.Kind.CAMPAIGN_POSTMORTEM
    with_sales = Campaign.objects.get(pk=ids["with-sales"])
    _meeting(kickoff, with_sales, [marketing_rep], now)
    _meeting(kickoff, with_sales, [marketing_rep, sales_rep], now)
    _meeting(postmortem, with_sales, [sales_rep], now)
    _meeting(kickoff, Campaign.objects.get(pk=ids["without-sales"]), [marketing_rep], now)
    _meeting(postmortem, Campaign.objects.get(pk=ids["postmortem-only"]), [marketing_rep], now)
    _meeting(Meeting.Kind.BRAINSTORM, Campaign.objects.get(pk=ids["nothing"]), [sales_rep], now)
    with django_assert_num_queries(1):
        flags = campaign_meeting_flags(campaign_ids=ids.values())
    got = {key: flags[pk] for key, pk in ids.items()}
    assert got["with-sales"].has_kickoff_with_sales and got["with-sales"].postmortem_with_sales
    assert got["without-sales"].has_kickoff and not got["without-sales"].has_kickoff_with_sales
    assert got["postmortem-only"].has_postmortem
    assert not got["postmortem-only"].postmortem_with_sales
    assert not got["postmortem-only"].has_kickoff
    assert not any(vars(got["nothing"]).values())  # a brainstorm is neither


def test_starting_a_post_mortem_makes_a_meeting_of_the_campaign_with_its_starter(
    campaign: Campaign, marketing_manager: object
) -> None:
    now = timezone.now()
    meeting = campaign_postmortem_start(
        campaign=campaign, by=marketing_manager, agenda="## Numbers", now=now
    )
    assert meeting.kind == "campaign_postmortem"
    assert meeting.campaign == campaign
    assert meeting.agenda == "## Numbers"
    assert meeting.title == "Post-mortem: Spring webinar"
    assert list(meeting.attendance.values_list("user__username", "team")) == [("max", "marketing")]
    assert meeting.ends_at - meeting.starts_at == timedelta(hours=1)
    assert [m.pk for m in campaign_meetings(campaign_id=campaign.pk)] == [meeting.pk]

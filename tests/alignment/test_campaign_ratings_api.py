"""`/api/v1/campaigns/{external_id}/ratings/`: sales' ratings of a campaign's leads, with the
permissions of the campaign page."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

import pytest
from rest_framework.test import APIClient

from alignment.models import CampaignRating
from alignment.roles import Role
from alignment.services.campaign_ratings import campaign_rate
from leads.models import Campaign
from tests.conftest import World, token_client

pytestmark = pytest.mark.django_db

ODD = "EU spring+webinar (2026) ä%"
URL = f"/api/v1/campaigns/{quote(ODD, safe='')}/ratings/"


@pytest.fixture
def campaign(world: World) -> Campaign:
    return Campaign.objects.get(external_id=world.campaign("Spring webinar", external_id=ODD))


def test_a_sales_rep_rates_and_rating_again_changes_the_same_rating(
    campaign: Campaign, sales_rep: object
) -> None:
    client = token_client(sales_rep)
    first = client.post(URL, {"rating": 2, "comment": "Students"}, format="json")
    assert first.status_code == 201, first.content
    body = first.json()
    assert (body["campaign"], body["rater"], body["rater_name"]) == (ODD, "sam", "Sam Rep")
    assert (body["rating"], body["comment"]) == (2, "Students")
    again = client.post(URL, {"rating": 4}, format="json")
    assert again.status_code == 200
    assert again.json()["id"] == body["id"]
    assert CampaignRating.objects.count() == 1
    assert (CampaignRating.objects.get().rating, CampaignRating.objects.get().comment) == (4, "")


def test_everyone_signed_in_reads_the_ratings_page_by_page(
    campaign: Campaign,
    sales_rep: object,
    sales_manager: object,
    marketing_rep: object,
) -> None:
    campaign_rate(campaign=campaign, by=sales_rep, rating=2, comment="Meh")
    campaign_rate(campaign=campaign, by=sales_manager, rating=5)
    response = token_client(marketing_rep).get(URL, {"limit": 1})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2 and len(body["results"]) == 1
    assert body["results"][0]["rater"] == "sally"  # newest first
    assert APIClient().get(URL).status_code in (401, 403)


@pytest.mark.parametrize("role", [Role.MARKETING_REP, Role.MARKETING_MANAGER, Role.ADMIN])
def test_only_sales_rates_through_the_api(
    campaign: Campaign, make_user: Callable[..., object], role: Role
) -> None:
    response = token_client(make_user("outsider", role)).post(URL, {"rating": 5}, format="json")
    assert response.status_code == 403
    assert not CampaignRating.objects.exists()


@pytest.mark.parametrize("payload", [{"rating": 0}, {"rating": 6}, {}, {"rating": "x"},
                                     {"rating": 3, "comment": "x" * 2001}])  # fmt: skip
def test_bad_input_is_a_400_naming_the_field_and_saves_nothing(
    campaign: Campaign, sales_rep: object, payload: dict
) -> None:
    response = token_client(sales_rep).post(URL, payload, format="json")
    assert response.status_code == 400
    assert set(response.json()) <= {"rating", "comment"} and response.json()
    assert not CampaignRating.objects.exists()


def test_an_unknown_campaign_is_not_found(sales_rep: object) -> None:
    client = token_client(sales_rep)
    assert client.get("/api/v1/campaigns/nope/ratings/").status_code == 404
    assert (
        client.post("/api/v1/campaigns/nope/ratings/", {"rating": 3}, format="json").status_code
        == 404
    )
    assert not CampaignRating.objects.exists()


def test_the_rater_changes_their_rating_and_nobody_else_does(
    campaign: Campaign,
    sales_rep: object,
    sales_manager: object,
) -> None:
    rating = campaign_rate(campaign=campaign, by=sales_rep, rating=2, comment="Meh")
    url = f"{URL}{rating.pk}/"
    refused = token_client(sales_manager).patch(url, {"rating": 5}, format="json")
    assert refused.status_code == 403
    assert CampaignRating.objects.get().rating == 2
    changed = token_client(sales_rep).patch(url, {"comment": "Better lately"}, format="json")
    assert changed.status_code == 200
    assert (changed.json()["rating"], changed.json()["comment"]) == (2, "Better lately")
    bad = token_client(sales_rep).patch(url, {"rating": 9}, format="json")
    assert bad.status_code == 400
    assert CampaignRating.objects.get().rating == 2


def test_the_rater_or_a_manager_deletes_a_rating_and_another_rep_cannot(
    campaign: Campaign,
    sales_rep: object,
    make_user: Callable[..., object],
    marketing_manager: object,
) -> None:
    rita = make_user("rita", Role.SALES_REP)
    mine = campaign_rate(campaign=campaign, by=sales_rep, rating=2)
    assert token_client(rita).delete(f"{URL}{mine.pk}/").status_code == 403
    assert CampaignRating.objects.filter(pk=mine.pk).exists()
    assert token_client(sales_rep).delete(f"{URL}{mine.pk}/").status_code == 204
    hers = campaign_rate(campaign=campaign, by=rita, rating=1)
    assert token_client(marketing_manager).delete(f"{URL}{hers.pk}/").status_code == 204
    assert not CampaignRating.objects.exists()


def test_a_rating_is_reached_only_through_its_own_campaign(
    campaign: Campaign, world: World, sales_rep: object
) -> None:
    world.campaign("Other", external_id="other")
    rating = campaign_rate(campaign=campaign, by=sales_rep, rating=2)
    client = token_client(sales_rep)
    assert client.get(f"/api/v1/campaigns/other/ratings/{rating.pk}/").status_code == 404
    assert client.delete(f"/api/v1/campaigns/other/ratings/{rating.pk}/").status_code == 404
    assert client.get(f"{URL}{rating.pk}/").json()["rating"] == 2


def test_the_schema_documents_the_ratings_endpoints(sales_rep: object) -> None:
    schema = token_client(sales_rep).get("/api/v1/schema/", {"format": "json"}).json()
    listed = schema["paths"]["/api/v1/campaigns/{external_id}/ratings/"]
    assert {"get", "post"} <= set(listed)
    assert {"get", "patch", "delete"} <= set(
        schema["paths"]["/api/v1/campaigns/{external_id}/ratings/{id}/"]
    )

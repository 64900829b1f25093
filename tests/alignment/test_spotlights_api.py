"""The spotlights API through real HTTP, with the pages' permissions."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from alignment.models import Spotlight, SpotlightThanks
from alignment.services.spotlights import spotlight_create
from leads.models import Deal, Lead
from tests.conftest import World, token_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def deals(world: World) -> dict[str, str]:
    won = world.lead("2026-03-01T10:00", external_id="acme")
    Lead.objects.filter(external_id=won).update(company="Acme GmbH")
    lost = world.lead("2026-03-01T10:00")
    return {
        "won": world.deal(won, 12000, "2026-03-10T10:00", status="won",
                          closed_at="2026-04-02T10:00", external_id="D-won"),
        "lost": world.deal(lost, 800, "2026-03-10T10:00", status="lost",
                           closed_at="2026-04-02T10:00", external_id="D-lost"),
    }  # fmt: skip


def payload(**extra: object) -> dict:
    return {"title": "Acme signed", "story": "Webinar, then **demo**.", "deal": "D-won",
            "people": ["mia", "sam"], **extra}  # fmt: skip


@pytest.fixture
def spotlight(deals: dict, marketing_rep: object, sales_rep: object) -> Spotlight:
    return spotlight_create(
        by=marketing_rep, title="Acme signed", story="Story.",
        deal=Deal.objects.get(external_id="D-won"), people=[marketing_rep, sales_rep],
    )  # fmt: skip


def test_anyone_creates_a_joint_win_by_deal_external_id_and_usernames(
    deals: dict, marketing_rep: object, sales_rep: object
) -> None:
    response = token_client(sales_rep).post("/api/v1/spotlights/", payload(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["deal"] == "D-won" and body["company"] == "Acme GmbH"
    assert body["deal_amount"] == "12000.00"
    assert [(p["username"], p["team"]) for p in body["people"]] == [
        ("mia", "marketing"),
        ("sam", "sales"),
    ]
    assert (body["thanks_count"], body["thanked"], body["created_by"]) == (0, False, "sam")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"deal": "D-lost"}, "deal"),
        ({"deal": "D-nowhere"}, "deal"),
        ({"people": ["mia"]}, "people"),
        ({"people": ["mia", "ghost"]}, "people"),
        ({"title": ""}, "title"),
        ({"created_at": "1899-12-31T10:00:00Z"}, "created_at"),
    ],
)
def test_a_spotlight_without_a_won_deal_or_both_teams_is_a_400_naming_the_field(
    deals: dict, marketing_rep: object, sales_rep: object, change: dict, field: str
) -> None:
    response = token_client(marketing_rep).post(
        "/api/v1/spotlights/", payload(**change), format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    assert not Spotlight.objects.exists()


def test_thanks_once_per_person_counted_and_taken_back(
    spotlight: Spotlight, sales_rep: object, sales_manager: object
) -> None:
    url = f"/api/v1/spotlights/{spotlight.pk}/thanks/"
    sam, sally = token_client(sales_rep), token_client(sales_manager)
    assert sam.post(url).json()["thanks_count"] == 1
    twice = sam.post(url).json()
    assert (twice["thanks_count"], twice["thanked"]) == (1, True)
    both = sally.post(url).json()
    assert (both["thanks_count"], sorted(both["thanked_by"])) == (2, ["sally", "sam"])
    back = sam.delete(url).json()
    assert (back["thanks_count"], back["thanked"]) == (1, False)
    assert sam.delete(url).status_code == 200
    assert list(SpotlightThanks.objects.values_list("user__username", flat=True)) == ["sally"]


def test_the_creator_and_managers_patch_others_get_a_403_and_nothing_changes(
    spotlight: Spotlight, marketing_rep: object, sales_rep: object, sales_manager: object
) -> None:
    url = f"/api/v1/spotlights/{spotlight.pk}/"
    refused = token_client(sales_rep).patch(url, {"title": "Mine"}, format="json")
    assert refused.status_code == 403
    assert Spotlight.objects.get().title == "Acme signed"
    own = token_client(marketing_rep).patch(url, {"title": "Acme, April"}, format="json")
    assert own.status_code == 200 and own.json()["title"] == "Acme, April"
    manager = token_client(sales_manager).patch(
        url, {"people": ["mia", "sam", "sally"]}, format="json"
    )
    assert [p["username"] for p in manager.json()["people"]] == ["mia", "sam", "sally"]
    bad = token_client(sales_manager).patch(url, {"people": ["sam"]}, format="json")
    assert bad.status_code == 400
    assert Spotlight.objects.get().credits.count() == 3


def test_a_rep_cannot_delete_someone_elses_spotlight_but_can_delete_their_own(
    spotlight: Spotlight, marketing_rep: object, sales_rep: object
) -> None:
    url = f"/api/v1/spotlights/{spotlight.pk}/"
    assert token_client(sales_rep).delete(url).status_code == 403
    assert Spotlight.objects.filter(pk=spotlight.pk).exists()
    assert token_client(marketing_rep).delete(url).status_code == 204
    assert not Spotlight.objects.exists()
    assert token_client(marketing_rep).get(url).status_code == 404


def test_the_list_is_newest_first_and_says_whether_you_thanked(
    spotlight: Spotlight, deals: dict, marketing_rep: object, sales_rep: object
) -> None:
    client = token_client(sales_rep)
    client.post("/api/v1/spotlights/", payload(title="Newer"), format="json")
    client.post(f"/api/v1/spotlights/{spotlight.pk}/thanks/")
    body = client.get("/api/v1/spotlights/").json()
    assert body["count"] == 2
    assert [(r["title"], r["thanked"]) for r in body["results"]] == [
        ("Newer", False),
        ("Acme signed", True),
    ]
    assert (
        token_client(marketing_rep).get("/api/v1/spotlights/").json()["results"][1]["thanked"]
        is False
    )


def test_the_api_needs_a_login(spotlight: Spotlight) -> None:
    assert APIClient().get("/api/v1/spotlights/").status_code in (401, 403)


def test_the_schema_lists_the_spotlight_and_shadowing_paths(sales_rep: object) -> None:
    schema = token_client(sales_rep).get("/api/v1/schema/", {"format": "json"}).json()
    for path in [
        "/api/v1/spotlights/", "/api/v1/spotlights/{id}/", "/api/v1/spotlights/{id}/thanks/",
        "/api/v1/shadowing/", "/api/v1/shadowing/{id}/", "/api/v1/shadowing/{id}/log/",
        "/api/v1/shadowing/{id}/debrief/",
    ]:  # fmt: skip
        assert path in schema["paths"], path
    assert set(schema["paths"]["/api/v1/spotlights/{id}/"]) >= {"get", "patch", "delete"}

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from alignment.models import Goal, Idea, IdeaVote
from tests.conftest import token_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def clients(
    sales_rep: object,
    sales_manager: object,
    marketing_rep: object,
    marketing_manager: object,
    admin_user: object,
) -> dict[str, APIClient]:
    users = {
        "sam": sales_rep, "sally": sales_manager, "mia": marketing_rep,
        "max": marketing_manager, "ada": admin_user,
    }  # fmt: skip
    return {name: token_client(user) for name, user in users.items()}


def _opened(clients: dict[str, APIClient], by: str = "mia", title: str = "Webinar") -> int:
    created = clients[by].post(
        "/api/v1/ideas/", {"title": title, "body": "Half done."}, format="json"
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert clients[by].post(f"/api/v1/ideas/{pk}/open/").status_code == 200
    return pk


def test_an_idea_is_posted_as_a_draft_and_opened(clients: dict[str, APIClient]) -> None:
    created = clients["sam"].post("/api/v1/ideas/", {"title": "Demo day"}, format="json")
    assert created.status_code == 201
    body = created.json()
    assert (body["status"], body["author"], body["author_team"]) == ("draft", "sam", "sales")
    assert body["votes"] == {"marketing": 0, "sales": 0, "other": 0, "total": 0}
    opened = clients["sam"].post(f"/api/v1/ideas/{body['id']}/open/")
    assert opened.json()["status"] == "open" and opened.json()["opened_at"]


def test_only_the_author_edits_a_draft(clients: dict[str, APIClient]) -> None:
    pk = clients["mia"].post("/api/v1/ideas/", {"title": "Draft"}, format="json").json()["id"]
    for other in ("max", "sam", "ada"):
        response = clients[other].patch(
            f"/api/v1/ideas/{pk}/", {"title": "Hijacked"}, format="json"
        )
        assert response.status_code == 403, other
    assert Idea.objects.get(pk=pk).title == "Draft"
    response = clients["mia"].patch(f"/api/v1/ideas/{pk}/", {"body": "More"}, format="json")
    assert response.status_code == 200
    assert (response.json()["title"], response.json()["body"]) == ("Draft", "More")


def test_an_open_idea_is_not_patched(clients: dict[str, APIClient]) -> None:
    pk = _opened(clients)
    response = clients["mia"].patch(f"/api/v1/ideas/{pk}/", {"title": "Later"}, format="json")
    assert response.status_code == 403
    assert Idea.objects.get(pk=pk).title == "Webinar"


def test_drafts_of_others_are_not_listed_nor_read(clients: dict[str, APIClient]) -> None:
    pk = clients["mia"].post("/api/v1/ideas/", {"title": "Secret"}, format="json").json()["id"]
    _opened(clients, title="Public")
    listed = clients["max"].get("/api/v1/ideas/").json()
    assert [i["title"] for i in listed["results"]] == ["Public"]
    assert clients["max"].get(f"/api/v1/ideas/{pk}/").status_code == 403
    assert {i["title"] for i in clients["mia"].get("/api/v1/ideas/").json()["results"]} == {
        "Secret", "Public",
    }  # fmt: skip
    only_open = clients["mia"].get("/api/v1/ideas/", {"status": "open"}).json()["results"]
    assert [i["title"] for i in only_open] == ["Public"]
    assert clients["mia"].get("/api/v1/ideas/", {"status": "bogus"}).status_code == 400


def test_votes_are_counted_per_team_one_per_person(clients: dict[str, APIClient]) -> None:
    pk = _opened(clients)
    for name in ("sam", "sally", "max", "ada", "sam"):
        assert clients[name].post(f"/api/v1/ideas/{pk}/vote/").status_code == 200
    body = clients["sam"].get(f"/api/v1/ideas/{pk}/").json()
    assert body["votes"] == {"marketing": 1, "sales": 2, "other": 1, "total": 4}
    assert body["you_voted"] is True
    assert clients["sally"].delete(f"/api/v1/ideas/{pk}/vote/").json()["votes"]["sales"] == 1
    assert clients["mia"].post(f"/api/v1/ideas/{pk}/vote/").status_code == 403  # own idea
    assert IdeaVote.objects.filter(idea_id=pk).count() == 3


def test_comments_are_posted_and_shown_with_the_commenters_team(
    clients: dict[str, APIClient],
) -> None:
    pk = _opened(clients)
    response = clients["sam"].post(
        f"/api/v1/ideas/{pk}/comments/", {"body": "Do it"}, format="json"
    )
    assert response.status_code == 201
    assert (response.json()["author"], response.json()["team"]) == ("sam", "sales")
    assert (
        clients["sam"]
        .post(f"/api/v1/ideas/{pk}/comments/", {"body": ""}, format="json")
        .status_code
        == 400
    )
    body = clients["max"].get(f"/api/v1/ideas/{pk}/").json()
    assert body["comment_count"] == 1
    assert [c["body"] for c in body["comments"]] == ["Do it"]


def test_a_draft_takes_no_comment(clients: dict[str, APIClient]) -> None:
    pk = clients["mia"].post("/api/v1/ideas/", {"title": "Draft"}, format="json").json()["id"]
    response = clients["mia"].post(f"/api/v1/ideas/{pk}/comments/", {"body": "x"}, format="json")
    assert response.status_code == 400


def test_parking_needs_a_reason(clients: dict[str, APIClient]) -> None:
    pk = _opened(clients)
    response = clients["mia"].post(f"/api/v1/ideas/{pk}/park/", {"reason": ""}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()
    assert Idea.objects.get(pk=pk).status == "open"
    response = clients["mia"].post(f"/api/v1/ideas/{pk}/park/", {"reason": "Q3"}, format="json")
    assert (response.json()["status"], response.json()["parked_reason"]) == ("parked", "Q3")


def test_the_author_or_a_manager_adopts_with_a_campaign_or_a_goal(
    clients: dict[str, APIClient], world: object, marketing_manager: object
) -> None:
    external_id = world.campaign("cfo-webinar")
    pk = _opened(clients)
    assert clients["sam"].post(f"/api/v1/ideas/{pk}/adopt/", {}, format="json").status_code == 403
    bad = clients["sally"].post(f"/api/v1/ideas/{pk}/adopt/", {"campaign": "nope"}, format="json")
    assert bad.status_code == 400 and "campaign" in bad.json()
    assert Idea.objects.get(pk=pk).status == "open"
    response = clients["sally"].post(
        f"/api/v1/ideas/{pk}/adopt/", {"campaign": external_id}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["campaign"]) == ("adopted", external_id)
    assert response.json()["decided_by"] == "sally"
    goal = Goal.objects.create(
        name="More SQLs", metric="sqls", target=10, direction="higher", period="month",
        period_start="2026-12-01", owner_team="both",
    )  # fmt: skip
    other = _opened(clients, title="Other")
    response = clients["mia"].post(
        f"/api/v1/ideas/{other}/adopt/", {"goal": goal.pk}, format="json"
    )
    assert response.json()["goal"] == goal.pk


def test_reps_cant_delete_others_ideas(clients: dict[str, APIClient]) -> None:
    pk = _opened(clients)
    assert clients["sam"].delete(f"/api/v1/ideas/{pk}/").status_code == 403
    assert clients["mia"].delete(f"/api/v1/ideas/{pk}/").status_code == 403  # opened: a manager's
    assert Idea.objects.filter(pk=pk).exists()
    assert clients["sally"].delete(f"/api/v1/ideas/{pk}/").status_code == 204
    assert not Idea.objects.filter(pk=pk).exists()


def test_an_unknown_idea_is_a_404(clients: dict[str, APIClient]) -> None:
    assert clients["sam"].get("/api/v1/ideas/999/").status_code == 404


def test_the_api_needs_a_login() -> None:
    assert APIClient().get("/api/v1/ideas/").status_code in {401, 403}


def test_the_schema_lists_the_ideas_endpoints(clients: dict[str, APIClient]) -> None:
    schema = clients["sam"].get("/api/v1/schema/", {"format": "json"}).json()
    for path in (
        "/api/v1/ideas/", "/api/v1/ideas/{id}/", "/api/v1/ideas/{id}/open/",
        "/api/v1/ideas/{id}/adopt/", "/api/v1/ideas/{id}/park/", "/api/v1/ideas/{id}/comments/",
        "/api/v1/ideas/{id}/vote/",
    ):  # fmt: skip
        assert path in schema["paths"], path
    assert set(schema["paths"]["/api/v1/ideas/{id}/vote/"]) >= {"post", "delete"}


def test_an_undecided_idea_answers_null_for_its_decider_and_campaign_as_the_schema_says(
    clients: dict[str, APIClient],
) -> None:
    """Found by the schema fuzz: the schema said both were always strings."""
    body = clients["sam"].post("/api/v1/ideas/", {"title": "Demo day"}, format="json").json()
    assert (body["decided_by"], body["campaign"]) == (None, None)
    schema = clients["sam"].get("/api/v1/schema/", {"format": "json"}).json()
    fields = schema["components"]["schemas"]["IdeaOut"]["properties"]
    assert fields["decided_by"]["nullable"] and fields["campaign"]["nullable"]

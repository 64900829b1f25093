from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from alignment.models import FieldInsight
from leads.models import FunnelChange
from tests.conftest import token_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def clients(
    sales_rep: object,
    sales_manager: object,
    marketing_rep: object,
    marketing_manager: object,
    admin_user: object,
    make_user: object,
) -> dict[str, APIClient]:
    from alignment.roles import Role

    users = {
        "sam": sales_rep, "sally": sales_manager, "mia": marketing_rep,
        "max": marketing_manager, "ada": admin_user, "otto": make_user("otto", Role.SALES_REP),
    }  # fmt: skip
    return {name: token_client(user) for name, user in users.items()}


def _post(client: APIClient, **fields: object) -> dict:
    data = {"kind": "objection", "text": "Too expensive", "tags": ["Pricing"], **fields}
    response = client.post("/api/v1/insights/", data, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_sales_posts_an_insight(clients: dict[str, APIClient], world: object) -> None:
    campaign = world.campaign("spring")
    body = _post(clients["sam"], campaign=campaign, posted_at="2026-11-02T10:00:00")
    assert body["kind"] == "objection" and body["tags"] == ["pricing"]
    assert (body["campaign"], body["posted_by"]) == (campaign, "sam")
    assert body["posted_at"].startswith("2026-11-02T10:00:00")
    assert (body["answer"], body["answered_at"], body["answer_days"]) == ("", None, None)


def test_only_sales_posts_insights(clients: dict[str, APIClient]) -> None:
    for name in ("mia", "max"):
        response = clients[name].post(
            "/api/v1/insights/", {"kind": "question", "text": "?"}, format="json"
        )
        assert response.status_code == 403, name
    assert not FieldInsight.objects.exists()
    _post(clients["ada"])  # admins too (integrations)


def test_bad_insights_are_400s_naming_the_field(clients: dict[str, APIClient]) -> None:
    cases = [
        ({"kind": "gossip", "text": "x"}, "kind"),
        ({"kind": "question", "text": ""}, "text"),
        ({"kind": "question", "text": "x", "campaign": "nope"}, "campaign"),
        ({"kind": "question", "text": "x", "posted_at": "1850-01-01T00:00:00Z"}, "posted_at"),
        ({"kind": "question", "text": "x", "posted_at": "2999-01-01T00:00:00Z"}, "posted_at"),
    ]
    for data, field in cases:
        response = clients["sam"].post("/api/v1/insights/", data, format="json")
        assert response.status_code == 400 and field in response.json(), (data, response.content)
    assert not FieldInsight.objects.exists()


def test_only_marketing_answers_insights(clients: dict[str, APIClient]) -> None:
    pk = _post(clients["sam"])["id"]
    for name in ("sam", "sally", "otto"):
        response = clients[name].post(
            f"/api/v1/insights/{pk}/answer/", {"answer": "not_used", "text": "no"}, format="json"
        )
        assert response.status_code == 403, name
    assert FieldInsight.objects.get(pk=pk).answered_at is None
    response = clients["mia"].post(
        f"/api/v1/insights/{pk}/answer/",
        {"answer": "not_used", "text": "Not our ICP"},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["answer"], body["answer_text"], body["answered_by"]) == (
        "not_used", "Not our ICP", "mia",
    )  # fmt: skip
    assert body["answer_days"] is not None


def test_an_answer_needs_its_where_or_its_why(clients: dict[str, APIClient], world: object) -> None:
    pk = _post(clients["sam"])["id"]
    for data in ({"answer": "used"}, {"answer": "not_used", "text": " "}, {"answer": "maybe"}):
        response = clients["mia"].post(f"/api/v1/insights/{pk}/answer/", data, format="json")
        assert response.status_code == 400, data
    assert FieldInsight.objects.get(pk=pk).answered_at is None
    campaign = world.campaign("battle-cards")
    response = clients["max"].post(
        f"/api/v1/insights/{pk}/answer/", {"answer": "used", "campaign": campaign}, format="json"
    )
    assert response.json()["answer_campaign"] == campaign


def test_an_answer_logs_the_periods_for_the_engine(clients: dict[str, APIClient]) -> None:
    pk = _post(clients["sam"])["id"]
    FunnelChange.objects.all().delete()
    clients["mia"].post(
        f"/api/v1/insights/{pk}/answer/", {"answer": "used", "text": "FAQ"}, format="json"
    )
    assert FunnelChange.objects.filter(part="insights").exists()
    FunnelChange.objects.all().delete()
    assert clients["mia"].delete(f"/api/v1/insights/{pk}/answer/").json()["answered_at"] is None
    assert FunnelChange.objects.filter(part="insights").exists()


def test_the_list_filters_by_kind_tag_and_answer(clients: dict[str, APIClient]) -> None:
    first = _post(clients["sam"])["id"]
    second = _post(clients["sam"], kind="question", text="SSO?", tags=["security"])["id"]
    clients["mia"].post(
        f"/api/v1/insights/{second}/answer/", {"answer": "used", "text": "FAQ"}, format="json"
    )

    def ids(**query: str) -> list[int]:
        response = clients["sally"].get("/api/v1/insights/", query)
        assert response.status_code == 200, response.content
        return [i["id"] for i in response.json()["results"]]

    assert ids() == [second, first]
    assert ids(kind="question") == [second]
    assert ids(tag="pricing") == [first]
    assert ids(answered="false") == [first]
    assert ids(answered="true") == [second]
    for bad in ({"kind": "gossip"}, {"answered": "perhaps"}, {"campaign": "nope"}):
        assert clients["sally"].get("/api/v1/insights/", bad).status_code == 400


def test_the_poster_patches_until_answered(clients: dict[str, APIClient]) -> None:
    pk = _post(clients["sam"])["id"]
    response = clients["otto"].patch(f"/api/v1/insights/{pk}/", {"text": "Hijacked"}, format="json")
    assert response.status_code == 403
    response = clients["sam"].patch(
        f"/api/v1/insights/{pk}/",
        {"text": "Twice the price", "tags": ["price", "x"]},
        format="json",
    )
    assert response.status_code == 200
    assert (response.json()["text"], response.json()["tags"]) == ("Twice the price", ["price", "x"])
    clients["mia"].post(
        f"/api/v1/insights/{pk}/answer/", {"answer": "used", "text": "FAQ"}, format="json"
    )
    response = clients["sam"].patch(f"/api/v1/insights/{pk}/", {"text": "Later"}, format="json")
    assert response.status_code == 400
    assert FieldInsight.objects.get(pk=pk).text == "Twice the price"


def test_reps_cant_delete_others_insights(clients: dict[str, APIClient]) -> None:
    pk = _post(clients["sam"])["id"]
    assert clients["otto"].delete(f"/api/v1/insights/{pk}/").status_code == 403
    assert clients["mia"].delete(f"/api/v1/insights/{pk}/").status_code == 403
    assert FieldInsight.objects.filter(pk=pk).exists()
    assert clients["max"].delete(f"/api/v1/insights/{pk}/").status_code == 204
    assert not FieldInsight.objects.exists()


def test_the_schema_lists_the_insights_endpoints(clients: dict[str, APIClient]) -> None:
    schema = clients["sam"].get("/api/v1/schema/", {"format": "json"}).json()
    for path in ("/api/v1/insights/", "/api/v1/insights/{id}/", "/api/v1/insights/{id}/answer/"):
        assert path in schema["paths"], path
    assert set(schema["paths"]["/api/v1/insights/{id}/"]) >= {"get", "patch", "delete"}


def test_an_unanswered_insight_answers_null_where_the_schema_says_it_may(
    clients: dict[str, APIClient],
) -> None:
    """Found by the schema fuzz: the schema said these three were always strings."""
    body = _post(clients["sam"])
    nulls = ("campaign", "answer_campaign", "answered_by")
    assert [body[name] for name in nulls] == [None, None, None]
    schema = clients["sam"].get("/api/v1/schema/", {"format": "json"}).json()
    fields = schema["components"]["schemas"]["InsightOut"]["properties"]
    assert all(fields[name]["nullable"] for name in nulls)

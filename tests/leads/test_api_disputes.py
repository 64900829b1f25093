"""The disputes API through real HTTP: raise, list, read, resolve and confirm, what each role
reads of a dispute, and bad input refused with nothing changed."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from leads.models import Dispute, Handoff
from tests.conftest import World, ago, token_client
from tests.leads.disputes_fixture import COMMENT, FEEDBACK, READERS

pytestmark = pytest.mark.django_db
NOTE = "One call and no voicemail is no follow-up."
PRIVATE = {
    "lead", "comment", "outcome_note", "feedback", "raised_by", "outcome_by", "resolved_by",
    "owner", "decided_by", "awaiting_head",
}  # fmt: skip


def as_(cast: dict, who: str) -> APIClient:
    return token_client(cast[who])


def _state(dispute_pk: int) -> tuple:
    d = Dispute.objects.get(pk=dispute_pk)
    return (d.status, d.outcome, d.outcome_note, d.awaiting_team, d.resolved_at, d.reopen_event_id)


# --- raising -------------------------------------------------------------------------------


def test_marketing_disputes_a_rejection_and_reads_it_back(rejected: Handoff, cast: dict) -> None:
    response = as_(cast, "disputer").post(
        f"/api/v1/handoffs/{rejected.pk}/dispute/", {"comment": COMMENT}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    dispute = Dispute.objects.get()
    assert body["id"] == dispute.pk and body["handoff"] == rejected.pk
    assert {
        k: body[k] for k in ["lead", "reason", "status", "comment", "raised_by", "visible"]
    } == {
        "lead": "L-d",
        "reason": "no_budget",
        "status": "open",
        "comment": COMMENT,
        "raised_by": "mia",
        "visible": True,
    }
    assert (body["owner"], body["decided_by"], body["feedback"]) == ("sam", "sam", FEEDBACK)
    assert body["attempts_before_decision"] == 1
    assert body["outcome"] == "" and body["awaiting_team"] is None


@pytest.mark.parametrize(
    "who", ["rejecter", "other_sales_rep", "sales_manager", "head_of_sales", "admin"]
)
def test_only_marketing_may_dispute_and_is_told_so(rejected: Handoff, cast: dict, who: str) -> None:
    response = as_(cast, who).post(
        f"/api/v1/handoffs/{rejected.pk}/dispute/", {"comment": COMMENT}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["detail"] == (
        "Only marketing (reps and managers) can dispute a rejection."
    )
    assert not Dispute.objects.exists()


@pytest.mark.parametrize("payload", [{}, {"comment": ""}, {"comment": "   "}])
def test_a_dispute_without_a_comment_is_refused_naming_it(
    rejected: Handoff, cast: dict, payload: dict
) -> None:
    response = as_(cast, "disputer").post(
        f"/api/v1/handoffs/{rejected.pk}/dispute/", payload, format="json"
    )
    assert response.status_code == 400
    assert "comment" in response.json()
    assert not Dispute.objects.exists()


def test_a_rejection_is_disputed_once_over_the_api(disputed: Dispute, cast: dict) -> None:
    response = as_(cast, "marketing_manager").post(
        f"/api/v1/handoffs/{disputed.handoff_id}/dispute/", {"comment": "Again"}, format="json"
    )
    assert response.status_code == 400
    assert "already disputed" in str(response.json())
    assert Dispute.objects.count() == 1


def test_a_late_dispute_is_refused_with_the_window(world: World, cast: dict) -> None:
    world.lead(ago(days=30), external_id="L-old", owner="sam")
    world.stage("L-old", "mql", ago(days=25))
    world.stage("L-old", "rejected", ago(days=20), reason="bad_fit", actor="sam")
    handoff = Handoff.objects.get(lead__external_id="L-old")
    response = as_(cast, "disputer").post(
        f"/api/v1/handoffs/{handoff.pk}/dispute/", {"comment": COMMENT}, format="json"
    )
    assert response.status_code == 400
    assert "Too late to dispute" in response.json()["detail"][0]
    assert not Dispute.objects.exists()


def test_a_pending_handoff_cannot_be_disputed_over_the_api(world: World, cast: dict) -> None:
    world.lead(ago(days=3), external_id="L-p", owner="sam")
    world.stage("L-p", "mql", ago(days=2))
    handoff = Handoff.objects.get(lead__external_id="L-p")
    response = as_(cast, "disputer").post(
        f"/api/v1/handoffs/{handoff.pk}/dispute/", {"comment": COMMENT}, format="json"
    )
    assert response.status_code == 400
    assert "Only a rejection can be disputed" in response.json()["detail"][0]


def test_unknown_handoffs_and_disputes_are_404(cast: dict, disputed: Dispute) -> None:
    client = as_(cast, "head_of_marketing")
    missing = disputed.pk + 1000
    assert client.post("/api/v1/handoffs/999999/dispute/", {"comment": "x"}).status_code == 404
    assert client.get(f"/api/v1/disputes/{missing}/").status_code == 404
    assert (
        client.post(f"/api/v1/disputes/{missing}/resolve/", {"outcome": "upheld"}).status_code
        == 404
    )
    assert client.post(f"/api/v1/disputes/{missing}/confirm/").status_code == 404


# --- reading: what each role sees ----------------------------------------------------------


@pytest.fixture
def settled(disputed: Dispute, cast: dict) -> Dispute:
    """max records the overturn, sally confirms it: the lead goes to rita."""
    as_(cast, "head_of_marketing").post(
        f"/api/v1/disputes/{disputed.pk}/resolve/",
        {"outcome": "overturned", "note": NOTE},
        format="json",
    )
    as_(cast, "head_of_sales").post(f"/api/v1/disputes/{disputed.pk}/confirm/")
    disputed.refresh_from_db()
    assert disputed.status == Dispute.Status.RESOLVED
    return disputed


@pytest.mark.parametrize("who", list(READERS))
def test_each_role_reads_a_dispute_whole_or_without_its_words_and_names(
    settled: Dispute, cast: dict, who: str
) -> None:
    client = as_(cast, who)
    listed = client.get("/api/v1/disputes/").json()
    assert listed["count"] == 1
    detail = client.get(f"/api/v1/disputes/{settled.pk}/").json()
    for body in (listed["results"][0], detail):
        # States, times and counts for everyone.
        assert (body["status"], body["outcome"], body["reason"]) == (
            "resolved",
            "overturned",
            "no_budget",
        )
        assert body["attempts_before_decision"] == 1 and body["resolved_at"] is not None
        assert body["reopened_handoff"] == (
            Handoff.objects.get(opening_event=settled.reopen_event).pk
        )
        assert body["visible"] is READERS[who]
        if READERS[who]:
            assert {k: body[k] for k in PRIVATE} == {
                "lead": "L-d", "comment": COMMENT, "outcome_note": NOTE, "feedback": FEEDBACK,
                "raised_by": "mia", "outcome_by": "max", "resolved_by": "sally",
                "owner": "sam", "decided_by": "sam", "awaiting_head": None,
            }  # fmt: skip
        else:
            assert {k: body[k] for k in PRIVATE} == dict.fromkeys(PRIVATE)


@pytest.mark.parametrize("who", list(READERS))
def test_the_awaited_head_is_named_only_to_those_who_read_the_dispute(
    disputed: Dispute, cast: dict, who: str
) -> None:
    as_(cast, "head_of_sales").post(
        f"/api/v1/disputes/{disputed.pk}/resolve/", {"outcome": "upheld"}, format="json"
    )
    body = as_(cast, who).get(f"/api/v1/disputes/{disputed.pk}/").json()
    assert (body["status"], body["awaiting_team"]) == ("awaiting", "marketing")
    assert body["awaiting_head"] == ("max" if READERS[who] else None)


def test_the_list_filters_by_status_and_refuses_an_unknown_one(
    world: World, disputed: Dispute, cast: dict
) -> None:
    client = as_(cast, "head_of_sales")
    assert [d["id"] for d in client.get("/api/v1/disputes/?status=open").json()["results"]] == [
        disputed.pk
    ]
    assert client.get("/api/v1/disputes/?status=resolved").json()["count"] == 0
    response = client.get("/api/v1/disputes/?status=closed")
    assert response.status_code == 400 and "status" in response.json()


def test_the_list_reads_a_bounded_number_of_queries(
    world: World, cast: dict, django_assert_max_num_queries: object
) -> None:
    from leads.services_disputes import dispute_raise

    for n in range(12):
        lead = world.lead(ago(days=6), owner="sam")
        world.stage(lead, "mql", ago(days=5))
        world.stage(lead, "rejected", ago(days=4, hours=n), reason="bad_fit", actor="sam")
        dispute_raise(
            handoff=Handoff.objects.get(lead__external_id=lead), by=cast["disputer"], comment="x"
        )
    client = as_(cast, "other_sales_rep")
    with django_assert_max_num_queries(8):  # token, role, count, page, heads, headship...
        assert client.get("/api/v1/disputes/").json()["count"] == 12


# --- settling --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "who",
    ["disputer", "other_marketing_rep", "marketing_manager", "rejecter", "sales_manager", "admin"],
)
def test_only_the_heads_resolve_or_confirm_and_are_told_so(
    disputed: Dispute, cast: dict, who: str
) -> None:
    before = _state(disputed.pk)
    client = as_(cast, who)
    for path, payload in [("resolve", {"outcome": "upheld"}), ("confirm", {})]:
        response = client.post(f"/api/v1/disputes/{disputed.pk}/{path}/", payload, format="json")
        assert response.status_code == 403
        assert "head of marketing and the head of sales" in response.json()["detail"]
    assert _state(disputed.pk) == before


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "outcome"),
        ({"outcome": "withdrawn"}, "outcome"),
        ({"outcome": "overturned"}, "note"),
        ({"outcome": "overturned", "note": "  "}, "note"),
    ],
)
def test_a_bad_outcome_is_refused_naming_the_field(
    disputed: Dispute, cast: dict, payload: dict, field: str
) -> None:
    before = _state(disputed.pk)
    response = as_(cast, "head_of_marketing").post(
        f"/api/v1/disputes/{disputed.pk}/resolve/", payload, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    assert _state(disputed.pk) == before


def test_the_heads_settle_an_overturn_and_the_lead_goes_to_another_rep(
    disputed: Dispute, cast: dict
) -> None:
    marketing, sales = as_(cast, "head_of_marketing"), as_(cast, "head_of_sales")
    response = marketing.post(
        f"/api/v1/disputes/{disputed.pk}/confirm/", format="json"
    )  # nothing to confirm yet
    assert response.status_code == 400
    assert "No outcome to confirm yet" in response.json()["detail"][0]
    recorded = marketing.post(
        f"/api/v1/disputes/{disputed.pk}/resolve/",
        {"outcome": "overturned", "note": NOTE},
        format="json",
    )
    assert recorded.status_code == 200
    assert {k: recorded.json()[k] for k in ["status", "awaiting_team", "awaiting_head"]} == {
        "status": "awaiting",
        "awaiting_team": "sales",
        "awaiting_head": "sally",
    }
    own = marketing.post(f"/api/v1/disputes/{disputed.pk}/confirm/")
    assert own.status_code == 400
    assert "You recorded this outcome: the head of sales confirms it." in own.json()["detail"]
    assert Dispute.objects.get().status == Dispute.Status.AWAITING
    confirmed = sales.post(f"/api/v1/disputes/{disputed.pk}/confirm/")
    assert confirmed.status_code == 200
    body = confirmed.json()
    assert (body["status"], body["outcome"], body["resolved_by"]) == (
        "resolved",
        "overturned",
        "sally",
    )
    reopened = Handoff.objects.get(pk=body["reopened_handoff"])
    assert (reopened.status, reopened.owner) == ("pending", cast["other_sales_rep"])
    assert Handoff.objects.get(pk=disputed.handoff_id).status == "rejected"
    again = sales.post(f"/api/v1/disputes/{disputed.pk}/confirm/")
    assert again.status_code == 400 and "already settled" in again.json()["detail"][0]


def test_the_schema_documents_the_dispute_endpoints(cast: dict) -> None:
    paths = as_(cast, "disputer").get("/api/v1/schema/", {"format": "json"}).json()["paths"]
    for path in [
        "/api/v1/handoffs/{id}/dispute/",
        "/api/v1/disputes/",
        "/api/v1/disputes/{id}/",
        "/api/v1/disputes/{id}/resolve/",
        "/api/v1/disputes/{id}/confirm/",
    ]:
        assert path in paths, path

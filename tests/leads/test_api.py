"""The ingest API of SPEC §7, through real HTTP and a real database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from alignment.roles import Role
from leads.models import (
    Campaign,
    Channel,
    ContactAttempt,
    Deal,
    FunnelChange,
    Handoff,
    Lead,
    StageEvent,
    Touch,
)
from tests.conftest import token_client

pytestmark = pytest.mark.django_db

CAMPAIGN = {
    "external_id": "C-1",
    "name": "Spring webinar",
    "channel": "webinar",
    "starts_on": "2026-03-01",
    "ends_on": "2026-03-31",
    "cost": "4500.00",
}


def lead(n: int = 1, **extra: object) -> dict:
    return {
        "external_id": f"L-{n}",
        "email": f"lead{n}@example.com",
        "name": f"Lead {n}",
        "company": "Acme",
        "created_at": "2026-03-02T10:00:00Z",
        **extra,
    }


def post(api: APIClient, endpoint: str, payload: object) -> tuple[int, dict]:
    response = api.post(f"/api/v1/{endpoint}/", payload, format="json")
    return response.status_code, response.json()


@pytest.fixture
def funnel(api: APIClient, sales_rep: object) -> None:
    """A campaign and two leads, the second owned by the sales rep."""
    assert post(api, "campaigns", CAMPAIGN)[0] == 200
    assert post(api, "leads", [lead(1, campaign="C-1"), lead(2, owner="sam")])[0] == 200


def stage(n: int, lead_n: int, stage_: str, at: str, **extra: object) -> dict:
    return {
        "external_id": f"SE-{n}",
        "lead": f"L-{lead_n}",
        "stage": stage_,
        "occurred_at": at,
        **extra,
    }


# --- create and idempotent re-send, per endpoint --------------------------------------------


def test_it_creates_a_campaign_from_one_object(api: APIClient) -> None:
    assert post(api, "campaigns", CAMPAIGN) == (200, {"created": 1, "updated": 0})
    campaign = Campaign.objects.get(external_id="C-1")
    assert (campaign.name, campaign.channel_id, campaign.cost) == (
        "Spring webinar",
        "webinar",
        Decimal("4500.00"),
    )


def test_resending_a_campaign_updates_it_instead_of_duplicating(api: APIClient) -> None:
    post(api, "campaigns", CAMPAIGN)
    status, body = post(api, "campaigns", {**CAMPAIGN, "cost": "5000"})
    assert (status, body) == (200, {"created": 0, "updated": 1})
    assert Campaign.objects.count() == 1
    assert Campaign.objects.get().cost == Decimal("5000")


def test_it_creates_and_updates_leads_in_one_batch(api: APIClient, funnel: None) -> None:
    status, body = post(api, "leads", [lead(2, company="Globex"), lead(3)])
    assert (status, body) == (200, {"created": 1, "updated": 1})
    assert Lead.objects.count() == 3
    assert Lead.objects.get(external_id="L-2").company == "Globex"


def test_a_lead_keeps_its_campaign_owner_segment_and_attributes(
    api: APIClient, funnel: None
) -> None:
    attributes = {"industry": "saas", "size": {"employees": 250}}
    post(api, "leads", lead(9, campaign="C-1", owner="sam", segment="smb", attributes=attributes))
    stored = Lead.objects.select_related("campaign", "owner").get(external_id="L-9")
    assert (stored.campaign.external_id, stored.owner.username, stored.segment) == (
        "C-1",
        "sam",
        "smb",
    )
    assert stored.attributes == attributes
    assert stored.stage == "inquiry"


def test_it_creates_and_updates_touches(api: APIClient, funnel: None) -> None:
    touch = {
        "external_id": "T-1",
        "lead": "L-1",
        "campaign": "C-1",
        "occurred_at": "2026-03-02T09:00:00Z",
        "kind": "webinar",
    }
    assert post(api, "touches", touch) == (200, {"created": 1, "updated": 0})
    assert post(api, "touches", {**touch, "kind": "replay"}) == (200, {"created": 0, "updated": 1})
    assert list(Touch.objects.values_list("kind", flat=True)) == ["replay"]


def test_it_creates_and_updates_contact_attempts(api: APIClient, funnel: None) -> None:
    attempt = {
        "external_id": "A-1",
        "lead": "L-2",
        "occurred_at": "2026-03-03T09:00:00Z",
        "channel": "call",
        "outcome": "no_answer",
        "actor": "sam",
    }
    assert post(api, "attempts", attempt) == (200, {"created": 1, "updated": 0})
    assert post(api, "attempts", {**attempt, "outcome": "connected"}) == (
        200,
        {"created": 0, "updated": 1},
    )
    stored = ContactAttempt.objects.get()
    assert (stored.outcome, stored.actor.username) == ("connected", "sam")


def test_it_creates_a_deal_and_closes_it_on_resend(api: APIClient, funnel: None) -> None:
    deal = {
        "external_id": "D-1",
        "lead": "L-1",
        "amount": "12000",
        "created_at": "2026-03-10T12:00:00Z",
        "status": "open",
    }
    assert post(api, "deals", deal) == (200, {"created": 1, "updated": 0})
    won = {**deal, "status": "won", "closed_at": "2026-04-01T12:00:00Z"}
    assert post(api, "deals", won) == (200, {"created": 0, "updated": 1})
    stored = Deal.objects.get()
    assert (stored.status, stored.closed_at) == ("won", datetime(2026, 4, 1, 12, tzinfo=UTC))


def test_it_refuses_a_deal_whose_status_and_close_disagree(api: APIClient, funnel: None) -> None:
    deal = {
        "external_id": "D-1",
        "lead": "L-1",
        "amount": "100",
        "created_at": "2026-03-10T12:00:00Z",
        "status": "won",
    }
    status, body = post(api, "deals", deal)
    assert status == 400
    assert body["errors"] == [
        {"index": 0, "field": "closed_at", "message": "A won deal needs closed_at."}
    ]
    assert not Deal.objects.exists()


def test_it_refuses_a_negative_amount(api: APIClient, funnel: None) -> None:
    deal = {
        "external_id": "D-1",
        "lead": "L-1",
        "amount": "-5",
        "created_at": "2026-03-10T12:00:00Z",
    }
    status, body = post(api, "deals", deal)
    assert status == 400
    assert body["errors"][0]["field"] == "amount"


# --- stage events drive the stage and the handoffs -------------------------------------------


def test_an_mql_event_opens_a_handoff_owned_by_the_leads_owner(
    api: APIClient, funnel: None
) -> None:
    assert post(api, "stage-events", stage(1, 2, "mql", "2026-03-03T10:00:00Z")) == (
        200,
        {"created": 1, "updated": 0},
    )
    handoff = Handoff.objects.get()
    assert (handoff.status, handoff.owner.username) == ("pending", "sam")
    assert handoff.handed_at == datetime(2026, 3, 3, 10, tzinfo=UTC)
    assert Lead.objects.get(external_id="L-2").stage == "mql"


def test_a_sal_event_accepts_the_open_handoff(api: APIClient, funnel: None) -> None:
    post(
        api,
        "stage-events",
        [
            stage(1, 2, "mql", "2026-03-03T10:00:00Z"),
            stage(2, 2, "sal", "2026-03-03T12:00:00Z", actor="sam"),
        ],
    )
    handoff = Handoff.objects.get()
    assert (handoff.status, handoff.decided_by.username) == ("accepted", "sam")
    assert handoff.decided_at == datetime(2026, 3, 3, 12, tzinfo=UTC)


def test_a_rejected_event_rejects_the_handoff_with_its_reason(api: APIClient, funnel: None) -> None:
    post(
        api,
        "stage-events",
        [
            stage(1, 2, "mql", "2026-03-03T10:00:00Z"),
            stage(
                2, 2, "rejected", "2026-03-03T12:00:00Z", reason="no_budget", note="Freeze until Q3"
            ),
        ],
    )
    handoff = Handoff.objects.get()
    assert (handoff.status, handoff.reason.code, handoff.feedback) == (
        "rejected",
        "no_budget",
        "Freeze until Q3",
    )
    assert Lead.objects.get(external_id="L-2").stage == "rejected"


def test_it_refuses_a_rejection_without_reason(api: APIClient, funnel: None) -> None:
    post(api, "stage-events", stage(1, 2, "mql", "2026-03-03T10:00:00Z"))
    status, body = post(api, "stage-events", stage(2, 2, "rejected", "2026-03-03T12:00:00Z"))
    assert status == 400
    assert body["errors"] == [
        {"index": 0, "field": "reason", "message": "A rejection needs a reason."}
    ]
    assert Handoff.objects.get().status == "pending"
    assert StageEvent.objects.count() == 1


def test_it_refuses_an_unknown_rejection_reason(api: APIClient, funnel: None) -> None:
    status, body = post(
        api, "stage-events", stage(2, 2, "rejected", "2026-03-03T12:00:00Z", reason="too_pricey")
    )
    assert status == 400
    assert body["errors"][0]["field"] == "reason"
    assert "too_pricey" in body["errors"][0]["message"]


def test_stage_events_out_of_time_order_give_the_same_result(api: APIClient, funnel: None) -> None:
    # The acceptance arrives before the MQL it accepts, in a later request.
    post(api, "stage-events", stage(2, 2, "sal", "2026-03-04T09:00:00Z"))
    assert not Handoff.objects.exists()
    post(api, "stage-events", stage(1, 2, "mql", "2026-03-03T10:00:00Z"))
    handoff = Handoff.objects.get()
    assert (handoff.status, handoff.handed_at, handoff.decided_at) == (
        "accepted",
        datetime(2026, 3, 3, 10, tzinfo=UTC),
        datetime(2026, 3, 4, 9, tzinfo=UTC),
    )
    assert Lead.objects.get(external_id="L-2").stage == "sal"


def test_an_older_event_does_not_change_the_current_stage(api: APIClient, funnel: None) -> None:
    post(api, "stage-events", stage(2, 1, "sql", "2026-03-10T09:00:00Z"))
    post(api, "stage-events", stage(1, 1, "mql", "2026-03-03T09:00:00Z"))
    assert Lead.objects.get(external_id="L-1").stage == "sql"


def test_a_recycled_lead_that_becomes_mql_again_gets_a_second_handoff(
    api: APIClient, funnel: None
) -> None:
    post(
        api,
        "stage-events",
        [
            stage(1, 2, "mql", "2026-03-03T10:00:00Z"),
            stage(2, 2, "rejected", "2026-03-03T12:00:00Z", reason="not_ready"),
            stage(3, 2, "recycled", "2026-03-04T12:00:00Z"),
            stage(4, 2, "mql", "2026-05-04T12:00:00Z"),
        ],
    )
    assert list(Handoff.objects.order_by("handed_at").values_list("status", flat=True)) == [
        "rejected",
        "pending",
    ]


def test_resending_stage_events_does_not_duplicate_handoffs(api: APIClient, funnel: None) -> None:
    events = [
        stage(1, 2, "mql", "2026-03-03T10:00:00Z"),
        stage(2, 2, "sal", "2026-03-03T12:00:00Z"),
    ]
    post(api, "stage-events", events)
    assert post(api, "stage-events", events) == (200, {"created": 0, "updated": 2})
    assert StageEvent.objects.count() == 2
    assert Handoff.objects.count() == 1


# --- references, atomicity, time zones --------------------------------------------------------


def test_it_refuses_references_to_unknown_external_ids(api: APIClient, funnel: None) -> None:
    touches = [
        {
            "external_id": "T-1",
            "lead": "L-1",
            "campaign": "C-1",
            "occurred_at": "2026-03-02T09:00:00Z",
        },
        {
            "external_id": "T-2",
            "lead": "L-404",
            "campaign": "C-404",
            "occurred_at": "2026-03-02T09:00:00Z",
        },
    ]
    status, body = post(api, "touches", touches)
    assert status == 400
    assert body["errors"] == [
        {"index": 1, "field": "campaign", "message": "No campaign with external_id 'C-404'."},
        {"index": 1, "field": "lead", "message": "No lead with external_id 'L-404'."},
    ]
    assert not Touch.objects.exists()


def test_it_refuses_an_unknown_owner_username(api: APIClient) -> None:
    status, body = post(api, "leads", lead(1, owner="nobody"))
    assert status == 400
    assert body["errors"] == [
        {"index": 0, "field": "owner", "message": "No user with username 'nobody'."}
    ]


def test_a_batch_with_one_bad_row_writes_nothing(api: APIClient, funnel: None) -> None:
    rows = [lead(10), lead(11), {**lead(12), "created_at": "yesterday-ish"}, lead(13)]
    status, body = post(api, "leads", rows)
    assert status == 400
    assert [(e["index"], e["field"]) for e in body["errors"]] == [(2, "created_at")]
    assert Lead.objects.count() == 2


def test_a_batch_that_fails_in_the_database_step_writes_nothing(
    api: APIClient, funnel: None
) -> None:
    # Row 1 is valid on its own; row 2 refers to an unknown lead: the upsert of row 1 must not stay.
    events = [
        stage(1, 1, "mql", "2026-03-03T10:00:00Z"),
        stage(2, 99, "sal", "2026-03-03T12:00:00Z"),
    ]
    assert post(api, "stage-events", events)[0] == 400
    assert not StageEvent.objects.exists()
    assert not Handoff.objects.exists()


def test_it_refuses_the_same_external_id_twice_in_one_request(api: APIClient) -> None:
    status, body = post(api, "leads", [lead(1), lead(1)])
    assert status == 400
    assert body["errors"] == [
        {"index": 1, "field": "external_id", "message": "Repeats row 0 of this request."}
    ]


def test_it_reports_missing_fields_per_row(api: APIClient) -> None:
    status, body = post(api, "campaigns", [CAMPAIGN, {"external_id": "C-2", "channel": "?!"}])
    assert status == 400
    fields = {(e["index"], e["field"]) for e in body["errors"]}
    assert fields == {(1, "name"), (1, "channel"), (1, "starts_on"), (1, "ends_on")}
    assert not Campaign.objects.exists()


def test_ingest_with_unknown_channel_keys_succeeds_and_creates_the_channels(
    api: APIClient,
) -> None:
    sources = ["ORGANIC_SEARCH", "social", "Phone Inquiry", "direct_traffic", "webinar"]
    rows = [
        {**CAMPAIGN, "external_id": f"C-{i}", "channel": source} for i, source in enumerate(sources)
    ]
    assert post(api, "campaigns", rows) == (200, {"created": 5, "updated": 0})
    assert dict(Campaign.objects.values_list("external_id", "channel")) == {
        "C-0": "organic_search",
        "C-1": "social",
        "C-2": "phone_inquiry",
        "C-3": "direct_traffic",
        "C-4": "webinar",
    }
    labels = dict(Channel.objects.values_list("key", "label"))
    assert labels["organic_search"] == "Organic search"
    assert labels["phone_inquiry"] == "Phone inquiry"
    assert labels["webinar"] == "Webinar"  # a seeded channel keeps its label
    # the same labels again create no second channel
    assert post(api, "campaigns", rows)[0] == 200
    assert Channel.objects.filter(key="organic_search").count() == 1


@pytest.mark.parametrize("payload", ["not json rows", 42, [1, 2], []])
def test_it_refuses_bodies_that_are_not_records(api: APIClient, payload: object) -> None:
    status, body = post(api, "leads", payload)
    assert status == 400
    assert body["errors"][0]["field"] == "non_field_errors"


def test_malformed_json_is_a_400_not_a_500(api: APIClient) -> None:
    response = api.post("/api/v1/leads/", "{oops", content_type="application/json")
    assert response.status_code == 400


@override_settings(TIME_ZONE="Europe/Berlin")
def test_a_naive_timestamp_is_read_in_the_organisations_time_zone(api: APIClient) -> None:
    post(
        api,
        "leads",
        [
            lead(1, created_at="2026-07-01T09:00:00"),
            lead(2, created_at="2026-07-01T09:00:00+00:00"),
        ],
    )
    naive, aware = (Lead.objects.get(external_id=f"L-{n}").created_at for n in (1, 2))
    assert naive == datetime(2026, 7, 1, 9, tzinfo=ZoneInfo("Europe/Berlin"))
    assert naive == datetime(2026, 7, 1, 7, tzinfo=UTC)
    assert aware == datetime(2026, 7, 1, 9, tzinfo=UTC)


def test_a_batch_of_ten_thousand_rows_is_written_at_once(api: APIClient) -> None:
    rows = [lead(n) for n in range(10_000)]
    assert post(api, "leads", rows) == (200, {"created": 10_000, "updated": 0})
    assert post(api, "leads", rows) == (200, {"created": 0, "updated": 10_000})
    assert Lead.objects.count() == 10_000


def test_it_refuses_more_than_ten_thousand_rows(api: APIClient) -> None:
    status, body = post(api, "leads", [lead(n) for n in range(10_001)])
    assert status == 400
    assert "at most 10000" in body["errors"][0]["message"]
    assert not Lead.objects.exists()


# --- authentication and permissions ----------------------------------------------------------


@pytest.mark.parametrize(
    "endpoint", ["campaigns", "leads", "touches", "stage-events", "attempts", "deals", "handoffs"]
)
def test_every_endpoint_needs_authentication(endpoint: str) -> None:
    client = APIClient()
    response = (
        client.get(f"/api/v1/{endpoint}/")
        if endpoint == "handoffs"
        else client.post(f"/api/v1/{endpoint}/", {}, format="json")
    )
    assert response.status_code == 401


def test_a_wrong_token_is_refused() -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.post("/api/v1/leads/", lead(1), format="json").status_code == 401
    assert not Lead.objects.exists()


def test_a_rep_cannot_ingest(sales_rep: object) -> None:
    response = token_client(sales_rep).post("/api/v1/leads/", lead(1), format="json")
    assert response.status_code == 403
    assert not Lead.objects.exists()


def test_session_auth_works_for_a_logged_in_manager(marketing_manager: object) -> None:
    client = APIClient()
    client.force_login(marketing_manager)
    assert client.post("/api/v1/campaigns/", CAMPAIGN, format="json").status_code == 200


# --- handoffs ---------------------------------------------------------------------------------


@pytest.fixture
def pending(api: APIClient, funnel: None) -> Handoff:
    post(api, "stage-events", stage(1, 2, "mql", "2026-03-03T10:00:00Z"))
    return Handoff.objects.get()


def test_handoffs_list_filters_by_status_and_owner(api: APIClient, pending: Handoff) -> None:
    post(api, "stage-events", stage(5, 1, "mql", "2026-03-05T10:00:00Z"))
    body = api.get("/api/v1/handoffs/", {"status": "pending", "owner": "sam"}).json()
    assert body["count"] == 1
    assert body["results"][0]["lead"] == "L-2"
    assert body["results"][0]["owner"] == "sam"
    assert api.get("/api/v1/handoffs/", {"status": "pending"}).json()["count"] == 2
    assert api.get("/api/v1/handoffs/", {"status": "accepted"}).json()["count"] == 0


def test_handoffs_list_refuses_an_unknown_status(api: APIClient) -> None:
    assert api.get("/api/v1/handoffs/", {"status": "maybe"}).status_code == 400


def test_the_owner_accepts_a_handoff(sales_rep: object, pending: Handoff) -> None:
    response = token_client(sales_rep).post(f"/api/v1/handoffs/{pending.pk}/accept/")
    assert response.status_code == 200
    assert response.json()["status"] == "accepted"
    pending.refresh_from_db()
    assert (pending.status, pending.decided_by) == ("accepted", sales_rep)
    assert Lead.objects.get(external_id="L-2").stage == "sal"


def test_the_owner_rejects_a_handoff_with_reason_feedback_and_rating(
    sales_rep: object, pending: Handoff
) -> None:
    payload = {"reason": "bad_fit", "feedback": "Student project", "rating": 1}
    response = token_client(sales_rep).post(
        f"/api/v1/handoffs/{pending.pk}/reject/", payload, format="json"
    )
    assert response.status_code == 200
    pending.refresh_from_db()
    assert (pending.status, pending.reason.code, pending.feedback, pending.rating) == (
        "rejected",
        "bad_fit",
        "Student project",
        1,
    )
    event = StageEvent.objects.get(stage="rejected")
    assert (event.reason, event.actor, event.source) == ("bad_fit", sales_rep, "app")


def test_a_rejection_without_reason_is_refused_through_the_api(
    sales_rep: object, pending: Handoff
) -> None:
    response = token_client(sales_rep).post(
        f"/api/v1/handoffs/{pending.pk}/reject/", {"feedback": "meh"}, format="json"
    )
    assert response.status_code == 400
    assert "reason" in response.json()
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_a_handoff_cannot_be_decided_twice(sales_rep: object, pending: Handoff) -> None:
    client = token_client(sales_rep)
    client.post(f"/api/v1/handoffs/{pending.pk}/accept/")
    response = client.post(
        f"/api/v1/handoffs/{pending.pk}/reject/", {"reason": "bad_fit"}, format="json"
    )
    assert response.status_code == 409  # a conflict: someone decided it first
    assert "already decided" in str(response.json())
    pending.refresh_from_db()
    assert pending.status == "accepted"


def test_another_rep_cannot_decide_someone_elses_handoff(
    make_user: object, pending: Handoff
) -> None:
    from alignment.roles import Role

    other = make_user("otto", Role.SALES_REP)
    assert token_client(other).post(f"/api/v1/handoffs/{pending.pk}/accept/").status_code == 403
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_marketing_cannot_decide_a_handoff(marketing_manager: object, pending: Handoff) -> None:
    assert (
        token_client(marketing_manager).post(f"/api/v1/handoffs/{pending.pk}/accept/").status_code
        == 403
    )


def test_a_sales_manager_can_decide_any_handoff(sales_manager: object, pending: Handoff) -> None:
    assert (
        token_client(sales_manager).post(f"/api/v1/handoffs/{pending.pk}/accept/").status_code
        == 200
    )


def test_a_sales_manager_reassigns_a_pending_handoff_through_the_api(
    sales_manager: object,
    make_user: object,
    pending: Handoff,
    django_capture_on_commit_callbacks: object,
) -> None:
    from django.core import mail

    from alignment.roles import Role
    from leads.models import HandoffReassignment

    make_user("rita", Role.SALES_REP, email="rita@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        response = token_client(sales_manager).post(
            f"/api/v1/handoffs/{pending.pk}/reassign/",
            {"owner": "rita", "note": "Rita speaks German"},
            format="json",
        )
    assert response.status_code == 200
    assert response.json()["owner"] == "rita"
    assert Lead.objects.get(external_id="L-2").owner.username == "rita"
    assert HandoffReassignment.objects.get().note == "Rita speaks German"
    assert [m.to for m in mail.outbox] == [["rita@example.com"]]


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"owner": "nobody"}, "owner"), ({"owner": "sam"}, "owner"), ({}, "owner")],
)
def test_a_reassignment_to_nobody_or_the_same_owner_is_a_400(
    sales_manager: object, pending: Handoff, payload: dict, field: str
) -> None:
    response = token_client(sales_manager).post(
        f"/api/v1/handoffs/{pending.pk}/reassign/", payload, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    pending.refresh_from_db()
    assert pending.owner.username == "sam"


def test_a_decided_handoff_cannot_be_reassigned_through_the_api(
    sales_manager: object, sales_rep: object, make_user: object, pending: Handoff
) -> None:
    from alignment.roles import Role

    make_user("rita", Role.SALES_REP)
    token_client(sales_rep).post(f"/api/v1/handoffs/{pending.pk}/accept/")
    response = token_client(sales_manager).post(
        f"/api/v1/handoffs/{pending.pk}/reassign/", {"owner": "rita"}, format="json"
    )
    assert response.status_code == 400
    assert "Only a pending handoff" in str(response.json())


@pytest.mark.parametrize("role", ["sales_rep", "marketing_rep", "marketing_manager"])
def test_only_sales_managers_and_admins_reassign_through_the_api(
    make_user: object, pending: Handoff, role: str
) -> None:
    from alignment.roles import Role

    make_user("rita", Role.SALES_REP)
    user = make_user("someone", Role(role))
    response = token_client(user).post(
        f"/api/v1/handoffs/{pending.pk}/reassign/", {"owner": "rita"}, format="json"
    )
    assert response.status_code == 403
    pending.refresh_from_db()
    assert pending.owner.username == "sam"


def test_the_admin_reassigns_through_the_api(
    api: APIClient, make_user: object, pending: Handoff
) -> None:
    from alignment.roles import Role

    make_user("rita", Role.SALES_MANAGER)
    response = api.post(f"/api/v1/handoffs/{pending.pk}/reassign/", {"owner": "rita"})
    assert response.status_code == 200 and response.json()["owner"] == "rita"


def test_other_without_feedback_is_a_400_naming_the_feedback(
    sales_rep: object, pending: Handoff
) -> None:
    response = token_client(sales_rep).post(
        f"/api/v1/handoffs/{pending.pk}/reject/", {"reason": "other"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "feedback": ["Say what is wrong: 'Other' needs feedback for marketing."]
    }
    pending.refresh_from_db()
    assert pending.status == "pending"


# --- schema and docs --------------------------------------------------------------------------


def test_the_openapi_schema_lists_every_endpoint(api: APIClient) -> None:
    response = api.get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    for endpoint in [
        "campaigns",
        "leads",
        "touches",
        "stage-events",
        "attempts",
        "deals",
        "handoffs",
    ]:
        assert f"/api/v1/{endpoint}/" in paths


def test_the_schema_and_its_docs_are_for_signed_in_users_only(api: APIClient) -> None:
    for url in ["/api/v1/schema/", "/api/v1/docs/"]:
        assert APIClient().get(url).status_code == 401
        assert api.get(url).status_code == 200


def test_an_ingest_body_that_cannot_be_read_is_a_400_with_one_message(api: APIClient) -> None:
    """Found by the schema fuzz: a body that is not UTF-8 JSON (or a broken multipart form)
    answers `{"detail": ...}`, which the schema did not allow beside the rows' errors."""
    response = api.post(
        "/api/v1/leads/", b'{"external_id": "\xee"}', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")
    assert not Lead.objects.exists()
    schema = api.get("/api/v1/schema/", {"format": "json"}).json()
    answer = schema["paths"]["/api/v1/leads/"]["post"]["responses"]["400"]
    ref = answer["content"]["application/json"]["schema"]["$ref"]
    either = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]["oneOf"]
    assert [r["$ref"].rsplit("/", 1)[-1] for r in either] == ["IngestErrors", "ErrorOut"]


def test_the_api_docs_use_locally_served_assets(admin_user: object) -> None:
    client = APIClient()
    client.force_login(admin_user)
    html = client.get("/api/v1/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower()


EDGES = [
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
    "2101-01-01T00:00:00Z",
    "1969-12-31T23:00:00Z",
]


@pytest.mark.parametrize("when", EDGES)
@pytest.mark.parametrize(
    ("endpoint", "record", "field"),
    [
        ("leads", lambda at: lead(9, created_at=at), "created_at"),
        ("touches", lambda at: {"external_id": "T-9", "lead": "L-1", "campaign": "C-1",
                                "occurred_at": at}, "occurred_at"),
        ("stage-events", lambda at: stage(9, 1, "mql", at), "occurred_at"),
        ("attempts", lambda at: {"external_id": "A-9", "lead": "L-1", "occurred_at": at,
                                 "channel": "call", "outcome": "connected"}, "occurred_at"),
        ("deals", lambda at: {"external_id": "D-9", "lead": "L-1", "amount": "10",
                              "created_at": "2026-03-02T10:00:00Z", "closed_at": at,
                              "status": "won"}, "closed_at"),
        ("campaigns", lambda at: {**CAMPAIGN, "external_id": "C-9", "ends_on": at[:10]},
         "ends_on"),
    ],
)  # fmt: skip
def test_dates_at_the_calendars_edges_are_refused_naming_the_field_and_change_nothing(
    api: APIClient, funnel: None, endpoint: str, record: Callable, field: str, when: str
) -> None:
    changes = FunnelChange.objects.count()
    status, body = post(api, endpoint, [record(when)])
    assert status == 400
    assert [(e["index"], e["field"]) for e in body["errors"]] == [(0, field)]
    assert FunnelChange.objects.count() == changes
    # and the next ingest of anything still answers: nothing was left to poison the outbox
    assert post(api, "leads", [lead(3)])[0] == 200


def test_the_date_range_is_a_setting(api: APIClient, settings: object) -> None:
    settings.DATE_MAX_YEAR = 2026
    status, body = post(api, "leads", [lead(1, created_at="2027-01-01T00:00:00Z")])
    assert status == 400 and "2026" in body["errors"][0]["message"]
    assert post(api, "leads", [lead(1)])[0] == 200


def test_marketing_cannot_decide_a_sales_handoff_by_ingesting_a_rejection(
    api: APIClient, funnel: None, make_user: Callable[..., object]
) -> None:
    assert post(api, "stage-events", [stage(1, 2, "mql", "2026-03-03T10:00:00Z")])[0] == 200
    head_of_marketing = token_client(make_user("maria", Role.MARKETING_MANAGER))
    rejection = stage(2, 2, "rejected", "2026-03-04T10:00:00Z", reason="no_budget")

    status, body = post(head_of_marketing, "stage-events", [rejection])
    assert status == 400
    assert [(e["field"], "maria" in e["message"]) for e in body["errors"]] == [("actor", True)]
    assert Handoff.objects.get(lead__external_id="L-2").status == "pending"

    status, _ = post(head_of_marketing, "stage-events", [{**rejection, "actor": "sam"}])
    assert status == 200  # the CRM says which sales rep rejected it
    handoff = Handoff.objects.get(lead__external_id="L-2")
    assert (handoff.status, handoff.decided_by.username) == ("rejected", "sam")


def test_a_rejection_ingested_without_an_actor_records_who_sent_it(
    funnel: None, make_user: Callable[..., object]
) -> None:
    sales_head = token_client(make_user("tom", Role.SALES_MANAGER))
    assert post(sales_head, "stage-events", [stage(1, 2, "mql", "2026-03-03T10:00:00Z")])[0] == 200
    rejection = stage(2, 2, "rejected", "2026-03-04T10:00:00Z", reason="no_budget")
    assert post(sales_head, "stage-events", [rejection])[0] == 200
    handoff = Handoff.objects.get(lead__external_id="L-2")
    assert (handoff.status, handoff.decided_by.username) == ("rejected", "tom")
    assert StageEvent.objects.get(external_id="SE-2").actor.username == "tom"

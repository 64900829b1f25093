"""Schemathesis against the API's own schema (/api/v1/schema/), every operation, in process.

One test, with a subtest an operation (named `...[POST /api/v1/leads/]` in the output): for each,
Hypothesis makes TANDEM_FUZZ_EXAMPLES requests from the schema (valid ones and, as schemathesis
does by default, some that break it), derandomized so that CI makes the same ones every run, and
sends them as the admin, through the WSGI app, to a small world of real records (`fuzz_world`,
made once; each request is rolled back after it, so each finds the world as it was made). Most
path ids are the world's (a record of the path's kind); the others are whatever was generated,
and get a 404. An answer must not be a 5xx, and its status, content type and body must be what
the schema says (`config.schema` documents the errors too). A case the fuzz found is kept as a
regular, named test beside the code it is about.

More examples: `TANDEM_FUZZ_EXAMPLES=200 pytest tests/config/test_api_fuzz.py`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from rest_framework.test import APIClient

from config.wsgi import application
from tests.conftest import World, token_client

pytestmark = pytest.mark.django_db
EXAMPLES = int(os.environ.get("TANDEM_FUZZ_EXAMPLES", "5"))

CONFIG = {
    "seed": 14,
    "generation": {"deterministic": True, "database": "none"},
    # One request at a time from the schema: no stateful chains, and not the coverage phase's
    # hundreds of edge cases an operation (the schemathesis CLI runs those, by hand).
    "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
    "checks": {
        "enabled": False,
        "not_a_server_error": {"enabled": True},
        "status_code_conformance": {"enabled": True},
        "content_type_conformance": {"enabled": True},
        "response_schema_conformance": {"enabled": True},
    },
}


@contextmanager
def _connection_kept() -> Iterator[None]:
    """Requests through the WSGI app keep the test's database connection, as through Django's
    test client: the handler closes it at each request's end otherwise (and on PostgreSQL the
    test's transaction with it)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture(scope="session")
def api_schema(django_db_setup: None, django_db_blocker: Any) -> schemathesis.BaseSchema:
    """The schema as the app serves it to a signed-in user, read through the WSGI app (no
    server), with a token of a user made for the purpose and rolled back after."""
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from rest_framework.authtoken.models import Token

    with django_db_blocker.unblock(), _connection_kept(), transaction.atomic():
        reader = get_user_model().objects.create_user("schema-reader")
        token = Token.objects.create(user=reader)
        schema = schemathesis.openapi.from_wsgi(
            "/api/v1/schema/?format=json",
            application,
            config=schemathesis.Config.from_dict(CONFIG),
            headers={"Authorization": f"Token {token.key}"},
        )
        transaction.set_rollback(True)
    return schema


def _ago(**delta: float) -> str:
    return (timezone.now() - timedelta(**delta)).isoformat()


def _ahead(**delta: float) -> str:
    return (timezone.now() + timedelta(**delta)).isoformat()


def _created(client: APIClient, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = client.post(f"/api/v1/{path}", body or {}, format="json")
    assert response.status_code in {200, 201, 202}, (path, response.content)
    return response.json()


@pytest.fixture
def fuzz_world(
    world: World,
    admin_user: object,
    sales_rep: object,
    marketing_rep: object,
    heads: tuple[object, object],
    signed_definition: Any,
    tasks_inline: None,
) -> dict[str, list[Any]]:
    """A record or two of every kind a path names, made as a client would; returns their ids
    by the path segment before the id (`ideas` for /ideas/{id}/)."""
    from alignment.services.campaign_ratings import campaign_rate
    from leads.models import Campaign, Handoff
    from leads.services_disputes import dispute_raise

    admin = token_client(admin_user)
    rules = [{"field": "title", "operator": "contains", "value": "head", "points": 60}]
    definition = signed_definition(rules, effective_from=timezone.now() - timedelta(days=60))

    world.campaign("Spring fair", external_id="C-fair")
    world.lead(_ago(days=6), external_id="L-pending", campaign="C-fair", owner="sam")
    world.stage("L-pending", "mql", _ago(days=5))
    world.lead(_ago(days=6), external_id="L-rejected", campaign="C-fair", owner="sam")
    world.stage("L-rejected", "mql", _ago(days=5))
    world.stage("L-rejected", "rejected", _ago(days=4), reason="bad_fit", actor="sam")
    world.lead(_ago(days=30), external_id="L-won", campaign="C-fair", owner="sam")
    world.deal(
        "L-won", 12000, _ago(days=20), status="won", closed_at=_ago(days=10), external_id="D-won"
    )
    rejected = Handoff.objects.get(lead__external_id="L-rejected")
    dispute = dispute_raise(handoff=rejected, by=marketing_rep, comment="They have budget.")
    rating = campaign_rate(
        campaign=Campaign.objects.get(external_id="C-fair"), by=sales_rep, rating=3
    )

    idea = _created(admin, "ideas/", {"title": "Joint webinar", "body": "With sales."})
    _created(admin, f"ideas/{idea['id']}/open/")
    draft_idea = _created(admin, "ideas/", {"title": "Draft"})
    insight = _created(admin, "insights/", {"kind": "objection", "text": "Too expensive"})
    meeting = _created(
        admin,
        "meetings/",
        {
            "kind": "weekly_alignment",
            "starts_at": _ahead(days=1),
            "ends_at": _ahead(days=1, hours=1),
            "attendees": ["sam", "mia"],
        },
    )
    item = _created(
        admin,
        f"meetings/{meeting['id']}/action-items/",
        {"text": "Send the list", "owner": "mia", "due_on": timezone.localdate().isoformat()},
    )
    spotlight = _created(
        admin,
        "spotlights/",
        {"title": "Acme", "story": "Webinar, then demo.", "deal": "D-won",
         "people": ["mia", "sam"]},
    )  # fmt: skip
    shadowing = _created(
        admin,
        "shadowing/",
        {"person": "mia", "host": "sam", "starts_at": _ago(days=2),
         "ends_at": _ago(days=2, hours=-2)},
    )  # fmt: skip
    next_month = (timezone.localdate().replace(day=1) + timedelta(days=32)).replace(day=1)
    goal = _created(
        admin,
        "goals/",
        {"name": "More SALs", "metric": "sals", "target": "40", "period": "month",
         "period_start": next_month.isoformat(), "specific": "Sales accepts 40 leads.",
         "measurable": "SALs.", "achievable": "35 last month.", "relevant": "Pipeline.",
         "time_bound": "Next month."},
    )  # fmt: skip
    _created(admin, "forecasts/", {"period": "month", "period_start": next_month.isoformat(),
                                   "amount": "120000"})  # fmt: skip
    _created(admin, "payout-curves/", {"effective_from": next_month.isoformat()})
    sla = _created(
        admin,
        "slas/",
        {"effective_from": _ahead(days=30), "first_contact_hours": "2", "attempts": 4,
         "attempt_spacing_days": "1", "monthly_sal_commitment": 80},
    )  # fmt: skip
    draft_definition = _created(
        admin,
        "lead-definitions/",
        {"effective_from": _ahead(days=30), "criteria": "Engaged.", "mql_threshold": 50,
         "rules": rules},
    )  # fmt: skip
    rescore = _created(admin, f"lead-definitions/{definition.pk}/rescore/")
    recompute = _created(admin, "recompute/", {"since": timezone.localdate().isoformat()})

    handoffs = list(Handoff.objects.order_by("pk").values_list("pk", flat=True))
    return {
        "action-items": [item["id"]],
        "campaigns": ["C-fair"],
        "ratings": [rating.pk],
        "disputes": [dispute.pk],
        "goals": [goal["id"]],
        "handoffs": handoffs,
        "ideas": [idea["id"], draft_idea["id"]],
        "insights": [insight["id"]],
        "lead-definitions": [definition.pk, draft_definition["id"]],
        "meetings": [meeting["id"]],
        "recompute": [recompute["id"]],
        "rescore-jobs": [rescore["id"]],
        "shadowing": [shadowing["id"]],
        "slas": [sla["id"]],
        "spotlights": [spotlight["id"]],
    }


def _aim(case: schemathesis.Case, ids: dict[str, list[Any]]) -> None:
    """Point three in four generated path ids of the right type at a record of the world,
    chosen by the generated value (so a derandomized run picks the same ones); the fourth
    stays as it was generated, mostly a 404."""
    segments = case.path.strip("/").split("/")
    for name, value in list((case.path_parameters or {}).items()):
        kind = segments[segments.index(f"{{{name}}}") - 1]
        choices = ids.get(kind)
        if not choices:
            continue
        if isinstance(value, int) and not isinstance(value, bool):
            seed = value
        elif isinstance(value, str) and (name == "external_id" or _is_uuid(value)):
            seed = len(value)
        else:
            continue  # a value of the wrong type: the schema's negative case, kept
        if seed % 4 != 3:
            case.path_parameters[name] = choices[seed % len(choices)]


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@schemathesis.pytest.from_fixture("api_schema").parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    # `fuzz_world` is made once for all the operations and examples: each request is rolled
    # back after it (below), so that each finds the world as it was made.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_answers_every_request_as_its_schema_says(
    case: schemathesis.Case, fuzz_world: dict[str, list[Any]], admin_user: object
) -> None:
    from alignment.services.accounts import api_token_get_or_create

    _aim(case, fuzz_world)
    token = api_token_get_or_create(user=admin_user).key
    with _connection_kept(), transaction.atomic():
        try:
            case.call_and_validate(headers={"Authorization": f"Token {token}"})
        finally:
            transaction.set_rollback(True)
            cache.clear()  # nothing cached from what the rollback took back

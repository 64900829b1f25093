"""Shared fixtures: users in each role, API clients, and small builders for funnel records."""

from __future__ import annotations

import codecs
import csv
import io
import smtplib
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.mail.backends import locmem
from django.db import transaction
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from alignment.models import Goal, LeadDefinition, ServiceLevelAgreement
from alignment.roles import Role, Team
from alignment.services.accounts import api_token_get_or_create, team_head_set, user_set_role
from alignment.services.goals import goal_create
from alignment.services.lead_definitions import lead_definition_approve, lead_definition_create
from alignment.services.sla import sla_approve, sla_create

User = get_user_model()


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    """Each test starts with an empty cache: the page cache keys by the snapshots' version row,
    which the rollback of a test brings back to what the migrations wrote."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def make_user(db: None) -> Callable[..., object]:
    def make(username: str, role: Role | None = None, **extra: object) -> object:
        user = User.objects.create_user(username=username, password="pw", **extra)
        if role is not None:
            user_set_role(user=user, role=role)
        return user

    return make


@pytest.fixture
def admin_user(make_user: Callable[..., object]) -> object:
    return make_user("ada", Role.ADMIN, first_name="Ada", last_name="Admin")


@pytest.fixture
def tasks_inline() -> Iterator[None]:
    """Celery tasks run in the test's own process, as the test settings have them, even after a
    broker test started the session's real worker (`tests.celery_worker` turns eager off)."""
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def staff(client: Client, admin_user: object) -> Client:
    """A client logged in to the Django admin as the admin."""
    admin_user.is_staff = True
    admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    return client


@pytest.fixture
def sales_rep(make_user: Callable[..., object]) -> object:
    return make_user("sam", Role.SALES_REP, first_name="Sam", last_name="Rep")


@pytest.fixture
def sales_manager(make_user: Callable[..., object]) -> object:
    return make_user("sally", Role.SALES_MANAGER)


@pytest.fixture
def marketing_rep(make_user: Callable[..., object]) -> object:
    return make_user("mia", Role.MARKETING_REP)


@pytest.fixture
def marketing_manager(make_user: Callable[..., object]) -> object:
    return make_user("max", Role.MARKETING_MANAGER)


# --- appointed heads and signed versions ---------------------------------------------------


@pytest.fixture
def heads(marketing_manager: object, sales_manager: object) -> tuple[object, object]:
    """max heads marketing, sally heads sales."""
    team_head_set(team=Team.MARKETING, user=marketing_manager)
    team_head_set(team=Team.SALES, user=sales_manager)
    return marketing_manager, sales_manager


SLA_TERMS = {
    "first_contact_hours": Decimal(4),
    "attempts": 3,
    "attempt_spacing_days": Decimal(2),
    "monthly_sal_commitment": 40,
}


@pytest.fixture
def signed_sla(heads: tuple[object, object]) -> Callable[..., ServiceLevelAgreement]:
    """Draft an SLA version with the default terms (overridable) and have both heads sign it."""

    def make(effective_from: datetime | None = None, **terms: object) -> ServiceLevelAgreement:
        effective_from = effective_from or datetime(2026, 1, 1, tzinfo=UTC)
        sla = sla_create(by=heads[0], effective_from=effective_from, **{**SLA_TERMS, **terms})
        for head in heads:  # signed back then: a version never applies before its approval
            sla = sla_approve(sla=sla, by=head, now=min(effective_from, timezone.now()))
        return sla

    return make


@pytest.fixture
def signed_definition(heads: tuple[object, object]) -> Callable[..., LeadDefinition]:
    """Draft a lead definition with these rules and threshold and have both heads sign it."""

    def make(
        rules: list[dict], threshold: int = 50, effective_from: datetime | None = None
    ) -> LeadDefinition:
        effective_from = effective_from or datetime(2026, 1, 1, tzinfo=UTC)
        definition = lead_definition_create(
            by=heads[0],
            effective_from=effective_from,
            criteria="Companies that fit, people who engage.",
            mql_threshold=threshold,
            rules=rules,
        )
        for head in heads:  # signed back then: a version never applies before its approval
            definition = lead_definition_approve(
                definition=definition, by=head, now=min(effective_from, timezone.now())
            )
        return definition

    return make


def ago(**delta: float) -> str:
    """The moment that long ago, as an ISO 8601 string (what ingest rows carry)."""
    return (timezone.now() - timedelta(**delta)).isoformat()


def csv_rows(response: object) -> list[list[str]]:
    """A CSV download's rows, after checking it is one: an attachment of UTF-8 text with a
    byte order mark (`config.csv_export`), streamed."""
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="')
    body = b"".join(response.streaming_content)
    assert body.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def token_client(user: object) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_get_or_create(user=user).key}")
    return client


@pytest.fixture
def api(admin_user: object) -> APIClient:
    """An API client authenticated with the admin's token, as an integration would be."""
    return token_client(admin_user)


pytest_plugins = ["tests.celery_worker"]


# --- what the migrations wrote, for tests that flush the database --------------------------


SKIPPED_MODELS = {"contenttypes.contenttype", "auth.permission", "sessions.session"}


@pytest.fixture(scope="module")
def matrix_world(django_db_setup: None, django_db_blocker: object) -> Iterator[object]:
    """tests/permissions_world.py's small company (a user in every role, a record of every kind
    a URL names), built once for the module in a transaction rolled back at its end; each
    test's own transaction is a savepoint inside it."""
    from tests.permissions_world import build

    with django_db_blocker.unblock(), transaction.atomic():
        yield build()
        transaction.set_rollback(True)


@pytest.fixture(scope="session")
def base_data(django_db_setup: None, django_db_blocker: object) -> str:
    """What the migrations wrote (roles, rejection reasons, the default SLA), as JSON.

    Live-server tests flush the database after each test; `restore_base_data` writes this back.
    (serialized_rollback cannot do it here: once Playwright runs, the test sees another
    connection object than the one the snapshot was taken on.) Content types and permissions
    are left out: the flush's post_migrate signal recreates them.
    """
    from django.apps import apps
    from django.contrib.auth.models import Group
    from django.core import serializers

    with django_db_blocker.unblock():
        if not Group.objects.exists():
            pytest.fail("The test database lost its migration data before the browser tests.")
        objects = [
            obj
            for model in apps.get_models()
            if model._meta.label_lower not in SKIPPED_MODELS and model._meta.managed
            for obj in model._base_manager.order_by("pk")
        ]
        return serializers.serialize("json", objects)


@pytest.fixture
def restore_base_data(transactional_db: None, base_data: str) -> None:
    from django.contrib.auth.models import Group
    from django.core import serializers
    from django.db import connection, transaction

    if Group.objects.exists():
        return
    from django.apps import apps
    from django.core.management.color import no_style

    with transaction.atomic(), connection.constraint_checks_disabled():
        for obj in serializers.deserialize("json", base_data):
            obj.save()
        # As loaddata does: rows written with their ids leave PostgreSQL's sequences behind
        # them when a `flush` reset them (the audit log's flush test), and the next insert
        # would take an id already used.
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), apps.get_models()):
                cursor.execute(sql)


class World:
    """Builds funnel records through the real ingest services, with automatic external ids."""

    def __init__(self) -> None:
        self._n = 0

    def _id(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}-{self._n}"

    def campaign(
        self,
        name: str = "",
        *,
        channel: str = "webinar",
        starts_on: str = "2026-01-01",
        ends_on: str = "2026-12-31",
        cost: str | int = 0,
        external_id: str = "",
    ) -> str:
        from leads.services import campaigns_upsert

        external_id = external_id or name or self._id("C")
        campaigns_upsert(
            rows=[
                {
                    "external_id": external_id,
                    "name": name or external_id,
                    "channel": channel,
                    "starts_on": _date(starts_on),
                    "ends_on": _date(ends_on),
                    "cost": Decimal(str(cost)),
                }
            ]
        )
        return external_id

    def lead(
        self,
        created_at: str,
        *,
        campaign: str | None = None,
        owner: str | None = None,
        segment: str = "",
        external_id: str = "",
        **attributes: object,
    ) -> str:
        from leads.services import leads_upsert

        external_id = external_id or self._id("L")
        leads_upsert(
            rows=[
                {
                    "external_id": external_id,
                    "created_at": _dt(created_at),
                    "campaign": campaign,
                    "owner": owner,
                    "segment": segment,
                    "attributes": attributes,
                }
            ]
        )
        return external_id

    def stage(
        self,
        lead: str,
        stage: str,
        at: str,
        *,
        reason: str = "",
        actor: str | None = None,
        note: str = "",
    ) -> str:
        from leads.services import stage_events_upsert

        external_id = self._id("SE")
        stage_events_upsert(
            rows=[
                {
                    "external_id": external_id,
                    "lead": lead,
                    "stage": stage,
                    "occurred_at": _dt(at),
                    "reason": reason,
                    "actor": actor,
                    "note": note,
                }
            ]
        )
        return external_id

    def touch(self, lead: str, campaign: str, at: str, kind: str = "visit") -> str:
        from leads.services import touches_upsert

        external_id = self._id("T")
        touches_upsert(
            rows=[
                {
                    "external_id": external_id,
                    "lead": lead,
                    "campaign": campaign,
                    "occurred_at": _dt(at),
                    "kind": kind,
                }
            ]
        )
        return external_id

    def attempt(
        self,
        lead: str,
        at: str,
        *,
        outcome: str = "no_answer",
        channel: str = "call",
        actor: str | None = None,
    ) -> str:
        from leads.services import attempts_upsert

        external_id = self._id("A")
        attempts_upsert(
            rows=[
                {
                    "external_id": external_id,
                    "lead": lead,
                    "occurred_at": _dt(at),
                    "channel": channel,
                    "outcome": outcome,
                    "actor": actor,
                }
            ]
        )
        return external_id

    def deal(
        self,
        lead: str,
        amount: str | int,
        created_at: str,
        *,
        status: str = "open",
        closed_at: str | None = None,
        external_id: str = "",
    ) -> str:
        from leads.services import deals_upsert

        external_id = external_id or self._id("D")
        deals_upsert(
            rows=[
                {
                    "external_id": external_id,
                    "lead": lead,
                    "amount": Decimal(str(amount)),
                    "created_at": _dt(created_at),
                    "closed_at": _dt(closed_at) if closed_at else None,
                    "status": status,
                }
            ]
        )
        return external_id

    def dispute(
        self,
        lead: str,
        *,
        by: object,
        at: str,
        comment: str = "We called them: they have budget.",
        outcome: str = "",
        heads: tuple[object, object] | None = None,
        note: str = "",
    ) -> object:
        """Marketing (`by`) disputes the lead's latest rejection at `at`; with an outcome, the
        first head records it and the second confirms it, a minute apart each."""
        from leads.models import Handoff
        from leads.services_disputes import dispute_confirm, dispute_raise, dispute_record_outcome

        handoff = (
            Handoff.objects.filter(lead__external_id=lead, status=Handoff.Status.REJECTED)
            .order_by("-decided_at")
            .first()
        )
        when = _dt(at)
        dispute = dispute_raise(handoff=handoff, by=by, comment=comment, now=when)
        if outcome:
            first, second = heads
            note = note or ("Sales should have called." if outcome == "overturned" else "")
            dispute = dispute_record_outcome(
                dispute=dispute,
                by=first,
                outcome=outcome,
                note=note,
                now=when + timedelta(minutes=1),
            )
            dispute = dispute_confirm(dispute=dispute, by=second, now=when + timedelta(minutes=2))
        return dispute


def _dt(value: str) -> datetime:
    """ISO text to an aware datetime; naive text is read in the organisation's time zone."""
    from django.utils import timezone

    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else timezone.make_aware(parsed)


def _date(value: str) -> date:
    return date.fromisoformat(value)


@pytest.fixture
def world(db: None) -> World:
    return World()


class FlakyBackend(locmem.EmailBackend):
    """The test mailbox, except that the mail server refuses the addresses in `FAILING`."""

    FAILING: set[str] = set()

    def send_messages(self, messages: list) -> int:
        for message in messages:
            refused = set(message.recipients()) & self.FAILING
            if refused:
                raise smtplib.SMTPRecipientsRefused({a: (550, b"no") for a in refused})
        return super().send_messages(messages)


@pytest.fixture
def flaky_mail(settings: object) -> Iterator[set[str]]:
    settings.EMAIL_BACKEND = "tests.conftest.FlakyBackend"
    yield FlakyBackend.FAILING
    FlakyBackend.FAILING.clear()


def draft(by: object, **terms: object) -> ServiceLevelAgreement:
    return sla_create(
        by=by, **{"effective_from": datetime(2026, 1, 1, tzinfo=UTC), **SLA_TERMS, **terms}
    )


BEFORE_MARCH = datetime(2026, 2, 20, tzinfo=UTC)


def goal(by: object, now: datetime = BEFORE_MARCH, **fields: object) -> Goal:
    values = {
        "name": "SALs in March",
        "metric": "sals",
        "target": Decimal(10),
        "period": "month",
        "period_start": date(2026, 3, 1),
        "specific": "Sales accepts 10 leads from marketing in March.",
        **fields,
    }
    return goal_create(by=by, now=now, **values)


# --- a finished quarter's scorecard with hand-computed numbers -------------------------------


def scored_quarter(by: object) -> date:
    """Last quarter's three goals with their snapshots and a payout curve; returns its start.

    Curve: nothing below 60 %, 50 % at 60 %, 100 % at target, 200 % at the cap of 150 %.
    - SALs, both teams, weight 2: 30 of 40 → 75 %
    - Deals won, sales, weight 1: 20 of 10 → 200 %, capped at 150 %
    - MQLs, marketing, weight 1: 30 of 100 → 30 %
    Joint attainment (2·0.75 + 1.5 + 0.3) / 4 = 82.5 %: payout 0.5 + 0.5 · 0.225 / 0.4 = 78.125 %.
    Marketing (SALs, MQLs): (1.5 + 0.3) / 3 = 60 %, the threshold: payout 50 %.
    Sales (SALs, deals won): (1.5 + 1.5) / 3 = 100 %: payout 100 %.
    """
    from alignment.models import PayoutCurve
    from core.periods import period_start, previous_period
    from kpis.models import KpiSnapshot

    start = previous_period("quarter", period_start("quarter", timezone.localdate()))
    before = timezone.make_aware(datetime.combine(start, datetime.min.time())) - timedelta(days=1)
    PayoutCurve.objects.create(
        effective_from=start - timedelta(days=30),
        threshold=Decimal("0.6"),
        threshold_payout=Decimal("0.5"),
        target=Decimal(1),
        cap=Decimal("1.5"),
        cap_payout=Decimal(2),
    )
    for name, metric, owner, target, weight, actual in [
        ("More SALs", "sals", "both", 40, 2, 30),
        ("Deals won", "deals_won", "sales", 10, 1, 20),
        ("MQLs", "mqls", "marketing", 100, 1, 30),
    ]:
        goal(by, now=before, name=name, metric=metric, owner_team=owner, target=Decimal(target),
             weight=Decimal(weight), period="quarter", period_start=start)  # fmt: skip
        KpiSnapshot.objects.create(
            metric=metric, period="quarter", period_start=start, value=Decimal(actual),
            numerator=Decimal(actual), denominator=None, computed_at=timezone.now(),
        )  # fmt: skip
    return start

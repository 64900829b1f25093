"""The read replica: which requests read from it, and that everything else uses the primary.

The test settings always have a `replica` alias mirroring the primary's test database (a
second connection to it), so these tests commit their data (`transaction=True`) for the
second connection to see it, and switch the router and the middleware on as
`DATABASE_REPLICA_URL` does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from config.db_router import REPLICA, replica_reads
from kpis.models import KpiSnapshot, RecomputeJob
from kpis.services import kpis_recompute
from tests.conftest import World, token_client

ROUTER = "config.db_router.ReplicaRouter"
MIDDLEWARE = "config.db_router.ReplicaReadsMiddleware"
# What the primary still serves inside a replica window: who is asking.
IDENTITY = re.compile(r'"(django_session|auth_\w+|authtoken_token|django_content_type)"')

pytestmark = pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, REPLICA])


@pytest.fixture(autouse=True)
def _base(restore_base_data: None) -> Iterator[None]:
    """Roles and reasons back after an earlier flush; the replica's connection closed after."""
    yield
    connections[REPLICA].close()


@pytest.fixture
def routed(settings: object) -> None:
    settings.DATABASE_ROUTERS = [ROUTER]
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, MIDDLEWARE]


@pytest.fixture
def computed(world: World, sales_rep: object) -> str:
    world.campaign("A", starts_on="2026-03-01", ends_on="2026-03-31", cost=1000)
    lead = world.lead("2026-03-02T09:00:00+00:00", campaign="A", owner="sam")
    world.stage(lead, "mql", "2026-03-03T10:00:00+00:00")
    kpis_recompute(kind="month", periods=[date(2026, 3, 1)])
    return "A"


@pytest.fixture
def no_fan_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """A started recompute queues no units (they would run here and now, eagerly)."""
    from kpis.tasks import kpis_recompute_unit_task

    monkeypatch.setattr(kpis_recompute_unit_task, "apply_async", lambda *args, **kwargs: None)


@pytest.fixture
def browser(admin_user: object) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


class Queries:
    """The queries a block ran on the primary and on the replica."""

    def __enter__(self) -> Queries:
        self._contexts = [
            CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]),
            CaptureQueriesContext(connections[REPLICA]),
        ]
        for context in self._contexts:
            context.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        for context in reversed(self._contexts):
            context.__exit__(*exc)

    @property
    def primary(self) -> list[str]:
        return [q["sql"] for q in self._contexts[0].captured_queries]

    @property
    def replica(self) -> list[str]:
        return [q["sql"] for q in self._contexts[1].captured_queries]


def _reads_kpis_from_the_replica(queries: Queries) -> None:
    assert any('"kpis_kpisnapshot"' in sql for sql in queries.replica), queries.replica
    assert all(IDENTITY.search(sql) for sql in queries.primary), queries.primary


# --- with the replica configured -------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["/", "/meeting/", "/campaigns/", "/campaigns/A/", "/csv/funnel/", "/definitions/"],
)
def test_the_kpi_pages_read_from_the_replica(
    routed: None, computed: str, browser: Client, url: str
) -> None:
    with Queries() as queries:
        response = browser.get(url)
    assert response.status_code == 200
    # The definitions page shows the catalog, which is code: nothing to read.
    assert queries.replica or url == "/definitions/"
    assert all(IDENTITY.search(sql) for sql in queries.primary), queries.primary


def test_the_dashboard_reads_its_snapshots_from_the_replica(
    routed: None, computed: str, browser: Client
) -> None:
    with Queries() as queries:
        response = browser.get(reverse("home"))
    assert response.status_code == 200
    _reads_kpis_from_the_replica(queries)


def test_the_kpi_api_reads_from_the_replica_and_sees_the_primarys_data(
    routed: None, computed: str, admin_user: object
) -> None:
    api = token_client(admin_user)
    with Queries() as queries:
        response = api.get(
            "/api/v1/kpis/",
            {"metric": "mqls", "period": "month", "start": "2026-03-01", "end": "2026-03-31"},
        )
    assert response.status_code == 200
    assert [(r["period_start"], r["value"]) for r in response.json()] == [("2026-03-01", 1.0)]
    _reads_kpis_from_the_replica(queries)


def test_other_get_endpoints_of_the_api_read_from_the_replica(
    routed: None, computed: str, admin_user: object
) -> None:
    api = token_client(admin_user)
    with Queries() as queries:
        response = api.get("/api/v1/handoffs/")
    assert response.status_code == 200
    assert response.json()["count"] == 1
    assert any('"leads_handoff"' in sql for sql in queries.replica), queries.replica
    assert all(IDENTITY.search(sql) for sql in queries.primary), queries.primary


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/v1/leads/", [{"external_id": "L-9", "created_at": "2026-03-02T09:00"}]),
        ("/api/v1/recompute/", {}),  # reads the data's first day before it writes the job
    ],
)
def test_a_post_to_the_api_runs_on_the_primary(
    routed: None, computed: str, no_fan_out: None, admin_user: object, url: str, body: object
) -> None:
    api = token_client(admin_user)
    with Queries() as queries:
        response = api.post(url, body, format="json")
    assert response.status_code in (200, 201, 202), response.content
    assert queries.primary
    assert queries.replica == []


def test_a_recompute_posted_from_the_dashboard_runs_on_the_primary(
    routed: None, computed: str, no_fan_out: None, browser: Client
) -> None:
    with Queries() as queries:
        response = browser.post(reverse("recompute"))
    assert response.status_code == 302
    assert any('"leads_lead"' in sql for sql in queries.primary)  # the data's first day
    assert any('"kpis_recomputejob"' in sql for sql in queries.primary)
    assert queries.replica == []


@pytest.mark.parametrize("page", ["inbox", "profile", "job"])
def test_pages_off_the_list_and_job_status_read_the_primary(
    routed: None, computed: str, browser: Client, admin_user: object, page: str
) -> None:
    job = RecomputeJob.objects.create(since=date(2026, 3, 1), until=date(2026, 3, 31))
    client = token_client(admin_user) if page == "job" else browser
    url = {
        "inbox": reverse("inbox"),
        "profile": reverse("profile"),
        "job": reverse("api-recompute-status", args=[job.pk]),
    }[page]
    with Queries() as queries:
        response = client.get(url)
    assert response.status_code == 200
    assert queries.primary
    assert queries.replica == []


def test_a_read_inside_a_window_goes_to_the_replica_until_the_first_write(
    routed: None,
) -> None:
    assert router.db_for_read(KpiSnapshot) == DEFAULT_DB_ALIAS
    with replica_reads():
        assert router.db_for_read(KpiSnapshot) == REPLICA
        assert router.db_for_read(RecomputeJob) == DEFAULT_DB_ALIAS  # polled after its POST
        with transaction.atomic():  # a transaction reads what it is about to change
            assert router.db_for_read(KpiSnapshot) == DEFAULT_DB_ALIAS
        assert router.db_for_read(KpiSnapshot) == REPLICA
        assert router.db_for_write(KpiSnapshot) == DEFAULT_DB_ALIAS
        assert router.db_for_read(KpiSnapshot) == DEFAULT_DB_ALIAS  # it reads its own writes
    assert router.db_for_read(KpiSnapshot) == DEFAULT_DB_ALIAS
    assert router.allow_migrate(REPLICA, "kpis") is False
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "kpis") is True


def test_after_a_write_a_window_reads_the_primary(routed: None, computed: str) -> None:
    with replica_reads(), Queries() as queries:
        assert KpiSnapshot.objects.count()
        RecomputeJob.objects.create(since=date(2026, 3, 1), until=date(2026, 3, 31))
        assert KpiSnapshot.objects.count()
    assert sum('"kpis_kpisnapshot"' in sql for sql in queries.replica) == 1
    assert sum('"kpis_kpisnapshot"' in sql for sql in queries.primary) == 1


# --- without it ------------------------------------------------------------------------------


def test_without_the_router_every_query_runs_on_the_primary(
    computed: str, browser: Client, admin_user: object
) -> None:
    with Queries() as queries:
        assert browser.get(reverse("home")).status_code == 200
        assert token_client(admin_user).get("/api/v1/kpis/", {"metric": "mqls"}).status_code == 200
    assert any('"kpis_kpisnapshot"' in sql for sql in queries.primary)
    assert queries.replica == []

"""Writes that race: two people deciding one handoff, one batch posted three times at once."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from alignment.roles import Role
from alignment.services.accounts import api_token_get_or_create
from leads.models import Handoff, Lead, StageEvent
from tests.celery_worker import _database_url_for
from tests.conftest import World
from tests.servers import gunicorn


def _ago(**delta: float) -> str:
    return (timezone.now() - timedelta(**delta)).isoformat()


@pytest.fixture
def racing(monkeypatch: pytest.MonkeyPatch) -> threading.Barrier:
    """Makes both deciders reach the decision before either writes it, if they can: without
    a lock both would; with it the second waits for the first's commit, and the first goes on
    alone once the barrier gives up on the second."""
    import leads.services

    barrier = threading.Barrier(2, timeout=2)
    record = leads.services._record_decision

    def record_when_both_are_here(*args: object, **kwargs: object) -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()
        record(*args, **kwargs)

    monkeypatch.setattr(leads.services, "_record_decision", record_when_both_are_here)
    return barrier


ON_POSTGRESQL = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


# SQLite takes one writer at a time whatever the code does (BEGIN IMMEDIATE); its in-memory
# test database also can't wait for a lock between threads, so the race is PostgreSQL's.
@pytest.mark.skipif(not ON_POSTGRESQL, reason="concurrent writers race on PostgreSQL")
def test_two_people_deciding_one_handoff_at_once_one_wins_and_the_other_is_told(
    restore_base_data: None,
    world: World,
    sales_rep: object,
    sales_manager: object,
    racing: threading.Barrier,
) -> None:
    world.lead(_ago(hours=3), external_id="hot", owner="sam")
    world.stage("hot", "mql", _ago(hours=2))
    pending = Handoff.objects.get(lead__external_id="hot")
    answers: dict[str, object] = {}

    def decide(user: object, action: str, form: dict) -> None:
        client = Client()
        client.force_login(user)
        try:
            answers[action] = client.post(f"/leads/inbox/{pending.pk}/{action}/", form)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=decide, args=(sales_rep, "accept", {"next": "/leads/inbox/"})),
        threading.Thread(
            target=decide, args=(sales_manager, "reject", {"reason": "bad_fit", "rating": "2"})
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    pending.refresh_from_db()
    decisions = StageEvent.objects.filter(lead=pending.lead, stage__in=["sal", "rejected"])
    assert decisions.count() == 1  # decided once
    won = "accept" if pending.status == Handoff.Status.ACCEPTED else "reject"
    assert pending.status in {Handoff.Status.ACCEPTED, Handoff.Status.REJECTED}
    lost = "reject" if won == "accept" else "accept"
    assert answers[won].status_code == 302
    if lost == "reject":  # the form again, saying why, as a conflict
        assert answers[lost].status_code == 409
        assert "This handoff was already decided." in answers[lost].content.decode()
    else:  # back to the inbox, with the warning
        assert answers[lost].status_code == 302
        shown = [str(m) for m in answers[lost].wsgi_request._messages]
        assert shown == ["This handoff was already decided."]


def test_the_api_answers_409_to_the_second_decision(sales_rep: object, world: World) -> None:
    from tests.conftest import token_client

    world.lead(_ago(hours=3), external_id="hot", owner="sam")
    world.stage("hot", "mql", _ago(hours=2))
    pending = Handoff.objects.get(lead__external_id="hot")
    client = token_client(sales_rep)
    assert client.post(f"/api/v1/handoffs/{pending.pk}/accept/").status_code == 200
    again = client.post(f"/api/v1/handoffs/{pending.pk}/accept/")
    assert (again.status_code, again.json()) == (
        409,
        {"detail": "This handoff was already decided."},
    )


# --- one batch, three times at once, through gunicorn -----------------------------------------


def _post(url: str, body: object, token: str) -> int:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Token {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _wait_until_up(base: str, log: Path) -> None:
    for _ in range(150):
        try:
            urllib.request.urlopen(f"{base}/login/", timeout=5)
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail(log.read_text())


@pytest.fixture
def served_database(restore_base_data: None, tmp_path: Path) -> Iterator[Callable[[], None]]:
    """The URL of the test database for another process, and how to read back what it wrote
    (SQLite: a file copy of the in-memory test database, given by DATABASE_URL)."""
    if connection.vendor == "postgresql":
        yield _database_url_for(connection.settings_dict), lambda: None
        return
    path = tmp_path / "served.sqlite3"
    connection.ensure_connection()
    with sqlite3.connect(path) as target:
        connection.connection.backup(target)

    def read_back() -> None:
        with sqlite3.connect(path) as source:
            source.backup(connection.connection)

    yield f"sqlite:///{path}", read_back


def test_the_same_batch_posted_three_times_at_once_is_stored_once_and_answered_200_each_time(
    served_database: tuple[str, Callable[[], None]],
    make_user: Callable[..., object],
    tmp_path: Path,
) -> None:
    token = api_token_get_or_create(user=make_user("ingest", Role.ADMIN)).key
    make_user("sam", Role.SALES_REP)
    url, read_back = served_database
    if connection.vendor != "postgresql":  # the users above, into the copy the server reads
        path = url.removeprefix("sqlite:///")
        with sqlite3.connect(path) as target:
            connection.connection.backup(target)
    leads = [
        {"external_id": f"P-{n}", "created_at": _ago(days=2), "owner": "sam"} for n in range(200)
    ]
    events = [
        {"external_id": f"PE-{n}", "lead": f"P-{n}", "stage": "mql", "occurred_at": _ago(days=1)}
        for n in range(200)
    ]
    with gunicorn(url, tmp_path / "gunicorn.log", workers=3) as base:
        _wait_until_up(base, tmp_path / "gunicorn.log")
        statuses: dict[str, list[int]] = {"leads": [], "stage-events": []}
        for kind, batch in (("leads", leads), ("stage-events", events)):
            barrier = threading.Barrier(3)

            def post(
                kind: str = kind, batch: list = batch, barrier: threading.Barrier = barrier
            ) -> None:
                barrier.wait()
                statuses[kind].append(_post(f"{base}/api/v1/{kind}/", batch, token))

            threads = [threading.Thread(target=post) for _ in range(3)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    log = (tmp_path / "gunicorn.log").read_text()
    assert statuses == {"leads": [200] * 3, "stage-events": [200] * 3}, log
    read_back()
    assert Lead.objects.filter(external_id__startswith="P-").count() == 200
    assert StageEvent.objects.filter(external_id__startswith="PE-").count() == 200
    assert Handoff.objects.filter(lead__external_id__startswith="P-").count() == 200

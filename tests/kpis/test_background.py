from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest

from kpis import background
from kpis.background import kpis_recompute_soon, kpis_recompute_wait
from kpis.services import DirtyRun


@pytest.fixture
def in_background(settings: object, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.KPI_RECOMPUTE_IN_BACKGROUND = True
    monkeypatch.setattr(background, "QUIET_SECONDS", 0.0)
    yield
    assert kpis_recompute_wait(timeout=30)


def test_without_a_broker_the_recompute_runs_in_one_background_thread_until_the_log_is_empty(
    in_background: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    release, rounds, threads = threading.Event(), [], set()
    log = [3, 1]  # the change log: 3 periods, then 1 logged meanwhile

    def recompute_dirty() -> DirtyRun:
        release.wait(5)
        threads.add(threading.current_thread().name)
        rounds.append(log.pop(0) if log else 0)
        return DirtyRun(recomputed=rounds[-1])

    monkeypatch.setattr(background, "kpis_recompute_dirty", recompute_dirty)
    for _ in range(5):  # five writes commit while the first round waits
        kpis_recompute_soon()
    assert background.kpis_recompute_running()
    release.set()
    assert kpis_recompute_wait(timeout=5)
    assert threads == {"kpis-recompute"}
    assert rounds[:3] == [3, 1, 0]  # one round swept the log until it was empty…
    assert rounds.count(0) <= 2  # …and the writes meanwhile asked for one more round at most
    assert not background.kpis_recompute_running()


def test_the_request_does_not_wait_for_the_background_recompute(
    in_background: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    monkeypatch.setattr(background, "kpis_recompute_dirty", lambda: release.wait(5) and DirtyRun())
    kpis_recompute_soon()  # returns while the recompute still waits
    assert background.kpis_recompute_running()
    release.set()


def test_a_failing_background_recompute_is_logged_and_the_next_write_tries_again(
    in_background: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    calls = []

    def recompute_dirty() -> DirtyRun:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database gone")
        return DirtyRun()

    monkeypatch.setattr(background, "kpis_recompute_dirty", recompute_dirty)
    with caplog.at_level(logging.ERROR, logger="kpis.background"):
        kpis_recompute_soon()
        assert kpis_recompute_wait(timeout=5)
    assert "The background KPI recompute failed" in caplog.text
    kpis_recompute_soon()
    assert kpis_recompute_wait(timeout=5)
    assert len(calls) == 2


def test_with_the_setting_off_or_a_broker_the_recompute_is_scheduled_as_before(
    settings: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    scheduled = []
    monkeypatch.setattr(background, "kpis_schedule_dirty_recompute", lambda: scheduled.append(1))
    monkeypatch.setattr(background, "kpis_recompute_dirty", lambda: pytest.fail("in a thread"))
    for eager, in_thread in [(True, False), (False, True), (False, False)]:
        settings.CELERY_TASK_ALWAYS_EAGER = eager
        settings.KPI_RECOMPUTE_IN_BACKGROUND = in_thread
        kpis_recompute_soon()
    assert scheduled == [1, 1, 1]
    assert not background.kpis_recompute_running()


@pytest.mark.django_db(transaction=True)
def test_a_committed_write_reaches_the_snapshots_through_the_background_thread(
    in_background: None, restore_base_data: None
) -> None:
    from kpis.models import KpiSnapshot
    from leads.models import FunnelChange
    from tests.conftest import World

    World().lead("2026-03-02T09:00:00+00:00")  # commits: the receiver wakes the thread
    assert kpis_recompute_wait(timeout=60)
    assert not FunnelChange.objects.exists()
    march = KpiSnapshot.objects.get(
        metric="leads_created", period="month", period_start="2026-03-01", dimension=""
    )
    assert march.value == 1

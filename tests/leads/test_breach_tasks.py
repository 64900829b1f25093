from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core import mail

from alignment.roles import Role
from config.locks import single_flight
from leads.tasks import sla_breaches_notify_task
from tests.conftest import World

pytestmark = pytest.mark.django_db


@pytest.fixture
def late_handoff(world: World, make_user: Callable[..., object]) -> None:
    make_user("rita", Role.SALES_REP, email="rita@example.com")
    lead = world.lead("2020-03-01T08:00:00+00:00", owner="rita")
    world.stage(lead, "mql", "2020-03-02T09:00:00+00:00")  # long overdue, never contacted


def test_the_breach_task_e_mails_an_overdue_handoff(late_handoff: None) -> None:
    sla_breaches_notify_task.delay()
    assert [m.to for m in mail.outbox] == [["rita@example.com"]]


def test_two_breach_runs_at_once_never_send_twice(late_handoff: None) -> None:
    with single_flight("alignment:sla-breaches-notify", seconds=60) as first:
        assert first
        sla_breaches_notify_task.delay()  # a second run meanwhile: it stands aside
        assert mail.outbox == []
    sla_breaches_notify_task.delay()
    assert len(mail.outbox) == 1

"""SLA breaches: detected once and e-mailed once to the owner and the head of sales (leads.breaches)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from alignment.models import (
    SlaBreach,
)
from alignment.roles import Role
from leads.breaches import sla_breaches_detect, sla_breaches_notify
from leads.models import Handoff
from tests.conftest import World

pytestmark = pytest.mark.django_db


@pytest.fixture
def sales_floor(
    make_user: Callable[..., object], heads: tuple[object, object]
) -> tuple[object, object]:
    rep = make_user("rita", Role.SALES_REP, email="rita@example.com")
    heads[1].email = "sally@example.com"
    heads[1].save()
    return rep, heads[1]


def test_a_missed_first_contact_is_e_mailed_once_to_the_owner_and_the_sales_manager(
    world: World, sales_floor: tuple[object, object]
) -> None:
    late = world.lead("2026-03-01T08:00:00+00:00", owner="rita", external_id="late")
    on_time = world.lead("2026-03-01T08:00:00+00:00", owner="rita", external_id="on-time")
    for lead in (late, on_time):
        world.stage(lead, "mql", "2026-03-02T09:00:00+00:00")  # due 13:00 (v1: 4 hours)
    world.attempt(on_time, "2026-03-02T10:00:00+00:00")
    deadline = datetime(2026, 3, 2, 13, tzinfo=UTC)

    assert sla_breaches_detect(now=deadline - timedelta(minutes=1)) == 0
    assert sla_breaches_detect(now=deadline + timedelta(minutes=5)) == 1
    assert sla_breaches_notify() == 1
    assert sorted(m.to[0] for m in mail.outbox) == ["rita@example.com", "sally@example.com"]
    assert "late" in mail.outbox[0].body and "on-time" not in mail.outbox[0].body

    assert sla_breaches_detect(now=deadline + timedelta(hours=1)) == 0
    assert sla_breaches_notify() == 0
    assert len(mail.outbox) == 2
    breach = SlaBreach.objects.get()
    assert (breach.kind, breach.attempt, breach.due_at) == ("first_contact", 1, deadline)
    assert breach.notified_at is not None


def test_no_e_mail_for_a_handoff_decided_in_time(
    world: World, sales_floor: tuple[object, object]
) -> None:
    lead = world.lead("2026-03-01T08:00:00+00:00", owner="rita")
    world.stage(lead, "mql", "2026-03-02T09:00:00+00:00")
    world.stage(lead, "rejected", "2026-03-02T10:00:00+00:00", reason="bad_fit")
    assert sla_breaches_detect(now=datetime(2026, 3, 9, tzinfo=UTC)) == 0
    assert sla_breaches_notify() == 0
    assert mail.outbox == []


def test_a_missed_next_attempt_is_its_own_breach(
    world: World, sales_floor: tuple[object, object]
) -> None:
    lead = world.lead("2026-03-01T08:00:00+00:00", owner="rita")
    world.stage(lead, "mql", "2026-03-02T09:00:00+00:00")
    world.attempt(lead, "2026-03-02T10:00:00+00:00")  # v1: the next one 2 days later
    assert sla_breaches_detect(now=datetime(2026, 3, 4, 11, tzinfo=UTC)) == 1
    breach = SlaBreach.objects.get()
    assert (breach.kind, breach.attempt) == ("next_attempt", 2)
    assert breach.due_at == datetime(2026, 3, 4, 10, tzinfo=UTC)
    sla_breaches_notify()
    assert "attempt 2 was due" in mail.outbox[0].body


def test_the_database_keeps_one_breach_per_deadline(
    world: World, sales_floor: tuple[object, object]
) -> None:
    lead = world.lead("2026-03-01T08:00:00+00:00", owner="rita")
    world.stage(lead, "mql", "2026-03-02T09:00:00+00:00")
    handoff = Handoff.objects.get()
    now = timezone.now()
    SlaBreach.objects.create(
        handoff=handoff, kind="first_contact", attempt=1, due_at=now, detected_at=now
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        SlaBreach.objects.create(
            handoff=handoff, kind="first_contact", attempt=1, due_at=now, detected_at=now
        )


def test_a_breach_e_mail_that_failed_for_one_recipient_is_retried_without_re_sending_the_others(
    world: World, sales_floor: tuple[object, object], flaky_mail: set[str]
) -> None:
    lead = world.lead("2026-03-01T08:00:00+00:00", owner="rita", external_id="late")
    world.stage(lead, "mql", "2026-03-02T09:00:00+00:00")
    assert sla_breaches_detect(now=datetime(2026, 3, 2, 14, tzinfo=UTC)) == 1
    flaky_mail.add("sally@example.com")
    with pytest.raises(Exception, match="next run"):
        sla_breaches_notify()
    assert [m.to for m in mail.outbox] == [["rita@example.com"]]
    assert SlaBreach.objects.get().notified_at is None  # sally still has to hear of it

    flaky_mail.clear()
    assert sla_breaches_notify() == 1
    assert [m.to for m in mail.outbox] == [["rita@example.com"], ["sally@example.com"]]
    assert SlaBreach.objects.get().notified_at is not None
    assert sla_breaches_notify() == 0
    assert len(mail.outbox) == 2

"""The SAL pace alert to marketing, from the `sals` metric (kpis.alerts)."""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core import mail

from alignment.models import (
    SalPaceAlert,
    ServiceLevelAgreement,
)
from kpis.alerts import sal_commitment_check
from kpis.services import kpis_recompute
from tests.conftest import World

pytestmark = pytest.mark.django_db


def test_marketing_managers_hear_once_a_month_when_sals_are_off_pace(
    world: World, marketing_manager: object, marketing_rep: object
) -> None:
    marketing_manager.email = "max@example.com"
    marketing_manager.save()
    marketing_rep.email = "mia@example.com"
    marketing_rep.save()
    lead = world.lead("2026-03-01T08:00:00+00:00")
    world.stage(lead, "mql", "2026-03-02T09:00:00+00:00")
    world.stage(lead, "sal", "2026-03-02T10:00:00+00:00")
    kpis_recompute(kind="month", periods=[date(2026, 3, 1)])  # the alert reads the `sals` metric
    # Mid-March: 1 SAL in half a month projects 2 against a commitment of 100 (SLA v1).
    assert sal_commitment_check(now=datetime(2026, 3, 3, tzinfo=UTC)) is None  # too early
    alert = sal_commitment_check(now=datetime(2026, 3, 16, 12, tzinfo=UTC))
    assert (alert.sals, alert.commitment, alert.projected) == (1, 100, Decimal("2.00"))
    assert [m.to for m in mail.outbox] == [["max@example.com"]]
    assert sal_commitment_check(now=datetime(2026, 3, 20, tzinfo=UTC)) is None
    assert len(mail.outbox) == 1 and SalPaceAlert.objects.count() == 1


def test_a_sal_alert_whose_e_mail_failed_is_sent_on_the_next_run(
    world: World, marketing_manager: object, flaky_mail: set[str]
) -> None:
    marketing_manager.email = "max@example.com"
    marketing_manager.save()
    lead = world.lead("2026-03-01T08:00:00+00:00")
    world.stage(lead, "mql", "2026-03-02T09:00:00+00:00")
    kpis_recompute(kind="month", periods=[date(2026, 3, 1)])
    flaky_mail.add("max@example.com")
    with pytest.raises(smtplib.SMTPException):
        sal_commitment_check(now=datetime(2026, 3, 16, 12, tzinfo=UTC))
    assert not SalPaceAlert.objects.exists() and mail.outbox == []

    flaky_mail.clear()
    assert sal_commitment_check(now=datetime(2026, 3, 16, 13, tzinfo=UTC)) is not None
    assert sal_commitment_check(now=datetime(2026, 3, 16, 14, tzinfo=UTC)) is None
    assert [m.to for m in mail.outbox] == [["max@example.com"]]


def test_no_sal_alert_when_the_month_is_on_pace(
    world: World, signed_sla: Callable[..., ServiceLevelAgreement], marketing_manager: object
) -> None:
    signed_sla(monthly_sal_commitment=2)
    for n in range(2):
        lead = world.lead("2026-03-01T08:00:00+00:00")
        world.stage(lead, "mql", f"2026-03-0{n + 2}T09:00:00+00:00")
        world.stage(lead, "sal", f"2026-03-0{n + 2}T10:00:00+00:00")
    kpis_recompute(kind="month", periods=[date(2026, 3, 1)])  # the alert reads the `sals` metric
    assert sal_commitment_check(now=datetime(2026, 3, 16, 12, tzinfo=UTC)) is None
    assert mail.outbox == []


def test_the_sal_pace_alert_waits_as_long_as_the_dashboard_tiles_do(
    world: World, marketing_manager: object
) -> None:
    lead = world.lead("2026-03-01T08:00:00+00:00")
    world.stage(lead, "mql", "2026-03-02T09:00:00+00:00")
    kpis_recompute(kind="month", periods=[date(2026, 3, 1)])
    # A quarter of March (PACE_MIN_ELAPSED) is 7.75 days: before it a pace says nothing.
    assert sal_commitment_check(now=datetime(2026, 3, 8, 12, tzinfo=UTC)) is None
    assert sal_commitment_check(now=datetime(2026, 3, 8, 18, tzinfo=UTC)) is not None


def test_no_sal_alert_before_the_month_was_computed(
    world: World, marketing_manager: object
) -> None:
    marketing_manager.email = "max@example.com"
    marketing_manager.save()
    assert sal_commitment_check(now=datetime(2026, 3, 16, 12, tzinfo=UTC)) is None
    kpis_recompute(kind="month", periods=[date(2026, 3, 1)])
    assert sal_commitment_check(now=datetime(2026, 3, 16, 12, tzinfo=UTC)) is not None

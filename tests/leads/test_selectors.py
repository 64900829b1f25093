from __future__ import annotations

from datetime import UTC, datetime, timedelta

from leads.models import Handoff
from leads.selectors import handoff_sla_step

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _handoff(**facts: datetime | None) -> Handoff:
    return Handoff(handed_at=NOW - timedelta(days=1), **facts)


def test_the_sla_step_of_a_pending_handoff_is_the_deadline_it_waits_for() -> None:
    due = NOW - timedelta(hours=20)
    cases = {
        "no SLA": _handoff(),
        "not contacted": _handoff(first_contact_due_at=due, next_attempt_due_at=due),
        "contacted, next soon": _handoff(
            first_contact_due_at=due,
            first_attempt_at=due - timedelta(hours=1),
            next_attempt_due_at=NOW + timedelta(minutes=20),
        ),
        "contacted, next later": _handoff(
            first_contact_due_at=due,
            first_attempt_at=due - timedelta(hours=1),
            next_attempt_due_at=NOW + timedelta(days=1),
        ),
        "cadence kept": _handoff(first_contact_due_at=due, first_attempt_at=due),
    }
    steps = {name: handoff_sla_step(handoff=h, now=NOW) for name, h in cases.items()}
    assert {name: (s.kind, s.state, s.left) for name, s in steps.items()} == {
        "no SLA": ("none", "none", None),
        "not contacted": ("first_contact", "overdue", timedelta(hours=-20)),
        "contacted, next soon": ("next_attempt", "soon", timedelta(minutes=20)),
        "contacted, next later": ("next_attempt", "ok", timedelta(days=1)),
        "cadence kept": ("kept", "kept", None),
    }

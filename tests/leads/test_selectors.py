from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from leads.models import Handoff
from leads.selectors import handoff_sla_step
from tests.conftest import World

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


def test_the_inbox_history_gives_each_lead_its_touches_and_attempts_latest_first(
    world: World, django_assert_num_queries: Callable
) -> None:
    from leads.selectors import inbox_handoffs, inbox_history

    world.campaign("Spring", external_id="spring")
    for lead in ("a", "b"):
        world.lead("2026-03-01T09:00:00+00:00", external_id=lead, campaign="spring")
        world.stage(lead, "mql", "2026-03-02T09:00:00+00:00")
    world.touch("a", "spring", "2026-03-01T10:00:00+00:00", kind="visit")
    world.touch("a", "spring", "2026-03-01T12:00:00+00:00", kind="webinar")
    world.attempt("a", "2026-03-02T10:00:00+00:00", channel="email", outcome="replied")
    handoffs = list(inbox_handoffs())
    with django_assert_num_queries(2):
        inbox_history(handoffs=handoffs)
    by_lead = {h.lead.external_id: h.lead for h in handoffs}
    assert [(t.kind, t.campaign_name) for t in by_lead["a"].latest_touches] == [
        ("webinar", "Spring"),
        ("visit", "Spring"),
    ]
    (attempt,) = by_lead["a"].latest_attempts
    assert (attempt.channel_label, attempt.outcome_label) == ("E-mail", "Replied")
    assert by_lead["b"].latest_touches == by_lead["b"].latest_attempts == []
    with django_assert_num_queries(0):
        inbox_history(handoffs=[])

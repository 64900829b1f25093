from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

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


# --- why a lead is an MQL -------------------------------------------------------------------

RULES = [
    {"field": "segment", "operator": "equals", "value": "enterprise", "points": 30},
    {"field": "employees", "operator": "gte", "value": 200, "points": 20},
    {"field": "channel", "operator": "equals", "value": "event", "points": 40},
]


def test_a_scored_handoff_says_its_score_threshold_and_rules_under_its_version(
    world: World, signed_definition: Callable, django_assert_num_queries: Callable
) -> None:
    from leads.selectors import handoffs_why, inbox_handoffs

    definition = signed_definition(RULES, threshold=50)
    world.lead("2026-03-01T09:00:00+00:00", external_id="big", segment="enterprise", employees=250)
    handoffs = list(inbox_handoffs())
    with django_assert_num_queries(1):  # the definitions; no mql events for scored handoffs
        handoffs_why(handoffs=handoffs)
    (why,) = [h.why for h in handoffs]
    assert (why.score, why.threshold, why.version) == (50, 50, definition.version)
    assert [(r["field"], r["actual"]) for r in why.rules] == [
        ("segment", "enterprise"),
        ("employees", 250),
    ]


def test_a_handoff_marked_mql_from_outside_says_by_what_and_its_score_now(
    world: World, signed_definition: Callable, make_user: Callable
) -> None:
    from alignment.roles import Role
    from leads.selectors import handoffs_why, inbox_handoffs

    make_user("lena", Role.MARKETING_REP, first_name="Lena", last_name="Fischer")
    world.lead("2026-03-01T09:00:00+00:00", external_id="api")
    world.stage("api", "mql", "2026-03-02T09:00:00+00:00")
    world.lead("2026-03-01T09:00:00+00:00", external_id="lena")
    world.stage("lena", "mql", "2026-03-03T09:00:00+00:00", actor="lena")
    handoffs = list(inbox_handoffs())
    handoffs_why(handoffs=handoffs)
    whys = {h.lead.external_id: h.why for h in handoffs}
    assert (whys["api"].marked_by, whys["api"].marked_at) == (
        "the API",
        datetime(2026, 3, 2, 9, tzinfo=UTC),
    )
    assert whys["lena"].marked_by == "Lena Fischer (the API)"
    assert whys["api"].current_version is None  # no definition in effect: no score to show

    definition = signed_definition(RULES, threshold=50)
    world.lead("2026-03-01T09:00:00+00:00", external_id="api", segment="enterprise")  # rescored
    handoffs = list(inbox_handoffs())
    handoffs_why(handoffs=handoffs)
    why = next(h.why for h in handoffs if h.lead.external_id == "api")
    assert not why.scored
    assert (why.current_score, why.current_threshold, why.current_version) == (
        30,
        50,
        definition.version,
    )


def test_why_reads_as_many_queries_for_fifty_handoffs_as_for_two(
    world: World, signed_definition: Callable, django_assert_num_queries: Callable
) -> None:
    from leads.selectors import handoffs_why, inbox_handoffs

    signed_definition(RULES, threshold=50)
    for n in range(50):
        if n % 2:
            world.lead("2026-03-01T09:00:00+00:00", segment="enterprise", employees=300)
        else:
            world.stage(world.lead("2026-03-01T09:00:00+00:00"), "mql", "2026-03-02T09:00:00Z")
    handoffs = list(inbox_handoffs())
    assert len(handoffs) == 50
    with django_assert_num_queries(2):
        handoffs_why(handoffs=handoffs)
    with django_assert_num_queries(2):
        handoffs_why(handoffs=handoffs[:2])


# --- my leads -------------------------------------------------------------------------------


def _accepted(world: World, name: str, *, handed: str, owner: str = "sam") -> str:
    world.lead("2026-03-01T09:00:00+00:00", external_id=name, owner=owner)
    world.stage(name, "mql", handed)
    world.stage(name, "sal", handed.replace("T10", "T11"), actor=owner)
    return name


def test_my_leads_puts_what_needs_action_first_and_says_the_next_step(
    world: World, sales_rep: object, make_user: Callable
) -> None:
    """The default SLA: first contact within 4 h, then 6 attempts 2 days apart."""
    from decimal import Decimal

    from alignment.roles import Role
    from leads.selectors import my_leads, my_leads_steps

    make_user("rita", Role.SALES_REP)
    now = datetime.now(UTC).replace(microsecond=0)

    def at(**delta: float) -> str:
        return (now - timedelta(**delta)).strftime("%Y-%m-%dT10:%M:%S+00:00")

    _accepted(world, "won", handed=at(days=20))
    world.stage("won", "won", at(days=2))
    _accepted(world, "reached", handed=at(days=9))
    world.attempt("reached", at(days=8), outcome="connected")
    world.deal("reached", 1200, at(days=7))
    world.deal("reached", 300, at(days=6))
    _accepted(world, "untried", handed=at(days=3))
    _accepted(world, "tried_long_ago", handed=at(days=12))
    world.attempt("tried_long_ago", at(days=11))
    _accepted(world, "tried_lately", handed=at(days=5))
    world.attempt("tried_lately", at(days=4))
    world.attempt("tried_lately", at(days=1))
    _accepted(world, "ritas", handed=at(days=3), owner="rita")
    world.lead("2026-03-01T09:00:00+00:00", external_id="pending", owner="sam")
    world.stage("pending", "mql", at(hours=1))

    rows = list(my_leads(owner="sam", now=now))
    assert [h.lead.external_id for h in rows] == [
        "untried", "tried_lately", "reached", "tried_long_ago", "won",
    ]  # fmt: skip
    my_leads_steps(handoffs=rows, now=now)
    steps = {h.lead.external_id: h for h in rows}
    assert steps["untried"].step.kind == "first_contact" and steps["untried"].step.state == (
        "overdue"
    )
    lately = steps["tried_lately"]
    assert (lately.attempts_made, lately.step.kind, lately.step.attempts_due) == (
        2,
        "next_attempt",
        6,
    )
    assert lately.step.due == lately.last_attempt_at + timedelta(days=2)  # no business hours
    assert lately.step.cadence == "open"
    long_ago = steps["tried_long_ago"].step  # 1 of 6 in a 10-day window that closed
    assert (long_ago.kind, long_ago.cadence, long_ago.left) == ("lapsed", "missed", None)
    assert (steps["reached"].step.kind, steps["reached"].step.cadence) == ("working", "met")
    assert steps["reached"].open_amount == Decimal("1500.00")
    assert steps["won"].step.kind == "closed"
    assert [h.lead.external_id for h in my_leads(owner="rita")] == ["ritas"]
    assert len(list(my_leads())) == 6


def test_a_lead_handed_over_again_shows_only_its_latest_handoff(
    world: World, sales_rep: object
) -> None:
    from leads.selectors import my_leads

    _accepted(world, "again", handed="2026-03-02T10:00:00+00:00")
    world.stage("again", "recycled", "2026-03-05T10:00:00+00:00")
    world.stage("again", "mql", "2026-03-09T10:00:00+00:00")
    assert list(my_leads(owner="sam")) == []  # its latest handoff is pending: the inbox has it
    world.stage("again", "sal", "2026-03-09T12:00:00+00:00", actor="sam")
    (row,) = my_leads(owner="sam")
    assert row.handed_at == datetime(2026, 3, 9, 10, tzinfo=UTC)


def test_my_leads_reads_the_same_queries_for_a_page_of_many_as_of_one(
    world: World, sales_rep: object, django_assert_max_num_queries: Callable
) -> None:
    from django.core.paginator import Paginator

    from leads.selectors import my_leads, my_leads_steps

    for n in range(30):
        name = _accepted(world, f"L{n}", handed=f"2026-03-{1 + n % 20:02d}T10:00:00+00:00")
        world.attempt(name, f"2026-03-{2 + n % 20:02d}T10:00:00+00:00")
        world.deal(name, 100 + n, f"2026-03-{2 + n % 20:02d}T12:00:00+00:00")
    with django_assert_max_num_queries(2):  # the count and the page
        page = Paginator(my_leads(owner="sam"), 25).get_page(1)
        rows = list(page.object_list)
        my_leads_steps(handoffs=rows)
    assert len(rows) == 25 and all(h.step.kind for h in rows)


def test_a_leads_story_reads_a_fixed_number_of_queries(
    world: World, sales_rep: object, django_assert_num_queries: Callable
) -> None:
    from leads.selectors import lead_get, lead_story

    world.campaign("Webinar", external_id="web")
    name = _accepted(world, "L-1", handed="2026-03-02T10:00:00+00:00")
    for day in range(3, 9):
        world.touch(name, "web", f"2026-03-0{day}T09:00:00+00:00")
        world.attempt(name, f"2026-03-0{day}T10:00:00+00:00", actor="sam")
    world.deal(name, 900, "2026-03-08T12:00:00+00:00")
    lead = lead_get(pk=world_pk(name))
    with django_assert_num_queries(8):
        lead_story(lead=lead)
    assert len(lead.touch_list) == len(lead.attempt_list) == 6
    assert [s.stage for s in lead.stage_list] == ["sal", "mql"]
    (handoff,) = lead.handoff_list
    assert handoff.why.marked_by == "the API"


def world_pk(external_id: str) -> int:
    from leads.models import Lead

    return Lead.objects.get(external_id=external_id).pk


# --- disputes ------------------------------------------------------------------------------


def _many_disputes(world: World, cast: dict, n: int) -> list:
    """`n` rejections of sam's, each disputed by mia; the first two settled (overturned,
    upheld), the third awaiting sales' confirmation, the rest open."""
    from django.utils import timezone

    from leads.services_disputes import dispute_confirm, dispute_raise, dispute_record_outcome

    marketing, sales = cast["head_of_marketing"], cast["head_of_sales"]
    disputes = []
    for i in range(n):
        at = timezone.now() - timedelta(days=5, hours=i)
        lead = world.lead((at - timedelta(days=2)).isoformat(), owner="sam")
        world.stage(lead, "mql", (at - timedelta(days=1)).isoformat())
        world.attempt(lead, (at - timedelta(hours=3)).isoformat(), actor="sam")
        world.attempt(lead, (at + timedelta(hours=3)).isoformat(), actor="sam")  # after it
        world.stage(lead, "rejected", at.isoformat(), reason="bad_fit", actor="sam")
        handoff = Handoff.objects.get(lead__external_id=lead)
        dispute = dispute_raise(handoff=handoff, by=cast["disputer"], comment=f"Lead {i}")
        if i < 3:
            outcome = ["overturned", "upheld", "upheld"][i]
            dispute = dispute_record_outcome(dispute=dispute, by=marketing, outcome=outcome,
                                             note="Call them." if i == 0 else "")  # fmt: skip
            if i < 2:
                dispute = dispute_confirm(dispute=dispute, by=sales)
        disputes.append(dispute)
    return disputes


@pytest.mark.django_db
def test_the_dispute_list_reads_its_rows_and_their_people_in_one_query(
    world: World, cast: dict, django_assert_num_queries: Callable
) -> None:
    from leads.selectors import dispute_list

    disputes = _many_disputes(world, cast, 6)
    with django_assert_num_queries(1):
        rows = list(dispute_list())
        seen = [
            (d.handoff.lead.external_id, d.handoff.reason.code, d.handoff.owner.username,
             d.handoff.decided_by.username, d.raised_by.username,
             d.outcome_by.username if d.outcome_by else None,
             d.resolved_by.username if d.resolved_by else None, d.attempts_before_decision)
            for d in rows
        ]  # fmt: skip
    assert len(seen) == 6
    assert {s[7] for s in seen} == {1}  # the call before the rejection, not the one after
    overturned = next(d for d in rows if d.pk == disputes[0].pk)
    assert overturned.reopened_handoff_id == (
        Handoff.objects.get(opening_event=disputes[0].reopen_event).pk
    )
    assert [d.pk for d in dispute_list(status="resolved")] == [disputes[1].pk, disputes[0].pk]


@pytest.mark.django_db
def test_the_board_splits_what_waits_for_each_head(
    world: World, cast: dict, django_assert_num_queries: Callable
) -> None:
    from leads.selectors import dispute_board, dispute_counts, disputes_waiting_count

    disputes = _many_disputes(world, cast, 5)
    awaiting_sales, still_open = disputes[2], disputes[3:]
    with django_assert_num_queries(2):
        sales = dispute_board(head_team="sales")
    assert {d.pk for d in sales.waiting} == {d.pk for d in [awaiting_sales, *still_open]}
    assert sales.open == []
    marketing = dispute_board(head_team="marketing")
    assert {d.pk for d in marketing.waiting} == {d.pk for d in still_open}
    assert [d.pk for d in marketing.open] == [awaiting_sales.pk]
    assert marketing.open[0].awaiting_head == cast["head_of_sales"]
    nobody = dispute_board(head_team=None)
    assert nobody.waiting == [] and len(nobody.open) == 3
    assert (disputes_waiting_count(team="sales"), disputes_waiting_count(team="marketing")) == (
        3,
        2,
    )
    assert dispute_counts() == {
        "open": 2, "awaiting": 1, "resolved": 2, "upheld": 1, "overturned": 1,
    }  # fmt: skip


@pytest.mark.django_db
def test_the_inbox_marks_a_handoff_reopened_after_a_dispute_in_the_same_query(
    world: World, cast: dict, django_assert_num_queries: Callable
) -> None:
    from leads.selectors import inbox_handoffs

    disputes = _many_disputes(world, cast, 1)
    fresh = world.lead(timezone_now_iso(), owner="rita")
    world.stage(fresh, "mql", timezone_now_iso())
    with django_assert_num_queries(1):
        marks = {h.lead.external_id: h.reopened for h in inbox_handoffs(owner="rita")}
    reopened = Handoff.objects.get(opening_event=disputes[0].reopen_event)
    assert marks == {reopened.lead.external_id: True, fresh: False}


def timezone_now_iso() -> str:
    from django.utils import timezone

    return timezone.now().isoformat()


@pytest.mark.django_db
def test_a_campaigns_feedback_counts_withdrawn_handoffs_as_neither_decided_accepted_nor_rejected(
    world: World,
) -> None:
    from leads.models import Campaign
    from leads.selectors import campaign_feedback

    world.campaign("Web", external_id="web")
    for name, closing in [("A", "sal"), ("R", "rejected"), ("W", "recycled"), ("L", "lost")]:
        world.lead("2026-03-01T08:00:00+00:00", external_id=name, campaign="web")
        world.stage(name, "mql", "2026-03-02T09:00:00+00:00")
        world.stage(name, closing, "2026-03-03T09:00:00+00:00",
                    reason="bad_fit" if closing == "rejected" else "")  # fmt: skip
    _, stats = campaign_feedback(campaign_id=Campaign.objects.get(external_id="web").pk)
    assert (stats["decided"], stats["accepted"], stats["rejected"]) == (2, 1, 1)

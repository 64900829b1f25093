"""Hand-computed cases for the lead-quality ledger's metrics (SPEC §4, Evidence): each fact on
the cohort of the handoff it is about, the disputes by the rejection's decision and by their
settlement, totals and by campaign, owner and reason."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from alignment.roles import Role
from kpis.engine import compute
from leads.models import Handoff
from leads.services_disputes import dispute_confirm, dispute_raise, dispute_record_outcome
from tests.conftest import World

pytestmark = pytest.mark.django_db

JAN, FEB, MARCH, APRIL = date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)
LATER = datetime(2026, 11, 1, tzinfo=UTC)
LEDGER = ("followed_up_rate", "rejected_without_contact_rate", "rejected_then_won_rate",
          "accepted_then_disqualified_rate", "handoffs_withdrawn", "dispute_rate",
          "dispute_overturn_rate")  # fmt: skip


def values(kind: str, periods: list[date], now: datetime = LATER) -> dict:
    """(metric, period, dimension, key) → (numerator, denominator) of the ledger and the cohort
    counts next to it."""
    return {
        (v.metric, v.period_start, v.dimension, v.key): (v.numerator, v.denominator)
        for v in compute(kind=kind, periods=periods, now=now)
        if v.model == ""
    }


def cells(found: dict, metric: str, period: date, dimension: str = "") -> dict:
    """key → (numerator, denominator) of one metric, period and dimension ("" the total)."""
    return {
        key: value
        for (m, p, d, key), value in found.items()
        if (m, p, d) == (metric, period, dimension)
    }


def at(text: str) -> str:
    return f"2026-{text}:00+00:00"


@pytest.fixture
def ledger(
    world: World,
    sales_rep: object,
    make_user: Callable[..., object],
    marketing_rep: object,
    heads: tuple[object, object],
) -> World:
    """Seven leads from January to March 2026 (UTC), one fact or two each; under the default
    SLA every first-contact deadline has long passed at LATER.

    Handoffs by cohort (handed_at), with their owners (sam, rita) and campaigns (A, B):
    - January: L1 rejected `not_ready` without contact; L2 rejected `bad_fit`, called only
      after the decision; L3 called, then rejected `bad_fit` (its deal was won before);
      L4 called, accepted, later disqualified; L5 withdrawn (recycled while pending);
      L6 called and accepted (disqualified once, before its handoff).
    - February: L5 again (a new MQL after the withdrawal), pending; L3 again (the heads
      overturned its rejection on 2 February: a system MQL to sam), pending; L7 rejected
      `no_budget` on 2 March, never called.
    - March: L1 again (recycled after the rejection, a new MQL), called, accepted, then won.

    Disputes: L2's rejection (13 Jan) upheld on 14 Jan; L3's (16 Jan) raised on 28 Jan,
    recorded overturned on 31 Jan and confirmed on 2 Feb; L7's (2 Mar) raised on 3 Mar, open.
    """
    make_user("rita", Role.SALES_REP)
    world.campaign("A", starts_on="2026-01-01", ends_on="2026-03-31")
    world.campaign("B", channel="email", starts_on="2026-01-01", ends_on="2026-03-31")
    for n, campaign, owner in [(1, "A", "sam"), (2, "A", "sam"), (3, "B", "rita"),
                               (4, "B", "rita"), (5, "A", "rita"), (6, None, None),
                               (7, "B", "rita")]:  # fmt: skip
        world.lead(at("01-01T08:00"), campaign=campaign, owner=owner, external_id=f"L{n}")

    # L1: rejected before any contact; recycled; a new MQL in March, called, accepted, won.
    world.stage("L1", "mql", at("01-05T10:00"))
    world.stage("L1", "rejected", at("01-06T10:00"), reason="not_ready")
    world.stage("L1", "recycled", at("01-10T10:00"))
    world.stage("L1", "mql", at("03-02T10:00"))
    world.attempt("L1", at("03-02T12:00"))
    world.stage("L1", "sal", at("03-03T10:00"))
    world.deal("L1", 1000, at("03-05T10:00"), status="won", closed_at=at("03-20T10:00"))
    # L2: rejected, then called the next day.
    world.stage("L2", "mql", at("01-12T10:00"))
    world.stage("L2", "rejected", at("01-13T10:00"), reason="bad_fit")
    world.attempt("L2", at("01-14T10:00"))
    # L3: a won deal closed on 10 Jan, before its handoff; called, then rejected.
    world.deal("L3", 500, at("01-02T10:00"), status="won", closed_at=at("01-10T10:00"))
    world.stage("L3", "mql", at("01-15T10:00"))
    world.attempt("L3", at("01-15T11:00"))
    world.stage("L3", "rejected", at("01-16T10:00"), reason="bad_fit")
    # L4: called, accepted, disqualified three weeks later.
    world.stage("L4", "mql", at("01-20T10:00"))
    world.attempt("L4", at("01-20T14:00"))
    world.stage("L4", "sal", at("01-21T10:00"))
    world.stage("L4", "disqualified", at("02-10T10:00"))
    # L5: recycled while pending (withdrawn), handed off again in February.
    world.stage("L5", "mql", at("01-22T10:00"))
    world.stage("L5", "recycled", at("01-25T10:00"))
    world.stage("L5", "mql", at("02-03T10:00"))
    # L6: disqualified once, long before its handoff; called and accepted.
    world.stage("L6", "disqualified", at("01-03T10:00"))
    world.stage("L6", "mql", at("01-26T10:00"))
    world.attempt("L6", at("01-26T11:00"))
    world.stage("L6", "sal", at("01-27T10:00"))
    # L7: handed off in February, rejected in March, never called.
    world.stage("L7", "mql", at("02-25T10:00"))
    world.stage("L7", "rejected", at("03-02T10:00"), reason="no_budget")

    world.dispute("L2", by=marketing_rep, at=at("01-14T09:00"), outcome="upheld", heads=heads)
    rejection = Handoff.objects.get(lead__external_id="L3", status=Handoff.Status.REJECTED)
    dispute = dispute_raise(
        handoff=rejection, by=marketing_rep, comment="They asked for a demo.",
        now=datetime(2026, 1, 28, 9, tzinfo=UTC),
    )  # fmt: skip
    dispute = dispute_record_outcome(
        dispute=dispute, by=heads[0], outcome="overturned", note="They had asked for a demo.",
        now=datetime(2026, 1, 31, 17, tzinfo=UTC),
    )  # fmt: skip
    dispute_confirm(dispute=dispute, by=heads[1], now=datetime(2026, 2, 2, 9, tzinfo=UTC))
    world.dispute("L7", by=marketing_rep, at=at("03-03T09:00"))
    return world


def test_the_ledger_world_has_the_handoffs_its_description_says(ledger: World) -> None:
    rows = Handoff.objects.order_by("lead__external_id", "handed_at").values_list(
        "lead__external_id", "handed_at__month", "status", "owner__username"
    )
    assert list(rows) == [
        ("L1", 1, "rejected", "sam"), ("L1", 3, "accepted", "sam"),
        ("L2", 1, "rejected", "sam"),
        ("L3", 1, "rejected", "rita"), ("L3", 2, "pending", "sam"),  # reopened by round robin
        ("L4", 1, "accepted", "rita"),
        ("L5", 1, "withdrawn", "rita"), ("L5", 2, "pending", "rita"),
        ("L6", 1, "accepted", None),
        ("L7", 2, "rejected", "rita"),
    ]  # fmt: skip


def test_each_fact_counts_on_the_cohort_of_the_handoff_it_is_about(ledger: World) -> None:
    found = values("month", [JAN, FEB, MARCH])
    by_month = {
        metric: [cells(found, metric, month)[""] for month in (JAN, FEB, MARCH)]
        for metric in ("mqls", "handoffs_pending", "acceptance_rate", *LEDGER[:5])
    }
    assert by_month == {
        "mqls": [(6, None), (3, None), (1, None)],
        "handoffs_pending": [(0, None), (2, None), (0, None)],
        # L4 and L6 of L1, L2, L3, L4, L6: the withdrawn L5 is neither accepted nor rejected.
        "acceptance_rate": [(2, 5), (0, 1), (1, 1)],
        # January: L3 (before its rejection), L4, L6 of six (every deadline passed).
        # February: L5 and L3 not called yet, L7 never called. March: L1 called 2 h after.
        "followed_up_rate": [(3, 6), (0, 3), (1, 1)],
        # L1 (never called before it) and L2 (called after) of three; L7 in February.
        "rejected_without_contact_rate": [(2, 3), (1, 1), (0, 0)],
        # L1's March deal counts on its January rejection; L3's deal closed before its own.
        "rejected_then_won_rate": [(1, 3), (0, 1), (0, 0)],
        # L4 of L4 and L6 (L6's disqualification came before the decision). L1's March
        # acceptance was not disqualified.
        "accepted_then_disqualified_rate": [(1, 2), (0, 0), (0, 1)],
        "handoffs_withdrawn": [(1, None), (0, None), (0, None)],
    }


def test_the_cohort_facts_break_down_by_campaign_and_owner(ledger: World) -> None:
    found = values("month", [JAN, FEB])
    # January by campaign: A = L1, L2, L5; B = L3, L4; (no campaign) = L6.
    assert cells(found, "followed_up_rate", JAN, "campaign") == {
        "A": (0, 3), "B": (2, 2), "(no campaign)": (1, 1)}  # fmt: skip
    assert cells(found, "rejected_without_contact_rate", JAN, "campaign") == {
        "A": (2, 2), "B": (0, 1), "(no campaign)": (0, 0)}  # fmt: skip
    assert cells(found, "rejected_then_won_rate", JAN, "campaign") == {
        "A": (1, 2), "B": (0, 1), "(no campaign)": (0, 0)}  # fmt: skip
    assert cells(found, "accepted_then_disqualified_rate", JAN, "campaign") == {
        "A": (0, 0), "B": (1, 1), "(no campaign)": (0, 1)}  # fmt: skip
    assert cells(found, "handoffs_withdrawn", JAN, "campaign") == {
        "A": (1, None), "B": (0, None), "(no campaign)": (0, None)}  # fmt: skip
    # January by owner: sam = L1, L2; rita = L3, L4, L5; (unassigned) = L6.
    assert cells(found, "followed_up_rate", JAN, "owner") == {
        "sam": (0, 2), "rita": (2, 3), "(unassigned)": (1, 1)}  # fmt: skip
    assert cells(found, "rejected_without_contact_rate", JAN, "owner") == {
        "sam": (2, 2), "rita": (0, 1), "(unassigned)": (0, 0)}  # fmt: skip
    assert cells(found, "rejected_then_won_rate", JAN, "owner") == {
        "sam": (1, 2), "rita": (0, 1), "(unassigned)": (0, 0)}  # fmt: skip
    assert cells(found, "accepted_then_disqualified_rate", JAN, "owner") == {
        "sam": (0, 0), "rita": (1, 1), "(unassigned)": (0, 1)}  # fmt: skip
    assert cells(found, "handoffs_withdrawn", JAN, "owner") == {
        "sam": (0, None), "rita": (1, None), "(unassigned)": (0, None)}  # fmt: skip
    # February by owner: sam = L3 reopened; rita = L5 again, L7.
    assert cells(found, "followed_up_rate", FEB, "owner") == {"sam": (0, 1), "rita": (0, 2)}
    assert cells(found, "rejected_without_contact_rate", FEB, "owner") == {
        "sam": (0, 0), "rita": (1, 1)}  # fmt: skip


def test_the_rejections_facts_break_down_by_reason_and_the_others_do_not(ledger: World) -> None:
    found = values("month", [JAN, FEB])
    assert cells(found, "rejected_without_contact_rate", JAN, "reason") == {
        "not_ready": (1, 1), "bad_fit": (1, 2)}  # fmt: skip
    assert cells(found, "rejected_then_won_rate", JAN, "reason") == {
        "not_ready": (1, 1), "bad_fit": (0, 2)}  # fmt: skip
    assert cells(found, "rejected_without_contact_rate", FEB, "reason") == {"no_budget": (1, 1)}
    assert cells(found, "rejected_then_won_rate", FEB, "reason") == {"no_budget": (0, 1)}
    for metric in ("followed_up_rate", "accepted_then_disqualified_rate", "handoffs_withdrawn"):
        assert not cells(found, metric, JAN, "reason"), metric


def test_dispute_rate_follows_the_rejections_decision_month(ledger: World) -> None:
    found = values("month", [JAN, FEB, MARCH])
    # January's rejections L1, L2, L3: L2 and L3 disputed. L7 (handed in February) was
    # rejected and disputed in March; nothing was decided in February.
    assert [cells(found, "dispute_rate", m)[""] for m in (JAN, FEB, MARCH)] == [
        (2, 3), (0, 0), (1, 1)]  # fmt: skip
    assert cells(found, "dispute_rate", JAN, "reason") == {"not_ready": (0, 1), "bad_fit": (2, 2)}
    # The acceptances (and L5's withdrawal) of the month are decisions, not rejections.
    assert cells(found, "dispute_rate", JAN, "owner") == {
        "sam": (1, 2), "rita": (1, 1), "(unassigned)": (0, 0)}  # fmt: skip
    assert cells(found, "dispute_rate", JAN, "campaign") == {
        "A": (1, 2), "B": (1, 1), "(no campaign)": (0, 0)}  # fmt: skip
    assert cells(found, "dispute_rate", MARCH, "reason") == {"no_budget": (1, 1)}
    assert cells(found, "dispute_rate", MARCH, "owner") == {"rita": (1, 1), "sam": (0, 0)}


def test_dispute_overturn_rate_follows_the_month_the_second_head_settled_it(
    ledger: World,
) -> None:
    found = values("month", [JAN, FEB, MARCH])
    # L2's upheld on 14 Jan; L3's raised and recorded in January, confirmed on 2 February;
    # L7's still open in March.
    assert [cells(found, "dispute_overturn_rate", m)[""] for m in (JAN, FEB, MARCH)] == [
        (0, 1), (1, 1), (0, 0)]  # fmt: skip
    assert cells(found, "dispute_overturn_rate", JAN, "reason") == {"bad_fit": (0, 1)}
    assert cells(found, "dispute_overturn_rate", FEB, "reason") == {"bad_fit": (1, 1)}
    assert cells(found, "dispute_overturn_rate", FEB, "owner") == {"rita": (1, 1)}
    assert cells(found, "dispute_overturn_rate", FEB, "campaign") == {"B": (1, 1)}
    assert cells(found, "dispute_overturn_rate", JAN, "owner") == {"sam": (0, 1)}
    # A quarter is its months.
    quarter = values("quarter", [JAN])
    assert cells(quarter, "dispute_overturn_rate", JAN)[""] == (1, 2)
    assert cells(quarter, "dispute_rate", JAN)[""] == (3, 4)
    assert cells(quarter, "followed_up_rate", JAN)[""] == (4, 10)


# --- with an SLA: deadlines ahead, withdrawals before them -----------------------------------


def test_a_pending_handoff_counts_in_followed_up_rate_once_its_deadline_passes(
    world: World, signed_sla: Callable[..., object]
) -> None:
    signed_sla()  # first contact within 4 hours
    called, quiet = world.lead(at("03-01T08:00")), world.lead(at("03-01T08:00"))
    for lead in (called, quiet):
        world.stage(lead, "mql", at("03-02T09:00"))  # due by 13:00
    world.attempt(called, at("03-02T10:00"))
    before = values("month", [MARCH], now=datetime(2026, 3, 2, 11, tzinfo=UTC))
    # Both pending with the deadline ahead: left out, even the one already called.
    assert cells(before, "followed_up_rate", MARCH)[""] == (0, 0)
    after = values("month", [MARCH], now=datetime(2026, 3, 2, 14, tzinfo=UTC))
    assert cells(after, "followed_up_rate", MARCH)[""] == (1, 2)
    # A decision before the deadline counts it at once.
    world.stage(quiet, "rejected", at("03-02T11:30"), reason="bad_fit")
    decided = values("month", [MARCH], now=datetime(2026, 3, 2, 12, tzinfo=UTC))
    assert cells(decided, "followed_up_rate", MARCH)[""] == (0, 1)
    assert cells(decided, "rejected_without_contact_rate", MARCH)[""] == (1, 1)


def test_the_sla_rates_leave_out_a_handoff_withdrawn_before_its_deadline_without_a_response(
    world: World, signed_sla: Callable[..., object]
) -> None:
    signed_sla()  # X = 4 h, Y = 3 attempts, Z = 2 days: the cadence window ends 6 Mar 13:00
    early, late, called, slow = (world.lead(at("03-01T08:00")) for _ in range(4))
    for lead in (early, late, called, slow):
        world.stage(lead, "mql", at("03-02T09:00"))  # first contact due by 13:00
    world.stage(early, "recycled", at("03-02T11:00"))  # before its deadline, never called
    world.stage(late, "recycled", at("03-03T09:00"))  # after its deadline, never called
    world.attempt(called, at("03-02T10:00"))
    world.stage(called, "disqualified", at("03-02T11:00"))
    world.attempt(slow, at("03-02T10:00"))
    world.stage(slow, "lost", at("03-10T09:00"))  # after the cadence window
    found = values("month", [MARCH])
    assert cells(found, "handoffs_withdrawn", MARCH)[""] == (4, None)
    assert cells(found, "acceptance_rate", MARCH)[""] == (0, 0)
    # Met: called, slow (10:00). Counted: those and late (its deadline passed unanswered).
    assert cells(found, "sla_first_contact_rate", MARCH)[""] == (2, 3)
    # Withdrawn inside the cadence window closes a handoff out; slow's one attempt misses it.
    assert cells(found, "sla_cadence_rate", MARCH)[""] == (0, 1)
    # A withdrawn handoff is no longer pending: each counts, called or not.
    assert cells(found, "followed_up_rate", MARCH)[""] == (2, 4)
    handoff = Handoff.objects.get(lead__external_id=early)
    assert (handoff.responded_at, handoff.decided_at) == (
        None,
        datetime(2026, 3, 2, 11, tzinfo=UTC),
    )


def test_a_call_after_a_withdrawal_responds_to_the_next_handoff_not_the_withdrawn_one(
    world: World, signed_sla: Callable[..., object]
) -> None:
    signed_sla()  # X = 4 h
    lead = world.lead(at("03-01T08:00"))
    world.stage(lead, "mql", at("03-02T09:00"))  # first contact due by 13:00
    world.stage(lead, "recycled", at("03-02T10:00"))  # withdrawn before it, never called
    world.stage(lead, "mql", at("03-02T11:00"))  # first contact due by 15:00
    world.attempt(lead, at("03-02T14:00"))  # in time for the new handoff only
    found = values("month", [MARCH])
    # The withdrawn handoff is left out: the call answered the handoff that was pending then.
    assert cells(found, "sla_first_contact_rate", MARCH)[""] == (1, 1)
    withdrawn = Handoff.objects.get(lead__external_id=lead, status=Handoff.Status.WITHDRAWN)
    assert withdrawn.responded_at is None


def test_a_call_after_a_withdrawal_follows_up_the_next_handoff_not_the_withdrawn_one(
    world: World,
) -> None:
    lead = world.lead(at("03-01T08:00"))
    world.stage(lead, "mql", at("03-02T09:00"))
    world.stage(lead, "recycled", at("03-09T09:00"))  # never called while it was sales'
    world.stage(lead, "mql", at("04-02T09:00"))
    world.attempt(lead, at("04-02T10:00"))
    found = values("month", [MARCH, APRIL])
    assert cells(found, "followed_up_rate", MARCH)[""] == (0, 1)
    assert cells(found, "followed_up_rate", APRIL)[""] == (1, 1)


def test_no_ledger_cell_is_left_without_a_total_in_an_empty_period(world: World) -> None:
    found = values("month", [APRIL])
    assert {m: cells(found, m, APRIL)[""] for m in LEDGER} == {
        "followed_up_rate": (0, 0), "rejected_without_contact_rate": (0, 0),
        "rejected_then_won_rate": (0, 0), "accepted_then_disqualified_rate": (0, 0),
        "handoffs_withdrawn": (0, None), "dispute_rate": (0, 0), "dispute_overturn_rate": (0, 0),
    }  # fmt: skip


def test_values_are_the_ratios_of_their_numerators_and_denominators(ledger: World) -> None:
    by_cell = {
        (v.metric, v.period_start, v.dimension, v.key): v.value
        for v in compute(kind="month", periods=[JAN], now=LATER)
    }
    assert by_cell[("followed_up_rate", JAN, "", "")] == Decimal("0.5")
    assert round(by_cell[("dispute_rate", JAN, "", "")], 4) == Decimal("0.6667")
    assert by_cell[("dispute_overturn_rate", JAN, "", "")] == 0
    assert by_cell[("rejected_then_won_rate", JAN, "reason", "not_ready")] == 1


def test_the_evidence_conditions_pick_the_handoffs_the_numbers_count(ledger: World) -> None:
    """What a drill-down lists: the same conditions, the rows behind each number above."""
    from django.db.models import Q

    from leads import evidence
    from leads.models import Dispute

    def picked(condition: Q, model: type = Handoff, lead: str = "lead__external_id") -> list:
        return sorted(model.objects.filter(condition).values_list(lead, flat=True))

    counted = evidence.follow_up_counted(LATER)
    assert picked(counted & evidence.followed_up()) == ["L1", "L3", "L4", "L6"]  # L1 in March
    assert picked(counted & evidence.not_followed_up()) == ["L1", "L2", "L3", "L5", "L5", "L7"]
    assert Handoff.objects.filter(counted).count() == 10  # the two partition every handoff
    assert picked(evidence.rejected_without_contact()) == ["L1", "L2", "L7"]
    assert picked(evidence.rejected_then_won()) == ["L1"]
    assert picked(evidence.accepted_then_disqualified()) == ["L4"]
    assert picked(evidence.withdrawn()) == ["L5"]
    assert picked(evidence.disputed()) == ["L2", "L3", "L7"]
    disputes = "handoff__lead__external_id"
    assert picked(evidence.dispute_resolved(), Dispute, disputes) == ["L2", "L3"]
    assert picked(evidence.dispute_overturned(), Dispute, disputes) == ["L3"]
    assert picked(evidence.dispute_open(), Dispute, disputes) == ["L7"]

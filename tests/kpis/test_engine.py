"""Hand-computed cases for every metric of SPEC §4 and every attribution model of SPEC §5."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
from django.test import override_settings

from alignment.models import ServiceLevelAgreement
from kpis.engine import compute
from leads.models import Handoff
from tests.conftest import World

pytestmark = pytest.mark.django_db

MARCH, APRIL, FEB, JAN = date(2026, 3, 1), date(2026, 4, 1), date(2026, 2, 1), date(2026, 1, 1)
LATER = datetime(2026, 11, 1, tzinfo=UTC)


def values(kind: str, periods: list[date], now: datetime = LATER) -> dict:
    """(metric, period, dimension, key, model) → (numerator, denominator, value)."""
    return {
        (v.metric, v.period_start, v.dimension, v.key, v.model): (
            v.numerator,
            v.denominator,
            None if v.value is None else round(v.value, 4),
        )
        for v in compute(kind=kind, periods=periods, now=now)
    }


def total(found: dict, metric: str, period: date, model: str = "") -> tuple:
    return found[(metric, period, "", "", model)]


@pytest.fixture
def march(world: World, sales_rep: object) -> World:
    """Three leads handed off in March 2026 (UTC), followed to their outcomes."""
    world.campaign("A", channel="webinar", starts_on="2026-03-01", ends_on="2026-03-31", cost=3100)
    world.campaign("B", channel="paid_search", starts_on="2026-03-01", ends_on="2026-03-31", cost=0)
    one = world.lead("2026-03-02T09:00:00+00:00", campaign="A", owner="sam", external_id="L1")
    two = world.lead("2026-03-05T09:00:00+00:00", campaign="B", segment="smb", external_id="L2")
    three = world.lead("2026-02-27T09:00:00+00:00", external_id="L3")
    world.stage(one, "mql", "2026-03-03T10:00:00+00:00")
    world.stage(two, "mql", "2026-03-04T10:00:00+00:00")
    world.stage(three, "mql", "2026-03-01T09:00:00+00:00")
    world.stage(one, "sal", "2026-03-03T12:00:00+00:00")
    world.stage(two, "rejected", "2026-04-01T09:00:00+00:00", reason="no_budget")
    world.stage(one, "sql", "2026-03-10T09:00:00+00:00")
    world.attempt(one, "2026-03-03T12:00:00+00:00")
    world.attempt(three, "2026-03-01T15:00:00+00:00")
    world.deal(
        one, 1000, "2026-03-12T09:00:00+00:00", status="won", closed_at="2026-03-20T09:00:00+00:00"
    )
    world.deal(
        three,
        500,
        "2026-03-15T09:00:00+00:00",
        status="lost",
        closed_at="2026-03-25T09:00:00+00:00",
    )
    world.deal(one, 300, "2026-03-28T09:00:00+00:00")
    return world


def test_flow_counts_follow_event_time(march: World) -> None:
    found = values("month", [FEB, MARCH, APRIL])
    assert total(found, "leads_created", MARCH)[0] == 2
    assert total(found, "leads_created", FEB)[0] == 1
    assert total(found, "mqls", MARCH)[0] == 3
    assert total(found, "sals", MARCH)[0] == 1
    assert total(found, "rejections", MARCH)[0] == 0
    assert total(found, "rejections", APRIL)[0] == 1
    assert found[("rejections", APRIL, "reason", "no_budget", "")][0] == 1
    assert total(found, "sqls", MARCH)[0] == 1
    assert total(found, "opportunities", MARCH)[0] == 3
    assert total(found, "deals_won", MARCH)[0] == 1
    assert total(found, "deals_lost", MARCH)[0] == 1
    assert total(found, "revenue_won", MARCH)[0] == 1000
    assert total(found, "avg_deal_size", MARCH) == (1000, 1, 1000)
    assert total(found, "win_rate", MARCH) == (1, 2, Decimal("0.5"))
    assert total(found, "sales_cycle_median_days", MARCH)[2] == 18


def test_the_waterfall_counts_each_lead_of_the_period_at_every_stage_up_to_its_furthest(
    march: World,
) -> None:
    found = values("month", [FEB, MARCH])
    steps = ["funnel_mqls", "funnel_sals", "funnel_sqls", "funnel_opportunities", "funnel_won"]
    # L1 won; L2 was handed off and rejected; L3 (February) has a lost deal but no SAL event.
    assert [total(found, m, MARCH)[0] for m in steps] == [2, 1, 1, 1, 1]
    assert [total(found, m, FEB)[0] for m in steps] == [1, 1, 1, 1, 0]
    assert [found[(m, MARCH, "campaign", "B", "")][0] for m in steps] == [1, 0, 0, 0, 0]
    assert [found[(m, MARCH, "owner", "sam", "")][0] for m in steps] == [1, 1, 1, 1, 1]


def test_open_pipeline_counts_deals_open_at_each_periods_end(march: World) -> None:
    found = values("month", [FEB, MARCH, APRIL])
    assert total(found, "pipeline_open", FEB)[0] == 0
    assert total(found, "pipeline_open", MARCH)[0] == 300  # won and lost deals closed in March
    assert total(found, "pipeline_open", APRIL)[0] == 300


def test_cohort_rates_follow_the_handoffs_of_the_period(march: World) -> None:
    found = values("month", [MARCH])
    assert total(found, "handoffs_pending", MARCH)[0] == 1
    assert total(found, "acceptance_rate", MARCH) == (1, 2, Decimal("0.5"))
    assert total(found, "sql_rate", MARCH) == (1, 1, 1)
    assert total(found, "mql_to_won_rate", MARCH) == (1, 3, Decimal("0.3333"))


def test_dimensions_break_the_totals_down(march: World) -> None:
    found = values("month", [MARCH, APRIL])
    assert found[("leads_created", MARCH, "campaign", "A", "")][0] == 1
    assert found[("leads_created", MARCH, "channel", "paid_search", "")][0] == 1
    assert found[("mqls", MARCH, "campaign", "(no campaign)", "")][0] == 1
    assert found[("mqls", MARCH, "owner", "sam", "")][0] == 1
    assert found[("mqls", MARCH, "owner", "(unassigned)", "")][0] == 2
    assert found[("mqls", MARCH, "segment", "smb", "")][0] == 1
    assert ("mqls", MARCH, "segment", "", "") not in found  # no segment: no member
    assert found[("revenue_won", MARCH, "owner", "sam", "")][0] == 1000


def test_speed_to_lead_and_first_contact_follow_the_sla(march: World) -> None:
    found = values("month", [MARCH])
    # L1: attempt 2 h after handoff (met); L3: 6 h (missed); L2: no attempt, decided weeks later.
    assert total(found, "sla_first_contact_rate", MARCH) == (1, 3, Decimal("0.3333"))
    assert total(found, "speed_to_lead_median_hours", MARCH)[2] == 4
    assert total(found, "speed_to_lead_p90_hours", MARCH)[2] == Decimal("5.6")


def test_campaign_cost_and_cost_per_lead(march: World) -> None:
    found = values("month", [MARCH])
    assert total(found, "campaign_cost", MARCH)[0] == 3100
    assert found[("campaign_cost", MARCH, "campaign", "A", "")][0] == 3100
    assert found[("cost_per_lead", MARCH, "campaign", "A", "")] == (3100, 1, 3100)
    assert total(found, "cost_per_lead", MARCH) == (3100, 2, 1550)
    assert total(found, "cost_per_customer", MARCH) == (3100, 1, 3100)


def test_marketing_sla_attainment_compares_sals_with_the_commitment(march: World) -> None:
    found = values("month", [MARCH])
    assert total(found, "marketing_sla_attainment", MARCH) == (1, 100, Decimal("0.01"))
    quarter = values("quarter", [date(2026, 1, 1)])
    assert total(quarter, "marketing_sla_attainment", date(2026, 1, 1))[1] == 300


def test_a_campaign_spanning_two_months_splits_its_cost_by_days(world: World) -> None:
    world.campaign("Span", starts_on="2026-01-20", ends_on="2026-02-08", cost=2000)
    found = values("month", [JAN, FEB])
    assert total(found, "campaign_cost", JAN)[0] == 1200  # 12 of 20 days
    assert total(found, "campaign_cost", FEB)[0] == 800


def test_a_campaigns_cost_per_lead_sql_and_customer_add_up_after_its_cost_has_stopped(
    world: World,
) -> None:
    world.campaign("A", channel="webinar", starts_on="2026-01-01", ends_on="2026-01-31", cost=3100)
    world.lead("2026-01-10T09:00:00+00:00", campaign="A")
    late = world.lead("2026-02-10T09:00:00+00:00", campaign="A")  # after its last cost day
    world.stage(late, "sql", "2026-02-12T09:00:00+00:00")
    world.deal(
        late, 700, "2026-02-13T09:00:00+00:00", status="won", closed_at="2026-03-02T09:00:00+00:00"
    )
    months, quarter = values("month", [JAN, FEB, MARCH]), values("quarter", [JAN])
    for dimension, key in [("campaign", "A"), ("channel", "webinar")]:
        for metric, events in [("cost_per_lead", 2), ("cost_per_sql", 1), ("cost_per_customer", 1)]:
            cells = [months.get((metric, m, dimension, key, "")) for m in (JAN, FEB, MARCH)]
            assert all(cells), (metric, dimension)  # February and March have their events
            whole = quarter[(metric, JAN, dimension, key, "")]
            assert sum(c[0] for c in cells) == whole[0] == 3100, (metric, dimension)
            assert sum(c[1] for c in cells) == whole[1] == events, (metric, dimension)
    assert months[("cost_per_lead", FEB, "campaign", "A", "")] == (0, 1, 0)


def test_periods_without_data_have_zero_counts_and_empty_ratios(world: World) -> None:
    found = values("week", [date(2026, 3, 2)])
    assert total(found, "mqls", date(2026, 3, 2)) == (0, None, 0)
    assert total(found, "acceptance_rate", date(2026, 3, 2)) == (0, 0, None)
    assert total(found, "speed_to_lead_median_hours", date(2026, 3, 2))[2] is None


# --- SLA edge cases ---------------------------------------------------------------------------


def test_a_handoff_decided_without_any_attempt_is_responded_by_its_decision(world: World) -> None:
    quick, slow = world.lead("2026-03-01T08:00:00+00:00"), world.lead("2026-03-01T08:00:00+00:00")
    for lead in (quick, slow):
        world.stage(lead, "mql", "2026-03-02T09:00:00+00:00")
    world.stage(quick, "rejected", "2026-03-02T10:00:00+00:00", reason="bad_fit")
    world.stage(slow, "sal", "2026-03-03T10:00:00+00:00")
    found = values("month", [MARCH])
    assert total(found, "sla_first_contact_rate", MARCH) == (1, 2, Decimal("0.5"))
    assert total(found, "speed_to_lead_median_hours", MARCH)[2] is None  # nobody was called


def test_a_handoff_whose_deadline_is_still_ahead_is_left_out(world: World) -> None:
    lead = world.lead("2026-03-01T08:00:00+00:00")
    world.stage(lead, "mql", "2026-03-02T09:00:00+00:00")
    soon = datetime(2026, 3, 2, 11, tzinfo=UTC)  # 2 h after the handoff, deadline at 13:00
    assert total(values("month", [MARCH], now=soon), "sla_first_contact_rate", MARCH) == (
        0,
        0,
        None,
    )
    late = datetime(2026, 3, 2, 14, tzinfo=UTC)
    assert total(values("month", [MARCH], now=late), "sla_first_contact_rate", MARCH) == (0, 1, 0)


def _cadence_sla(**extra: object) -> None:
    ServiceLevelAgreement.objects.create(
        version=2,
        effective_from=datetime(2026, 1, 1, tzinfo=UTC),
        status="approved",
        first_contact_hours=Decimal(4),
        attempts=3,
        attempt_spacing_days=Decimal(2),
        monthly_sal_commitment=50,
        **extra,
    )


def test_cadence_counts_handoffs_with_enough_attempts_inside_the_window(world: World) -> None:
    _cadence_sla()  # window: 4 h + 2 × 2 days after the handoff
    worked, thin, won_over, open_window = (
        world.lead("2026-03-01T08:00:00+00:00") for _ in range(4)
    )
    for lead in (worked, thin, won_over):
        world.stage(lead, "mql", "2026-03-02T09:00:00+00:00")
    world.stage(open_window, "mql", "2026-03-30T09:00:00+00:00")
    for day in (2, 3, 4):
        world.attempt(worked, f"2026-03-0{day}T12:00:00+00:00")
    world.attempt(thin, "2026-03-02T12:00:00+00:00")
    world.attempt(thin, "2026-03-20T12:00:00+00:00")  # outside the window
    world.attempt(won_over, "2026-03-02T12:00:00+00:00", outcome="connected")  # closed out
    found = values("month", [MARCH], now=datetime(2026, 4, 1, tzinfo=UTC))
    # worked: 3 attempts (met); thin: 1 inside (missed); won_over: closed out; open_window: ahead.
    assert total(found, "sla_cadence_rate", MARCH) == (1, 2, Decimal("0.5"))


def test_business_hours_skip_the_weekend_and_a_dst_change(world: World) -> None:
    _cadence_sla(
        business_days="1,2,3,4,5",
        business_start=time(9),
        business_end=time(17),
        business_timezone="Europe/Berlin",
    )
    lead = world.lead("2026-03-20T08:00:00+00:00")
    # Friday 27 March 15:00 Berlin (CET); clocks go forward on Sunday 29 March.
    world.stage(lead, "mql", "2026-03-27T14:00:00+00:00")
    # Monday 30 March 10:00 Berlin (CEST): 2 business hours on Friday + 1 on Monday.
    world.attempt(lead, "2026-03-30T08:00:00+00:00")
    handoff = Handoff.objects.get()
    assert handoff.first_contact_due_at == datetime(2026, 3, 30, 9, tzinfo=UTC)  # Mon 11:00 CEST
    found = values("month", [MARCH])
    assert total(found, "speed_to_lead_median_hours", MARCH)[2] == 3
    assert total(found, "sla_first_contact_rate", MARCH) == (1, 1, 1)


def test_metrics_use_the_sla_version_in_effect_at_each_handoff(world: World) -> None:
    ServiceLevelAgreement.objects.create(
        version=2, effective_from=datetime(2026, 3, 15, tzinfo=UTC), status="approved",
        first_contact_hours=Decimal(1), attempts=2, attempt_spacing_days=Decimal(1),
        monthly_sal_commitment=10,
    )  # fmt: skip
    before, after = world.lead("2026-03-01T08:00:00+00:00"), world.lead("2026-03-01T08:00:00+00:00")
    world.stage(before, "mql", "2026-03-10T09:00:00+00:00")
    world.stage(after, "mql", "2026-03-20T09:00:00+00:00")
    world.attempt(before, "2026-03-10T11:00:00+00:00")  # 2 h: met under v1 (4 h)
    world.attempt(after, "2026-03-20T11:00:00+00:00")  # 2 h: missed under v2 (1 h)
    assert total(values("month", [MARCH]), "sla_first_contact_rate", MARCH) == (
        1,
        2,
        Decimal("0.5"),
    )


# --- recycled leads, time zones ---------------------------------------------------------------


def test_a_recycled_lead_with_two_handoffs_counts_in_both_cohorts(world: World) -> None:
    lead = world.lead("2026-01-05T08:00:00+00:00")
    world.stage(lead, "mql", "2026-01-06T09:00:00+00:00")
    world.stage(lead, "rejected", "2026-01-07T09:00:00+00:00", reason="not_ready")
    world.stage(lead, "recycled", "2026-01-08T09:00:00+00:00")
    world.stage(lead, "mql", "2026-03-02T09:00:00+00:00")
    world.stage(lead, "sal", "2026-03-02T10:00:00+00:00")
    found = values("month", [JAN, MARCH])
    assert total(found, "mqls", JAN)[0] == total(found, "mqls", MARCH)[0] == 1
    assert total(found, "acceptance_rate", JAN) == (0, 1, 0)
    assert total(found, "acceptance_rate", MARCH) == (1, 1, 1)


@override_settings(TIME_ZONE="Europe/Berlin")
def test_periods_at_year_and_quarter_boundaries_use_the_organisations_time_zone(
    world: World,
) -> None:
    world.lead("2025-12-31T23:30:00+00:00")  # 00:30 on 1 January in Berlin
    world.lead("2026-03-31T22:30:00+00:00")  # 00:30 on 1 April in Berlin (CEST)
    world.lead("2026-03-31T21:30:00+00:00")  # 23:30 on 31 March in Berlin
    months = values("month", [date(2025, 12, 1), JAN, MARCH, APRIL])
    assert total(months, "leads_created", date(2025, 12, 1))[0] == 0
    assert total(months, "leads_created", JAN)[0] == 1
    assert total(months, "leads_created", MARCH)[0] == 1
    assert total(months, "leads_created", APRIL)[0] == 1
    quarters = values("quarter", [date(2025, 10, 1), JAN, APRIL])
    assert [total(quarters, "leads_created", q)[0] for q in (date(2025, 10, 1), JAN, APRIL)] == [
        0,
        2,
        1,
    ]
    weeks = values("week", [date(2025, 12, 29)])  # the ISO week holding 1 January 2026
    assert total(weeks, "leads_created", date(2025, 12, 29))[0] == 1


# --- attribution through the database ---------------------------------------------------------


@pytest.fixture
def worked_example(world: World) -> World:
    """SPEC §5: a deal of 1,000 closed on Feb 4 after touches on A, B, C, B, D."""
    for name, cost in [("A", 100), ("B", 0), ("C", 0), ("D", 0)]:
        world.campaign(name, starts_on="2026-02-01", ends_on="2026-02-28", cost=cost)
    lead = world.lead("2026-01-01T08:00:00+00:00")
    for day, campaign in [(1, "A"), (5, "B"), (10, "C"), (20, "B"), (28, "D")]:
        world.touch(lead, campaign, f"2026-01-{day:02d}T10:00:00+00:00")
    world.touch(lead, "A", "2026-02-05T10:00:00+00:00")  # after the close: ignored
    world.stage(lead, "mql", "2026-01-12T10:00:00+00:00")
    world.deal(
        lead, 1000, "2026-01-25T10:00:00+00:00", status="won", closed_at="2026-02-04T10:00:00+00:00"
    )
    return world


EXPECTED = {
    "first_touch": {"A": 1000, "B": 0, "C": 0, "D": 0},
    "last_touch": {"A": 0, "B": 0, "C": 0, "D": 1000},
    "linear": {"A": 200, "B": 400, "C": 200, "D": 200},
    "u_shaped": {"A": 400, "B": "133.33", "C": "66.67", "D": 400},
    "w_shaped": {"A": 300, "B": 350, "C": 300, "D": 50},
    "time_decay": {"A": "38.49", "B": "309.82", "C": "93.85", "D": "557.83"},
}


@pytest.mark.parametrize("model", list(EXPECTED))
def test_attributed_revenue_matches_the_worked_example(worked_example: World, model: str) -> None:
    found = values("month", [FEB])
    for campaign, amount in EXPECTED[model].items():
        credited = found.get(("attributed_revenue", FEB, "campaign", campaign, model), (0,))[0]
        assert round(credited, 2) == Decimal(str(amount)), (model, campaign)
    assert total(found, "attributed_revenue", FEB, model)[0] == 1000


def test_campaign_roi_sets_attributed_revenue_against_cost(worked_example: World) -> None:
    found = values("month", [FEB])
    assert found[("campaign_roi", FEB, "campaign", "A", "linear")] == (100, 100, 1)  # (200−100)/100
    assert found[("campaign_roi", FEB, "campaign", "A", "first_touch")] == (900, 100, 9)
    assert found[("campaign_roi", FEB, "campaign", "B", "linear")][2] is None  # no cost


def test_a_won_deal_without_touches_is_credited_to_no_campaign(world: World) -> None:
    lead = world.lead("2026-01-01T08:00:00+00:00")
    world.deal(
        lead, 700, "2026-01-25T10:00:00+00:00", status="won", closed_at="2026-02-04T10:00:00+00:00"
    )
    found = values("month", [FEB])
    for model in EXPECTED:
        assert found[("attributed_revenue", FEB, "campaign", "(no campaign)", model)][0] == 700


def test_two_touches_at_the_same_instant_are_ordered_by_their_id(world: World) -> None:
    for name in ("First", "Second"):
        world.campaign(name)
    lead = world.lead("2026-01-01T08:00:00+00:00")
    world.touch(lead, "First", "2026-01-10T10:00:00+00:00")
    world.touch(lead, "Second", "2026-01-10T10:00:00+00:00")
    world.deal(
        lead, 100, "2026-01-25T10:00:00+00:00", status="won", closed_at="2026-02-04T10:00:00+00:00"
    )
    found = values("month", [FEB])
    assert found[("attributed_revenue", FEB, "campaign", "First", "first_touch")][0] == 100
    assert found[("attributed_revenue", FEB, "campaign", "Second", "last_touch")][0] == 100


# --- the daily partials -----------------------------------------------------------------------


def test_days_come_in_runs_of_consecutive_days() -> None:
    from kpis.engine import day_runs

    days = [date(2026, 3, 3), date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 9), JAN]
    assert day_runs(days) == ((JAN, JAN), (MARCH, date(2026, 3, 3)), (date(2026, 3, 9),) * 2)


def test_refreshing_a_day_again_writes_nothing_and_a_change_names_only_what_it_moved(
    world: World,
) -> None:
    from kpis.engine import days_refresh, metrics_moved

    lead = world.lead("2026-03-02T09:00:00+00:00", external_id="L1")
    world.stage(lead, "mql", "2026-03-02T10:00:00+00:00")
    day = [date(2026, 3, 2)]
    assert ("leads_created", date(2026, 3, 2)) in days_refresh(days=day, now=LATER)
    assert days_refresh(days=day, now=LATER) == set()
    world.stage(lead, "sal", "2026-03-02T12:00:00+00:00")
    days_refresh(days=day, now=LATER)
    world.stage(lead, "sql", "2026-03-09T10:00:00+00:00")
    changed = days_refresh(days=[*day, date(2026, 3, 9)], now=LATER)
    assert {("sqls", date(2026, 3, 9)), ("sql_rate", day[0]), ("funnel_sqls", day[0])} <= changed
    assert not {m for m, _ in changed} & {"leads_created", "mqls", "sals", "acceptance_rate"}
    assert metrics_moved({"sqls"}) == {"sqls", "cost_per_sql", "campaign_cost", "cost_per_lead",
                                       "cost_per_customer", "attributed_revenue", "campaign_roi"}  # fmt: skip


def test_a_period_is_the_sum_of_its_stored_days(march: World) -> None:
    from kpis.engine import periods_compute
    from kpis.models import KpiDaily

    compute(kind="month", periods=[MARCH], now=LATER)
    days = KpiDaily.objects.filter(metric="leads_created", dimension="", day__month=3)
    assert sorted(d.day.day for d in days) == [2, 5]  # L3 came in February
    only = periods_compute(kind="month", periods=[MARCH], now=LATER, metrics=["leads_created"])
    assert {(v.metric, v.dimension, v.numerator) for v in only if v.dimension in ("", "segment")} == {
        ("leads_created", "", 2), ("leads_created", "segment", 1)}  # fmt: skip


def test_each_family_writes_only_the_metrics_it_declares(
    march: World, heads: tuple[object, object], marketing_rep: object
) -> None:
    from zoneinfo import ZoneInfo

    from kpis import engine

    # L2's rejection of 1 April, disputed and settled the next day.
    march.dispute(
        "L2", by=marketing_rep, at="2026-04-02T09:00:00+00:00", outcome="upheld", heads=heads
    )

    scope = engine._Days(((FEB, date(2026, 4, 30)),), ZoneInfo("UTC"), LATER)
    for family in engine.FAMILIES:
        out = engine._Results()
        family.compute(scope, out)
        written = {v.metric for v in out.values()}
        assert written, family.part
        assert written <= set(family.metrics), family.part

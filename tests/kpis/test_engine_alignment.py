"""The alignment family of the metric engine (SPEC §4): goals, the scorecard, forecasts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from alignment.models import Goal, PayoutCurve, RevenueForecast
from kpis.engine import compute
from kpis.models import KpiSnapshot
from kpis.services import kpis_recompute
from tests.conftest import World

pytestmark = pytest.mark.django_db

MARCH, APRIL = date(2026, 3, 1), date(2026, 4, 1)
LATER = datetime(2026, 11, 1, tzinfo=UTC)


def values(kind: str, periods: list[date]) -> dict:
    return {
        (v.metric, v.period_start, v.dimension, v.key): (v.numerator, v.denominator, v.value)
        for v in compute(kind=kind, periods=periods, now=LATER)
    }


def make_goal(metric: str, target: str, direction: str, weight: str = "1", **extra: object) -> Goal:
    # Goals are written straight to the table here: the services refuse finished periods.
    return Goal.objects.create(
        name=metric,
        metric=metric,
        target=Decimal(target),
        direction=direction,
        period="month",
        period_start=MARCH,
        weight=Decimal(weight),
        **extra,
    )


@pytest.fixture
def march(world: World, sales_rep: object) -> World:
    """March 2026: 4 handoffs, 3 accepted and 1 rejected; 2 deals won for 3,000."""
    leads = [world.lead("2026-03-01T08:00:00+00:00", owner="sam") for _ in range(4)]
    for n, lead in enumerate(leads, start=2):
        world.stage(lead, "mql", f"2026-03-0{n}T09:00:00+00:00")
    for lead in leads[:3]:
        world.stage(lead, "sal", "2026-03-10T09:00:00+00:00")
    world.stage(leads[3], "rejected", "2026-03-10T09:00:00+00:00", reason="bad_fit")
    for lead, amount in [(leads[0], 1000), (leads[1], 2000)]:
        world.deal(
            lead, amount, "2026-03-12T09:00:00+00:00", status="won",
            closed_at="2026-03-20T09:00:00+00:00",
        )  # fmt: skip
    return world


def test_goal_attainment_of_a_higher_is_better_goal_is_actual_over_target(march: World) -> None:
    goal = make_goal("sals", "4", "higher")
    found = values("month", [MARCH])
    assert found[("goal_attainment", MARCH, "goal", str(goal.pk))] == (3, 4, Decimal("0.75"))


def test_goal_attainment_of_a_lower_is_better_goal_is_target_over_actual(march: World) -> None:
    goal = make_goal("rejections", "2", "lower")
    zero = make_goal("deals_lost", "3", "lower")  # none lost: it attains the cap
    found = values("month", [MARCH])
    assert found[("goal_attainment", MARCH, "goal", str(goal.pk))] == (2, 1, 2)
    assert found[("goal_attainment", MARCH, "goal", str(zero.pk))][2] == Decimal("1.5")


def test_goal_attainment_reads_rates_and_dimension_members(march: World) -> None:
    rate = make_goal("acceptance_rate", "0.5", "higher")
    owner = make_goal("mqls", "8", "higher", dimension="owner", key="sam")
    found = values("month", [MARCH])
    assert found[("goal_attainment", MARCH, "goal", str(rate.pk))][2] == Decimal("1.5")  # 0.75/0.5
    assert found[("goal_attainment", MARCH, "goal", str(owner.pk))] == (4, 8, Decimal("0.5"))


def test_the_scorecard_is_the_weighted_mean_of_capped_attainments(march: World) -> None:
    make_goal("sals", "4", "higher", weight="3")  # 0.75
    make_goal("revenue_won", "1000", "higher", weight="1")  # 3.0, capped at 1.5
    found = values("month", [MARCH])
    numerator, denominator, value = found[("scorecard_attainment", MARCH, "", "")]
    assert (numerator, denominator) == (Decimal("3.75"), 4)
    assert value == Decimal("0.9375")


def test_the_scorecard_caps_at_the_payout_curve_in_effect(march: World) -> None:
    PayoutCurve.objects.create(effective_from=date(2026, 1, 1), cap=Decimal(2), cap_payout=2)
    make_goal("revenue_won", "1000", "higher")
    found = values("month", [MARCH])
    assert found[("scorecard_attainment", MARCH, "", "")][2] == 2


def test_a_goal_without_a_value_is_left_out_of_the_scorecard(world: World) -> None:
    rate = make_goal("sql_rate", "0.5", "higher")  # nothing accepted: no rate
    make_goal("leads_created", "1", "higher")
    world.lead("2026-03-05T08:00:00+00:00")
    found = values("month", [MARCH])
    assert found[("scorecard_attainment", MARCH, "", "")] == (1, 1, 1)
    assert ("goal_attainment", MARCH, "goal", str(rate.pk)) not in found


def test_forecast_accuracy_compares_the_forecast_with_revenue_won(march: World) -> None:
    RevenueForecast.objects.create(
        period="month", period_start=MARCH, amount=Decimal(2400), entered_at=LATER
    )
    RevenueForecast.objects.create(
        period="month", period_start=APRIL, amount=Decimal(100), entered_at=LATER
    )
    found = values("month", [MARCH, APRIL])
    assert found[("forecast_accuracy", MARCH, "", "")] == (2400, 3000, Decimal("0.8"))
    assert found[("forecast_accuracy", APRIL, "", "")][2] is None  # nothing won: no accuracy


def test_a_goal_on_forecast_accuracy_reads_the_same_computation(march: World) -> None:
    RevenueForecast.objects.create(
        period="month", period_start=MARCH, amount=Decimal(2400), entered_at=LATER
    )
    goal = make_goal("forecast_accuracy", "0.9", "higher")
    found = values("month", [MARCH])
    assert found[("goal_attainment", MARCH, "goal", str(goal.pk))][2] == Decimal("0.8") / Decimal(
        "0.9"
    )


def test_goal_attainment_is_stored_and_read_through_the_kpi_api(
    march: World, admin_user: object
) -> None:
    from tests.conftest import token_client

    goal = make_goal("sals", "4", "higher")
    kpis_recompute(kind="month", periods=[MARCH], now=LATER)
    assert KpiSnapshot.objects.get(metric="goal_attainment", key=str(goal.pk)).value == Decimal(
        "0.75"
    )
    response = token_client(admin_user).get(
        "/api/v1/kpis/",
        {"metric": "goal_attainment", "period": "month", "start": "2026-03-01",
         "end": "2026-03-01", "dimension": "goal"},
    )  # fmt: skip
    assert response.status_code == 200
    assert [(row["key"], row["value"]) for row in response.json()] == [(str(goal.pk), 0.75)]

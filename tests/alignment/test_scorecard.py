"""The scorecard's arithmetic, apart from Django: attainment, pace, weighting, payout, accuracy."""

from __future__ import annotations

from decimal import Decimal

import pytest

from alignment.scorecard import (
    DEFAULT_CURVE,
    Pace,
    PayoutCurve,
    attainment,
    capped,
    contributions,
    curve_errors,
    forecast_accuracy,
    pace,
    project,
    scorecard_attainment,
    team_owns,
    team_payout,
)

D = Decimal
CAP = D("1.5")


def test_a_higher_is_better_goal_attains_actual_over_target() -> None:
    ratio = attainment(D(45), D(60), higher_is_better=True, cap=CAP)
    assert (ratio.numerator, ratio.denominator, ratio.value) == (45, 60, D("0.75"))


def test_a_lower_is_better_goal_attains_target_over_actual() -> None:
    ratio = attainment(D(8), D(4), higher_is_better=False, cap=CAP)  # 8 h against 4 h
    assert (ratio.numerator, ratio.denominator, ratio.value) == (4, 8, D("0.5"))
    assert attainment(D(2), D(4), higher_is_better=False, cap=CAP).value == 2


def test_a_lower_is_better_goal_at_zero_attains_the_cap() -> None:
    assert attainment(D(0), D(10), higher_is_better=False, cap=CAP).value == CAP


def test_a_goal_without_an_actual_has_no_attainment() -> None:
    assert attainment(None, D(10), higher_is_better=True, cap=CAP) is None


@pytest.mark.parametrize(
    ("attained", "multiplier"),
    [
        ("0.4999", "0"),  # below the threshold: nothing
        ("0.5", "0.5"),  # at the threshold
        ("0.75", "0.75"),  # linear to the target
        ("1", "1"),  # at target
        ("1.2", "1.2"),  # linear to the cap
        ("1.5", "1.5"),  # at the cap
        ("2.4", "1.5"),  # capped
    ],
)
def test_the_default_payout_curve_at_threshold_target_and_cap(
    attained: str, multiplier: str
) -> None:
    assert DEFAULT_CURVE.payout(D(attained)) == D(multiplier)


def test_a_curve_starting_at_zero_rises_linearly_from_the_threshold() -> None:
    curve = PayoutCurve(threshold=D("0.5"), threshold_payout=D(0), target=D(1), cap=D("1.5"))
    assert curve.payout(D("0.5")) == 0
    assert curve.payout(D("0.75")) == D("0.5")
    assert curve.payout(D(1)) == 1
    assert curve.payout(None) == 0


def test_a_curve_with_a_steeper_top_pays_more_above_target() -> None:
    curve = PayoutCurve(target=D(1), cap=D("1.2"), cap_payout=D(2))
    assert curve.payout(D("1.1")) == D("1.5")
    assert curve.payout(D(3)) == 2


def test_it_refuses_a_curve_whose_cap_is_below_its_target() -> None:
    assert curve_errors(
        threshold=D("0.5"), threshold_payout=D("0.5"), target=D(1), cap=D("0.9"), cap_payout=D(1)
    ) == ["The cap must be above the target."]
    with pytest.raises(ValueError, match="cap must be above"):
        PayoutCurve(cap=D("0.9"))


def test_scorecard_attainment_weighs_goals_and_caps_each_one() -> None:
    ratio = scorecard_attainment([(D("0.8"), D(1)), (D(3), D(1)), (D("1.0"), D(2))], cap=CAP)
    # (0.8·1 + 1.5·1 + 1.0·2) / 4: the 300 % goal counts as 150 %.
    assert ratio.value == D("1.075")


def test_scorecard_attainment_leaves_out_goals_without_a_value_and_floors_at_zero() -> None:
    ratio = scorecard_attainment([(None, D(5)), (D("-0.5"), D(1)), (D(1), D(1))], cap=CAP)
    assert (ratio.numerator, ratio.denominator) == (1, 2)
    assert scorecard_attainment([], cap=CAP).value is None


def test_counts_project_linearly_and_rates_keep_their_current_value() -> None:
    assert project(D(30), elapsed=D("0.5"), accumulates=True) == 60
    assert project(D("0.4"), elapsed=D("0.5"), accumulates=False) == D("0.4")
    assert project(D(30), elapsed=D(1), accumulates=True) == 30
    assert project(D(30), elapsed=D(0), accumulates=True) is None


@pytest.mark.parametrize(
    ("attained", "expected"),
    [("1", Pace.ON_TRACK), ("1.3", Pace.ON_TRACK), ("0.9", Pace.AT_RISK), ("0.89", Pace.OFF_TRACK)],
)
def test_pace_is_on_track_at_target_at_risk_within_ten_percent_else_off(
    attained: str, expected: Pace
) -> None:
    assert pace(D(attained)) is expected


def test_pace_of_a_lower_is_better_goal_reads_its_inverted_attainment() -> None:
    projected = project(D(11), elapsed=D(1), accumulates=True)  # 11 rejections against 10
    assert pace(attainment(projected, D(10), higher_is_better=False, cap=CAP).value) is (
        Pace.AT_RISK
    )


def test_forecast_accuracy_is_one_minus_the_relative_error() -> None:
    assert forecast_accuracy(D(1000), D(900)).value == D("0.9")
    assert forecast_accuracy(D(1000), D(1100)).value == D("0.9")
    assert forecast_accuracy(D(1000), D(1000)).value == 1
    assert forecast_accuracy(D(1000), D(2500)).value == D("-0.5")
    assert forecast_accuracy(D(0), D(100)).value is None


# --- contributions and each team's payout ---------------------------------------------------


def test_an_attainment_counts_clamped_to_zero_and_the_cap() -> None:
    assert capped(D("1.8"), cap=CAP) == CAP
    assert capped(D("-0.2"), cap=CAP) == 0
    assert capped(D("0.7"), cap=CAP) == D("0.7")
    assert capped(None, cap=CAP) is None


def test_the_contributions_add_up_to_the_scorecard_attainment() -> None:
    # weights 2, 1, 1 (a fourth goal has no value yet): 2/4 · 0.9 + 1/4 · 1.5 + 1/4 · 0.4
    goals = [(D("0.9"), D(2)), (D("1.8"), D(1)), (D("0.4"), D(1)), (None, D(3))]
    parts = contributions(goals, cap=CAP)
    assert parts == [D("0.45"), D("0.375"), D("0.1"), None]
    assert sum(p for p in parts if p is not None) == scorecard_attainment(goals, cap=CAP).value
    assert sum(parts[:3]) == D("0.925")


def test_a_goal_of_both_teams_counts_for_each_team() -> None:
    assert team_owns("both", "marketing") and team_owns("both", "sales")
    assert team_owns("sales", "sales") and not team_owns("sales", "marketing")


def test_each_team_is_paid_on_the_goals_it_owns_now_and_at_the_current_pace() -> None:
    goals = [
        # owner, attainment now, projected attainment, weight
        ("both", D("0.6"), D("1.2"), D(2)),
        ("marketing", D("0.4"), D("0.8"), D(1)),
        ("sales", D("0.9"), D("1.8"), D(1)),
    ]
    marketing = team_payout("marketing", goals, curve=DEFAULT_CURVE)
    # marketing: (2 · 0.6 + 1 · 0.4) / 3 = 0.5333…; the default curve pays the attainment
    assert marketing.goals == 2
    assert marketing.attainment == (D("1.6") / D(3))
    assert marketing.payout == marketing.attainment
    # at pace: (2 · 1.2 + 0.8) / 3 = 1.0666…
    assert marketing.projected_attainment == D("3.2") / D(3)
    sales = team_payout("sales", goals, curve=DEFAULT_CURVE)
    # sales: (2 · 0.6 + 0.9) / 3 = 0.7; at pace (2 · 1.2 + 1.5 capped) / 3 = 1.3
    assert (sales.attainment, sales.payout) == (D("0.7"), D("0.7"))
    assert (sales.projected_attainment, sales.projected_payout) == (D("1.3"), D("1.3"))


def test_a_team_below_the_threshold_gets_nothing_and_a_team_without_goals_too() -> None:
    curve = PayoutCurve(threshold=D("0.8"), threshold_payout=D("0.5"), cap=D(2), cap_payout=D(3))
    goals = [("sales", D("0.7"), D("0.9"), D(1))]
    sales = team_payout("sales", goals, curve=curve)
    # 0.7 is below the threshold 0.8; at pace 0.9 pays 0.5 + 0.5 · (0.1 / 0.2) = 0.75
    assert (sales.payout, sales.projected_payout) == (0, D("0.75"))
    marketing = team_payout("marketing", goals, curve=curve)
    assert (marketing.goals, marketing.attainment, marketing.payout) == (0, None, 0)

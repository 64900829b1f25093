"""The scorecard's arithmetic, apart from Django: attainment, pace, weighting, payout, accuracy."""

from __future__ import annotations

from decimal import Decimal

import pytest

from alignment.scorecard import (
    DEFAULT_CURVE,
    Pace,
    PayoutCurve,
    attainment,
    curve_errors,
    forecast_accuracy,
    pace,
    project,
    scorecard_attainment,
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

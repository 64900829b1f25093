"""The attribution models of SPEC §5, hand-computed cases and properties (no database)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.attribution import (
    CENT,
    CREDIT_QUANTUM,
    MODEL_DEFINITIONS,
    MODEL_LABELS,
    MODELS,
    NO_CAMPAIGN,
    DealContext,
    Touch,
    counted_touches,
    credit,
    credit_all,
)


def at(month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=UTC)


def in_cents(credits: dict[str | int, Decimal]) -> dict[str | int, Decimal]:
    """Credits as shown to the cent, zero credits left out (as in the SPEC table)."""
    return {key: value.quantize(CENT) for key, value in credits.items() if value}


# --- the SPEC §5 worked example ----------------------------------------------------------

EXAMPLE_TOUCHES = (
    Touch(1, at(1, 1), "A"),
    Touch(2, at(1, 5), "B"),
    Touch(3, at(1, 10), "C"),
    Touch(4, at(1, 20), "B"),
    Touch(5, at(1, 28), "D"),
)
EXAMPLE_DEAL = DealContext(
    amount=Decimal("1000.00"),
    closed_at=at(2, 4),
    created_at=at(1, 25),
    first_mql_at=at(1, 12),
)
EXAMPLE_TABLE = {
    "first_touch": {"A": "1000"},
    "last_touch": {"D": "1000"},
    "linear": {"A": "200", "B": "400", "C": "200", "D": "200"},
    "u_shaped": {"A": "400", "B": "133.33", "C": "66.67", "D": "400"},
    "w_shaped": {"A": "300", "B": "350", "C": "300", "D": "50"},
    "time_decay": {"A": "38.49", "B": "309.82", "C": "93.85", "D": "557.83"},
}


@pytest.mark.parametrize("model", MODELS)
def test_the_spec_worked_example_comes_out_to_the_cent(model: str) -> None:
    credits = credit(model, EXAMPLE_TOUCHES, **EXAMPLE_DEAL._asdict())

    expected = {key: Decimal(value).quantize(CENT) for key, value in EXAMPLE_TABLE[model].items()}
    assert in_cents(credits) == expected
    assert sum(credits.values()) == EXAMPLE_DEAL.amount


def test_the_worked_example_lists_every_campaign_in_first_touch_order() -> None:
    credits = credit("first_touch", EXAMPLE_TOUCHES, **EXAMPLE_DEAL._asdict())

    assert list(credits) == ["A", "B", "C", "D"]
    assert credits["B"] == credits["C"] == credits["D"] == 0


def test_credit_all_gives_every_model_the_same_answer_as_credit() -> None:
    everything = credit_all(EXAMPLE_TOUCHES, **EXAMPLE_DEAL._asdict())

    assert tuple(everything) == MODELS
    for model in MODELS:
        assert everything[model] == credit(model, EXAMPLE_TOUCHES, **EXAMPLE_DEAL._asdict())


def test_default_credits_keep_six_decimals_so_the_table_shows_to_the_cent() -> None:
    credits = credit("time_decay", EXAMPLE_TOUCHES, **EXAMPLE_DEAL._asdict())

    assert credits == {
        "A": Decimal("38.493691"),
        "B": Decimal("309.823290"),
        "C": Decimal("93.848670"),
        "D": Decimal("557.834349"),
    }


def test_whole_cent_credits_put_the_spare_cent_where_the_largest_remainder_is() -> None:
    # The table's time-decay row adds up to 999.99: whole cents that sum to 1000 must move
    # one cent, and it goes to the largest remainder (D, 557.834 → 557.84; C is 93.849).
    credits = credit("time_decay", EXAMPLE_TOUCHES, **EXAMPLE_DEAL._asdict(), quantum=CENT)

    assert credits == {
        "A": Decimal("38.49"),
        "B": Decimal("309.82"),
        "C": Decimal("93.85"),
        "D": Decimal("557.84"),
    }
    assert sum(credits.values()) == Decimal("1000.00")


def test_whole_cent_u_shaped_credits_round_per_campaign_not_per_touch() -> None:
    credits = credit("u_shaped", EXAMPLE_TOUCHES, **EXAMPLE_DEAL._asdict(), quantum=CENT)

    assert credits == {
        "A": Decimal("400.00"),
        "B": Decimal("133.33"),
        "C": Decimal("66.67"),
        "D": Decimal("400.00"),
    }


# --- edge cases ------------------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
def test_a_deal_without_touches_is_credited_to_no_campaign(model: str) -> None:
    credits = credit(model, [], **EXAMPLE_DEAL._asdict())

    assert credits == {NO_CAMPAIGN: Decimal("1000.00")}


@pytest.mark.parametrize("model", MODELS)
def test_a_deal_whose_touches_all_come_after_the_close_is_credited_to_no_campaign(
    model: str,
) -> None:
    credits = credit(model, [Touch(1, at(3, 1), "A")], **EXAMPLE_DEAL._asdict())

    assert credits == {NO_CAMPAIGN: Decimal("1000.00")}


@pytest.mark.parametrize("model", MODELS)
def test_a_touch_after_the_close_is_ignored(model: str) -> None:
    late = Touch(6, EXAMPLE_DEAL.closed_at + timedelta(microseconds=1), "LATE")
    with_late = credit(model, [*EXAMPLE_TOUCHES, late], **EXAMPLE_DEAL._asdict())

    assert with_late == credit(model, EXAMPLE_TOUCHES, **EXAMPLE_DEAL._asdict())
    assert "LATE" not in with_late


def test_a_touch_at_the_very_moment_of_the_close_counts() -> None:
    closing = Touch(6, EXAMPLE_DEAL.closed_at, "E")

    credits = credit("last_touch", [*EXAMPLE_TOUCHES, closing], **EXAMPLE_DEAL._asdict())

    assert credits["E"] == Decimal("1000")


@pytest.mark.parametrize("model", MODELS)
def test_a_single_touch_gets_the_whole_deal(model: str) -> None:
    credits = credit(model, [Touch(7, at(1, 15), "A")], **EXAMPLE_DEAL._asdict())

    assert credits == {"A": Decimal("1000")}


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("first_touch", {"low id": "1000", "high id": "0"}),
        ("last_touch", {"low id": "0", "high id": "1000"}),
        ("linear", {"low id": "500", "high id": "500"}),
        ("u_shaped", {"low id": "500", "high id": "500"}),
        ("time_decay", {"low id": "500", "high id": "500"}),
    ],
)
def test_two_touches_at_the_same_instant_are_ordered_by_id(
    model: str, expected: dict[str, str]
) -> None:
    same = at(1, 15, 10, 30)
    touches = [Touch(42, same, "high id"), Touch(41, same, "low id")]

    credits = credit(model, touches, **EXAMPLE_DEAL._asdict())

    assert credits == {key: Decimal(value) for key, value in expected.items()}
    assert list(credits) == ["low id", "high id"]
    assert credits == credit(model, list(reversed(touches)), **EXAMPLE_DEAL._asdict())


def test_two_touches_at_the_same_instant_split_an_odd_cent_deterministically() -> None:
    same = at(1, 15)
    touches = [Touch(2, same, "second"), Touch(1, same, "first")]
    deal = EXAMPLE_DEAL._replace(amount=Decimal("0.01"))

    credits = credit("linear", touches, **deal._asdict(), quantum=CENT)

    assert credits == {"first": Decimal("0.01"), "second": Decimal("0.00")}


def test_u_shaped_splits_two_touches_fifty_fifty() -> None:
    touches = [Touch(1, at(1, 1), "A"), Touch(2, at(1, 20), "B")]

    credits = credit("u_shaped", touches, **EXAMPLE_DEAL._asdict())

    assert credits == {"A": Decimal("500"), "B": Decimal("500")}


def test_u_shaped_gives_the_middle_twenty_percent_to_one_middle_touch() -> None:
    touches = [Touch(1, at(1, 1), "A"), Touch(2, at(1, 5), "B"), Touch(3, at(1, 9), "C")]

    credits = credit("u_shaped", touches, **EXAMPLE_DEAL._asdict())

    assert credits == {"A": Decimal("400"), "B": Decimal("200"), "C": Decimal("400")}


def test_linear_three_way_split_gives_the_spare_cent_to_the_earliest_campaign() -> None:
    touches = [Touch(1, at(1, 1), "A"), Touch(2, at(1, 5), "B"), Touch(3, at(1, 9), "C")]
    deal = EXAMPLE_DEAL._replace(amount=Decimal("100.00"))

    credits = credit("linear", touches, **deal._asdict(), quantum=CENT)

    assert credits == {"A": Decimal("33.34"), "B": Decimal("33.33"), "C": Decimal("33.33")}


# --- w-shaped ----------------------------------------------------------------------------------


def test_w_shaped_gives_a_missing_mql_position_to_the_first_touch() -> None:
    deal = EXAMPLE_DEAL._replace(first_mql_at=None)

    credits = credit("w_shaped", EXAMPLE_TOUCHES, **deal._asdict())

    # Key: Jan 1 (first, and the missing MQL position), Jan 20 (created); others 10 % / 3.
    assert in_cents(credits) == {
        "A": Decimal("600.00"),
        "B": Decimal("333.33"),  # Jan 20 key 300 + Jan 5 33.33
        "C": Decimal("33.33"),
        "D": Decimal("33.33"),
    }
    assert sum(credits.values()) == Decimal("1000")


def test_w_shaped_gives_a_position_with_no_touch_before_it_to_the_first_touch() -> None:
    deal = EXAMPLE_DEAL._replace(first_mql_at=at(1, 1, 8), created_at=at(1, 1, 8))
    touches = [Touch(1, at(1, 1), "A"), Touch(2, at(1, 5), "B")]

    credits = credit("w_shaped", touches, **deal._asdict())

    # All three positions fall on the first touch; B is the only other touch and gets 10 %.
    assert credits == {"A": Decimal("900"), "B": Decimal("100")}


def test_w_shaped_gives_a_touch_holding_two_key_positions_both_shares() -> None:
    deal = EXAMPLE_DEAL._replace(first_mql_at=at(1, 22))  # last touch before it: Jan 20

    credits = credit("w_shaped", EXAMPLE_TOUCHES, **deal._asdict())

    # Key: Jan 1 (A) 30 %, Jan 20 (B) 60 % as MQL and created; Jan 5, 10, 28 share 10 %.
    assert in_cents(credits) == {
        "A": Decimal("300.00"),
        "B": Decimal("633.33"),
        "C": Decimal("33.33"),
        "D": Decimal("33.33"),
    }
    assert sum(credits.values()) == Decimal("1000")


def test_w_shaped_with_only_key_touches_splits_the_ten_percent_over_the_positions() -> None:
    touches = [Touch(1, at(1, 1), "A"), Touch(2, at(1, 10), "B"), Touch(3, at(1, 20), "C")]

    credits = credit("w_shaped", touches, **EXAMPLE_DEAL._asdict())

    assert in_cents(credits) == {
        "A": Decimal("333.33"),
        "B": Decimal("333.33"),
        "C": Decimal("333.33"),
    }
    assert sum(credits.values()) == Decimal("1000")


def test_w_shaped_gives_two_thirds_to_a_touch_holding_two_of_three_positions() -> None:
    touches = [Touch(1, at(1, 1), "A"), Touch(2, at(1, 20), "B")]
    deal = EXAMPLE_DEAL._replace(first_mql_at=None)

    credits = credit("w_shaped", touches, **deal._asdict(), quantum=CENT)

    assert credits == {"A": Decimal("666.67"), "B": Decimal("333.33")}


def test_w_shaped_counts_touches_exactly_at_the_mql_and_the_creation() -> None:
    touches = [
        Touch(1, at(1, 1), "first"),
        Touch(2, at(1, 12), "at mql"),
        Touch(3, at(1, 25), "at creation"),
        Touch(4, at(1, 30), "after"),
    ]

    credits = credit("w_shaped", touches, **EXAMPLE_DEAL._asdict())

    assert credits == {
        "first": Decimal("300"),
        "at mql": Decimal("300"),
        "at creation": Decimal("300"),
        "after": Decimal("100"),
    }


# --- time decay ------------------------------------------------------------------------------


def test_time_decay_halves_the_weight_every_seven_days() -> None:
    touches = [Touch(1, at(1, 14), "older"), Touch(2, at(1, 21), "newer")]

    credits = credit("time_decay", touches, **EXAMPLE_DEAL._asdict())

    assert credits == {"older": Decimal("333.333333"), "newer": Decimal("666.666667")}


def test_time_decay_measures_real_time_across_a_dst_change() -> None:
    paris = ZoneInfo("Europe/Paris")
    # Clocks jump from 02:00 to 03:00 on 2025-03-30: 01:30 → 03:30 local is one real hour.
    local = [
        Touch(1, datetime(2025, 3, 30, 1, 30, tzinfo=paris), "A"),
        Touch(2, datetime(2025, 3, 30, 3, 30, tzinfo=paris), "B"),
    ]
    closed = datetime(2025, 3, 30, 12, tzinfo=paris)
    deal = {"amount": Decimal("1000"), "created_at": closed, "first_mql_at": None}
    as_utc = [touch._replace(occurred_at=touch.occurred_at.astimezone(UTC)) for touch in local]

    in_paris = credit("time_decay", local, closed_at=closed, **deal)
    in_utc = credit("time_decay", as_utc, closed_at=closed.astimezone(UTC), **deal)

    assert in_paris == in_utc


def test_a_touch_in_the_repeated_dst_hour_after_the_close_is_ignored() -> None:
    paris = ZoneInfo("Europe/Paris")
    # 2025-10-26: 02:00-03:00 happens twice. The close is in the first pass (CEST), the
    # touch at a smaller wall-clock time in the second pass (CET), i.e. 40 minutes later.
    closed = datetime(2025, 10, 26, 2, 30, tzinfo=paris, fold=0)
    late = Touch(2, datetime(2025, 10, 26, 2, 10, tzinfo=paris, fold=1), "late")
    early = Touch(1, datetime(2025, 10, 20, 9, tzinfo=paris), "early")

    assert counted_touches([early, late], closed) == [
        early._replace(occurred_at=early.occurred_at.astimezone(UTC))
    ]
    credits = credit(
        "last_touch",
        [early, late],
        amount=Decimal("10"),
        closed_at=closed,
        created_at=closed,
        first_mql_at=None,
    )
    assert credits == {"early": Decimal("10")}


# --- contract --------------------------------------------------------------------------------


def test_an_unknown_model_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown attribution model"):
        credit("last_non_direct", EXAMPLE_TOUCHES, **EXAMPLE_DEAL._asdict())


def test_an_amount_finer_than_the_quantum_is_a_value_error() -> None:
    deal = EXAMPLE_DEAL._replace(amount=Decimal("10.005"))

    with pytest.raises(ValueError, match="whole number"):
        credit("linear", EXAMPLE_TOUCHES, **deal._asdict(), quantum=CENT)


def test_a_float_amount_is_a_type_error() -> None:
    deal = EXAMPLE_DEAL._replace(amount=10.5)

    with pytest.raises(TypeError):
        credit("linear", EXAMPLE_TOUCHES, **deal._asdict())


def test_campaign_keys_may_be_integer_ids() -> None:
    touches = [Touch(1, at(1, 1), 17), Touch(2, at(1, 2), 4)]

    credits = credit("linear", touches, **EXAMPLE_DEAL._asdict())

    assert credits == {17: Decimal("500"), 4: Decimal("500")}


def test_every_model_has_a_label_and_a_definition() -> None:
    assert MODELS == ("first_touch", "last_touch", "linear", "u_shaped", "w_shaped", "time_decay")
    assert set(MODEL_LABELS) == set(MODEL_DEFINITIONS) == set(MODELS)
    assert all(MODEL_LABELS[model] and MODEL_DEFINITIONS[model] for model in MODELS)


# --- properties --------------------------------------------------------------------------------

CLOSE = at(6, 1, 12)
CAMPAIGNS = ("A", "B", "C", 1, 2)

moments = st.integers(min_value=-200 * 86_400, max_value=5 * 86_400).map(
    lambda seconds: CLOSE + timedelta(seconds=seconds)
)
amounts = st.integers(min_value=0, max_value=10**9).map(lambda cents: Decimal(cents).scaleb(-2))
maybe_moments = st.none() | moments


@st.composite
def touch_lists(draw: st.DrawFn) -> list[Touch]:
    """0-12 touches with unique ids, random times around the close, a few campaigns."""
    times = draw(st.lists(moments, max_size=12))
    ids = draw(st.permutations(range(1, len(times) + 1)))
    campaigns = st.sampled_from(CAMPAIGNS)
    return [Touch(id_, time, draw(campaigns)) for id_, time in zip(ids, times, strict=True)]


@settings(max_examples=200, deadline=None)
@given(
    touches=touch_lists(),
    amount=amounts,
    created_at=moments,
    first_mql_at=maybe_moments,
    quantum=st.sampled_from([CREDIT_QUANTUM, CENT]),
)
def test_every_model_credits_exactly_the_amount_and_nothing_negative(
    touches: list[Touch],
    amount: Decimal,
    created_at: datetime,
    first_mql_at: datetime | None,
    quantum: Decimal,
) -> None:
    everything = credit_all(
        touches,
        amount=amount,
        closed_at=CLOSE,
        created_at=created_at,
        first_mql_at=first_mql_at,
        quantum=quantum,
    )

    counted = {touch.campaign for touch in touches if touch.occurred_at <= CLOSE}
    for model, credits in everything.items():
        assert sum(credits.values()) == amount, model
        assert all(value >= 0 for value in credits.values()), model
        assert all(value == value.quantize(quantum) for value in credits.values()), model
        assert set(credits) == (counted or {NO_CAMPAIGN}), model


@settings(max_examples=100, deadline=None)
@given(
    touches=touch_lists(),
    amount=amounts,
    created_at=moments,
    first_mql_at=maybe_moments,
    seed=st.integers(),
)
def test_credits_do_not_depend_on_the_order_touches_are_given_in(
    touches: list[Touch],
    amount: Decimal,
    created_at: datetime,
    first_mql_at: datetime | None,
    seed: int,
) -> None:
    deal = {
        "amount": amount,
        "closed_at": CLOSE,
        "created_at": created_at,
        "first_mql_at": first_mql_at,
    }
    shuffled = list(touches)
    random.Random(seed).shuffle(shuffled)

    assert credit_all(shuffled, **deal) == credit_all(touches, **deal)


@settings(max_examples=200, deadline=None)
@given(touches=touch_lists(), amount=amounts, quantum=st.sampled_from([CREDIT_QUANTUM, CENT]))
def test_time_decay_credits_never_fall_as_touches_get_more_recent(
    touches: list[Touch], amount: Decimal, quantum: Decimal
) -> None:
    one_campaign_each = [touch._replace(campaign=touch.id) for touch in touches]

    credits = credit(
        "time_decay",
        one_campaign_each,
        amount=amount,
        closed_at=CLOSE,
        created_at=CLOSE,
        first_mql_at=None,
        quantum=quantum,
    )

    counted = sorted(
        (touch for touch in one_campaign_each if touch.occurred_at <= CLOSE),
        key=lambda touch: touch.occurred_at,
    )
    for older, newer in pairwise(counted):
        if older.occurred_at < newer.occurred_at:
            assert credits[older.campaign] <= credits[newer.campaign]
        else:
            assert abs(credits[older.campaign] - credits[newer.campaign]) <= quantum

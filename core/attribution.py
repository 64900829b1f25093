"""Multi-touch attribution models (SPEC §5), as pure Python.

No Django and no database: the engine feeds each won deal's touches in and sums the credits.
Every model turns the touches into integer weights (time decay: 62-bit fixed point), and the
deal amount is apportioned over campaigns in integer quanta with the largest-remainder
method, so the credits of one deal add up to its amount exactly, none is negative (for a
non-negative amount) and each is within one quantum of its exact share.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal
from fractions import Fraction
from math import exp2
from typing import NamedTuple, TypeAlias

CampaignKey: TypeAlias = str | int
Credits: TypeAlias = dict[CampaignKey, Decimal]

NO_CAMPAIGN = "(no campaign)"

CENT = Decimal("0.01")
CREDIT_QUANTUM = Decimal("0.000001")
"""Default unit of a credit: fine enough that credits shown to the cent match SPEC §5."""

HALF_LIFE_DAYS = 7

FIRST_TOUCH = "first_touch"
LAST_TOUCH = "last_touch"
LINEAR = "linear"
U_SHAPED = "u_shaped"
W_SHAPED = "w_shaped"
TIME_DECAY = "time_decay"

MODELS: tuple[str, ...] = (FIRST_TOUCH, LAST_TOUCH, LINEAR, U_SHAPED, W_SHAPED, TIME_DECAY)

MODEL_LABELS: dict[str, str] = {
    FIRST_TOUCH: "First touch",
    LAST_TOUCH: "Last touch",
    LINEAR: "Linear",
    U_SHAPED: "U-shaped",
    W_SHAPED: "W-shaped",
    TIME_DECAY: "Time decay",
}

COUNTED_TOUCHES_DEFINITION = (
    "Touches counted for a won deal are its lead's touches up to and including the moment "
    "the deal closed, in time order (ties by the order they were recorded). A won deal "
    "without touches is credited to “(no campaign)”. Under every model the credits of one "
    "deal add up exactly to its amount."
)

MODEL_DEFINITIONS: dict[str, str] = {
    FIRST_TOUCH: "100 % of the deal to the campaign of the first touch.",
    LAST_TOUCH: "100 % of the deal to the campaign of the last touch before the close.",
    LINEAR: "The deal is split equally over all counted touches.",
    U_SHAPED: (
        "40 % to the first touch, 40 % to the last, and 20 % split evenly over the touches "
        "in between. A single touch gets 100 %; two touches get 50 % each."
    ),
    W_SHAPED: (
        "Three key positions get 30 % each: the first touch, the last touch at or before "
        "the lead's first MQL, and the last touch at or before the deal's creation. A touch "
        "holding two positions gets both shares. The other touches share the remaining 10 %; "
        "if there are none, the 10 % is split evenly over the three positions. A position "
        "with no touch (no MQL yet, or no touch before it) gives its share to the first touch."
    ),
    TIME_DECAY: (
        f"Each touch weighs 2^(-d/{HALF_LIFE_DAYS}), d being the days (fractional) between "
        f"the touch and the close: a touch {HALF_LIFE_DAYS} days older counts half as much. "
        "The deal is split in proportion to the weights."
    ),
}


class Touch(NamedTuple):
    """One marketing touch of the deal's lead; ``campaign`` is the caller's campaign key."""

    id: int
    occurred_at: datetime
    campaign: CampaignKey


class DealContext(NamedTuple):
    """What the models need to know about a won deal (pass as ``**deal._asdict()``)."""

    amount: Decimal
    closed_at: datetime
    created_at: datetime
    first_mql_at: datetime | None


# --- model weights -----------------------------------------------------------------------
# Each model maps the counted touches (ordered, at least one) to non-negative integer
# weights, one per touch, with a positive total.

_Weigher: TypeAlias = Callable[[Sequence[Touch], DealContext], list[int]]

_DECAY_SCALE = 2**62
_MICROSECONDS_PER_HALF_LIFE = HALF_LIFE_DAYS * 86_400 * 10**6


def _first_touch(touches: Sequence[Touch], deal: DealContext) -> list[int]:
    weights = [0] * len(touches)
    weights[0] = 1
    return weights


def _last_touch(touches: Sequence[Touch], deal: DealContext) -> list[int]:
    weights = [0] * len(touches)
    weights[-1] = 1
    return weights


def _linear(touches: Sequence[Touch], deal: DealContext) -> list[int]:
    return [1] * len(touches)


def _u_shaped(touches: Sequence[Touch], deal: DealContext) -> list[int]:
    n = len(touches)
    if n <= 2:
        return [1] * n
    middle = n - 2  # first and last 2·m each, middle 1 each: total 5·m → 40/40/20 %
    return [2 * middle, *([1] * middle), 2 * middle]


def _last_index_at_or_before(touches: Sequence[Touch], moment: datetime | None) -> int:
    """Index of the last touch at or before ``moment``; 0 (the first touch) if none."""
    if moment is None:
        return 0
    found = 0
    for index, touch in enumerate(touches):
        if touch.occurred_at > moment:
            break
        found = index
    return found


def _w_shaped(touches: Sequence[Touch], deal: DealContext) -> list[int]:
    positions = (
        0,
        _last_index_at_or_before(touches, deal.first_mql_at),
        _last_index_at_or_before(touches, deal.created_at),
    )
    n = len(touches)
    others = n - len(set(positions))
    if others:
        # Positions 3·o each, other touches 1 each: total 10·o → 30 % per position, 10 % rest.
        weights = [1] * n
        for index in set(positions):
            weights[index] = 0
        per_position = 3 * others
    else:
        # No other touch: 30 % + 10 %/3 per position, i.e. equal thirds of the deal.
        weights = [0] * n
        per_position = 1
    for index in positions:
        weights[index] += per_position
    return weights


def _microseconds(delta: timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 10**6 + delta.microseconds


def _time_decay(touches: Sequence[Touch], deal: DealContext) -> list[int]:
    # Relative to the newest touch (same proportions as relative to the close, no underflow
    # for recent touches), as fixed-point integers: doubles are exact to ~1e-16, far below
    # the credit quantum, and keep a deal with ten touches in the microseconds.
    newest = touches[-1].occurred_at
    return [
        int(
            exp2(-_microseconds(newest - touch.occurred_at) / _MICROSECONDS_PER_HALF_LIFE)
            * _DECAY_SCALE
        )
        for touch in touches
    ]


_WEIGHERS: dict[str, _Weigher] = {
    FIRST_TOUCH: _first_touch,
    LAST_TOUCH: _last_touch,
    LINEAR: _linear,
    U_SHAPED: _u_shaped,
    W_SHAPED: _w_shaped,
    TIME_DECAY: _time_decay,
}


# --- apportioning --------------------------------------------------------------------------


_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)


def _units(amount: Decimal | int, quantum: Decimal) -> int:
    """The amount as a whole number of quanta; ValueError if it is not one."""
    if not isinstance(amount, Decimal | int) or isinstance(amount, bool):
        raise TypeError(f"amount must be a Decimal, got {type(amount).__name__}")
    if not isinstance(quantum, Decimal):
        raise TypeError(f"quantum must be a Decimal, got {type(quantum).__name__}")
    if isinstance(amount, Decimal) and not amount.is_finite():
        raise ValueError(f"amount must be finite, got {amount}")
    if not quantum.is_finite() or quantum <= 0:
        raise ValueError(f"quantum must be positive, got {quantum}")
    ratio = Fraction(amount) / Fraction(quantum)
    if ratio.denominator != 1:
        raise ValueError(f"amount {amount} is not a whole number of {quantum}")
    return ratio.numerator


def _to_decimal(units: int, quantum: Decimal) -> Decimal:
    """``units`` quanta as a Decimal with the quantum's exponent (exact)."""
    return _EXACT.multiply(quantum, Decimal(units))


def _apportion(weights: dict[CampaignKey, int], units: int, quantum: Decimal) -> Credits:
    """Split ``units`` quanta over the keys in proportion to ``weights`` (largest remainders).

    Each key gets its exact share rounded down to the quantum; the quanta left over go one
    each to the largest remainders (ties: larger weight, then earlier key), so the credits
    sum exactly to the amount and each is within one quantum of its exact share.
    """
    total = sum(weights.values())
    floors: dict[CampaignKey, int] = {}
    remainders: list[tuple[int, int, int, CampaignKey]] = []
    for order, (key, weight) in enumerate(weights.items()):
        floor, remainder = divmod(units * weight, total)
        floors[key] = floor
        remainders.append((-remainder, -weight, order, key))
    left = units - sum(floors.values())
    if left:
        remainders.sort(key=lambda item: item[:3])
        for *_, key in remainders[:left]:
            floors[key] += 1
    return {key: _to_decimal(value, quantum) for key, value in floors.items()}


# --- public API ----------------------------------------------------------------------------


def _utc(moment: datetime) -> datetime:
    # Aware datetimes sharing a tzinfo compare and subtract by wall clock (wrong across a DST
    # change); in UTC they follow real time. Naive datetimes are taken as they are.
    return moment if moment.tzinfo is None else moment.astimezone(UTC)


def counted_touches(touches: Iterable[Touch], closed_at: datetime) -> list[Touch]:
    """The touches at or before the close, ordered by (occurred_at, id), times in UTC."""
    closed_at = _utc(closed_at)
    in_utc = (touch._replace(occurred_at=_utc(touch.occurred_at)) for touch in touches)
    return sorted(
        (touch for touch in in_utc if touch.occurred_at <= closed_at),
        key=lambda touch: (touch.occurred_at, touch.id),
    )


def _campaign_weights(ordered: Sequence[Touch], weights: Sequence[int]) -> dict[CampaignKey, int]:
    per_campaign: dict[CampaignKey, int] = {}
    for touch, weight in zip(ordered, weights, strict=True):
        per_campaign[touch.campaign] = per_campaign.get(touch.campaign, 0) + weight
    return per_campaign


def credit_all(
    touches: Iterable[Touch],
    *,
    amount: Decimal | int,
    closed_at: datetime,
    created_at: datetime,
    first_mql_at: datetime | None,
    models: Sequence[str] = MODELS,
    quantum: Decimal = CREDIT_QUANTUM,
) -> dict[str, Credits]:
    """Credits per campaign of one won deal under each of ``models`` (default: all).

    ``amount`` must be a whole number of ``quantum`` (ValueError otherwise); an unknown
    model is a ValueError. A deal without counted touches credits ``NO_CAMPAIGN`` in full.

    Campaigns appear in the order of their first counted touch, zero credits included.
    Pass ``quantum=CENT`` for credits in whole cents (then still summing to the amount).
    """
    unknown = [model for model in models if model not in _WEIGHERS]
    if unknown:
        raise ValueError(f"unknown attribution model(s): {', '.join(map(str, unknown))}")
    units = _units(amount, quantum)
    ordered = counted_touches(touches, closed_at)
    if not ordered:
        nobody = {NO_CAMPAIGN: _to_decimal(units, quantum)}
        return {model: dict(nobody) for model in models}
    deal = DealContext(
        amount,
        _utc(closed_at),
        _utc(created_at),
        None if first_mql_at is None else _utc(first_mql_at),
    )
    return {
        model: _apportion(
            _campaign_weights(ordered, _WEIGHERS[model](ordered, deal)), units, quantum
        )
        for model in models
    }


def credit(
    model: str,
    touches: Iterable[Touch],
    *,
    amount: Decimal | int,
    closed_at: datetime,
    created_at: datetime,
    first_mql_at: datetime | None,
    quantum: Decimal = CREDIT_QUANTUM,
) -> Credits:
    """Credits per campaign of one won deal under ``model``; ValueError if it is unknown."""
    return credit_all(
        touches,
        amount=amount,
        closed_at=closed_at,
        created_at=created_at,
        first_mql_at=first_mql_at,
        models=(model,),
        quantum=quantum,
    )[model]

"""A rejection to dispute, and the cast of every role a dispute shows to differently.

Lead "L-d" (Dana Fischer, Fischer GmbH) was handed to sam on the 10th day ago and rejected by
him two days later for "No budget", with feedback, after one call; mia (marketing rep) disputes
it. max heads marketing and sally sales (`heads`); rita is the other sales rep (the round robin
gives her the lead when the heads overturn the rejection), mo another marketing rep, and
manny a marketing manager who heads nothing.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from alignment.roles import Role
from leads.models import Dispute, Handoff
from leads.services_disputes import dispute_raise
from tests.conftest import World, ago

COMMENT = "We met them at the fair: they have budget for Q3."
FEEDBACK = "No budget this year, call back in autumn."


@pytest.fixture
def cast(
    make_user: Callable[..., object],
    sales_rep: object,
    sales_manager: object,
    marketing_rep: object,
    marketing_manager: object,
    admin_user: object,
    heads: tuple[object, object],
) -> dict[str, object]:
    """Every role a dispute shows to differently, by the name the tests use."""
    for user, first, last, email in [
        (marketing_rep, "Mia", "Lang", ""),
        (marketing_manager, "Max", "Weber", "max@example.com"),
        (sales_manager, "Sally", "Stone", "sally@example.com"),
    ]:
        user.first_name, user.last_name, user.email = first, last, email
        user.save(update_fields=["first_name", "last_name", "email"])
    return {
        "disputer": marketing_rep,  # mia
        "other_marketing_rep": make_user("mo", Role.MARKETING_REP, first_name="Mo"),
        "marketing_manager": make_user("manny", Role.MARKETING_MANAGER, first_name="Manny"),
        "rejecter": sales_rep,  # sam
        "other_sales_rep": make_user("rita", Role.SALES_REP, first_name="Rita", last_name="Roth"),
        "sales_manager": make_user("sid", Role.SALES_MANAGER, first_name="Sid"),
        "admin": admin_user,
        "head_of_marketing": heads[0],  # max
        "head_of_sales": heads[1],  # sally
    }


#: Who reads a dispute's comment and names (`dispute_can_read`), by the cast's names.
READERS = {
    "disputer": True,
    "other_marketing_rep": False,
    "marketing_manager": True,
    "rejecter": True,
    "other_sales_rep": False,
    "sales_manager": True,
    "admin": True,
    "head_of_marketing": True,
    "head_of_sales": True,
}


@pytest.fixture
def rejected(world: World, cast: dict[str, object]) -> Handoff:
    """sam's rejection of L-d two days ago, after one call."""
    world.campaign("Spring fair", external_id="fair")
    world.lead(ago(days=12), external_id="L-d", campaign="fair", owner="sam")
    from leads.models import Lead

    Lead.objects.filter(external_id="L-d").update(
        name="Dana Fischer", company="Fischer GmbH", email="dana@fischer.example"
    )
    world.stage("L-d", "mql", ago(days=10))
    world.attempt("L-d", ago(days=9), actor="sam")
    world.stage("L-d", "rejected", ago(days=8), reason="no_budget", actor="sam", note=FEEDBACK)
    return Handoff.objects.get(lead__external_id="L-d")


@pytest.fixture
def disputed(rejected: Handoff, cast: dict[str, object]) -> Dispute:
    """mia disputes sam's rejection."""
    return dispute_raise(handoff=rejected, by=cast["disputer"], comment=COMMENT)

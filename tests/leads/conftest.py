"""Fixtures of the funnel's tests: the rejection to dispute and its cast (disputes_fixture), the
owners the CSV import's sample files name."""

from __future__ import annotations

import pytest

from tests.leads.disputes_fixture import cast, disputed, rejected


@pytest.fixture
def owners(sales_rep: object, admin_user: object) -> tuple[object, object]:
    """The users the CSV import's sample files name as owners: sam ("Sam Rep") and ada."""
    return sales_rep, admin_user


__all__ = ["cast", "disputed", "rejected"]

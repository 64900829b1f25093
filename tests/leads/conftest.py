"""Fixtures of the funnel's tests: the rejection to dispute and its cast (disputes_fixture), a
client logged in to the Django admin, the owners the CSV import's sample files name."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.leads.disputes_fixture import cast, disputed, rejected


@pytest.fixture
def admin_client_(client: Client, admin_user: object) -> Client:
    admin_user.is_staff = True
    admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    return client


@pytest.fixture
def owners(sales_rep: object, admin_user: object) -> tuple[object, object]:
    """The users the CSV import's sample files name as owners: sam ("Sam Rep") and ada."""
    return sales_rep, admin_user


__all__ = ["admin_client_", "cast", "disputed", "rejected"]

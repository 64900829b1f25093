"""Fixtures of the funnel's tests: the rejection to dispute and its cast (disputes_fixture)."""

from __future__ import annotations

from tests.leads.disputes_fixture import cast, disputed, rejected

__all__ = ["cast", "disputed", "rejected"]

"""Fixtures of the alignment tests: appointed heads, a helper to draft and sign versions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from alignment.models import LeadDefinition, ServiceLevelAgreement
from alignment.roles import Team
from alignment.services import (
    lead_definition_approve,
    lead_definition_create,
    sla_approve,
    sla_create,
    team_head_set,
)


@pytest.fixture
def heads(marketing_manager: object, sales_manager: object) -> tuple[object, object]:
    """max heads marketing, sally heads sales."""
    team_head_set(team=Team.MARKETING, user=marketing_manager)
    team_head_set(team=Team.SALES, user=sales_manager)
    return marketing_manager, sales_manager


SLA_TERMS = {
    "first_contact_hours": Decimal(4),
    "attempts": 3,
    "attempt_spacing_days": Decimal(2),
    "monthly_sal_commitment": 40,
}


@pytest.fixture
def signed_sla(heads: tuple[object, object]) -> Callable[..., ServiceLevelAgreement]:
    """Draft an SLA version with the default terms (overridable) and have both heads sign it."""

    def make(effective_from: datetime | None = None, **terms: object) -> ServiceLevelAgreement:
        sla = sla_create(
            by=heads[0],
            effective_from=effective_from or datetime(2026, 1, 1, tzinfo=UTC),
            **{**SLA_TERMS, **terms},
        )
        for head in heads:
            sla = sla_approve(sla=sla, by=head)
        return sla

    return make


@pytest.fixture
def signed_definition(heads: tuple[object, object]) -> Callable[..., LeadDefinition]:
    """Draft a lead definition with these rules and threshold and have both heads sign it."""

    def make(
        rules: list[dict], threshold: int = 50, effective_from: datetime | None = None
    ) -> LeadDefinition:
        definition = lead_definition_create(
            by=heads[0],
            effective_from=effective_from or datetime(2026, 1, 1, tzinfo=UTC),
            criteria="Companies that fit, people who engage.",
            mql_threshold=threshold,
            rules=rules,
        )
        for head in heads:
            definition = lead_definition_approve(definition=definition, by=head)
        return definition

    return make

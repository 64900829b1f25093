"""The Agreements pages' pure parts: the SLA and rules in words, statuses, and the diffs."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from alignment.models import LeadDefinition, ScoringRule, ServiceLevelAgreement
from alignment.pages import (
    Change,
    approvals_warning,
    lead_definition_diff,
    rule_words,
    rules_diff,
    sla_diff,
    sla_words,
    version_status,
    weekdays_text,
)

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)
User = get_user_model()


def sla(**terms: object) -> ServiceLevelAgreement:
    values = {
        "version": 2,
        "effective_from": datetime(2026, 1, 1, tzinfo=UTC),
        "first_contact_hours": Decimal("4.00"),
        "attempts": 6,
        "attempt_spacing_days": Decimal("2.00"),
        "monthly_sal_commitment": 100,
        **terms,
    }
    return ServiceLevelAgreement(**values)


BERLIN_HOURS = {
    "business_days": "1,2,3,4,5",
    "business_start": time(9),
    "business_end": time(17),
    "business_timezone": "Europe/Berlin",
}


# --- the SLA in words -----------------------------------------------------------------------


def test_the_sla_reads_as_the_teams_say_it_with_business_hours() -> None:
    assert sla_words(sla(**BERLIN_HOURS)) == (
        "Sales calls every MQL within 4 business hours (Mon–Fri 09:00–17:00 Europe/Berlin), "
        "then makes 6 attempts 2 business days apart; marketing delivers 100 SALs a month."
    )


def test_the_sla_without_business_hours_counts_plain_hours_and_days() -> None:
    words = sla_words(sla(first_contact_hours=Decimal("1.50"), attempt_spacing_days=Decimal(1)))
    assert words == (
        "Sales calls every MQL within 1.5 hours, then makes 6 attempts 1 day apart; "
        "marketing delivers 100 SALs a month."
    )


def test_a_single_attempt_and_a_single_sal_are_said_in_the_singular() -> None:
    words = sla_words(sla(first_contact_hours=Decimal(1), attempts=1, monthly_sal_commitment=1))
    assert words == (
        "Sales calls every MQL within 1 hour, and makes one attempt; "
        "marketing delivers 1 SAL a month."
    )


def test_business_hours_without_a_zone_are_in_the_organisations_zone() -> None:
    terms = {**BERLIN_HOURS, "business_timezone": "", "business_end": time(0)}
    assert "(Mon–Fri 09:00–24:00 Europe/Lisbon)" in sla_words(sla(**terms), "Europe/Lisbon")


@pytest.mark.parametrize(
    ("days", "text"),
    [
        ("1,2,3,4,5", "Mon–Fri"),
        ("1,3,4,5", "Mon, Wed–Fri"),
        ("6,7", "Sat, Sun"),
        ("1,2,3,4,5,6,7", "every day"),
    ],
)
def test_weekdays_are_said_as_runs(days: str, text: str) -> None:
    assert weekdays_text(days) == text


# --- rules in words -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ({"field": "segment", "operator": "equals", "value": "enterprise", "points": 30},
         "Segment is enterprise: +30"),
        ({"field": "attributes.company_size", "operator": "gte", "value": 200, "points": 20},
         "Company size ≥ 200: +20"),
        ({"field": "country", "operator": "in", "value": ["DE", "AT"], "points": 10},
         "Country is one of DE, AT: +10"),
        ({"field": "phone", "operator": "exists", "value": False, "points": -10},
         "Phone is not set: −10"),
        ({"field": "phone", "operator": "exists", "value": None, "points": 5},
         "Phone is set: +5"),
        ({"field": "opted_in", "operator": "equals", "value": True, "points": 5},
         "Opted in is yes: +5"),
        ({"label": "Visited pricing", "points": 15}, "Visited pricing: +15"),
    ],
)  # fmt: skip
def test_a_rule_is_said_in_words(rule: dict, words: str) -> None:
    assert rule_words(rule) == words


def test_a_stored_rule_reads_like_the_rule_kept_on_a_handoff() -> None:
    stored = ScoringRule(field="segment", operator="equals", value="smb", points=5, position=0)
    assert rule_words(stored) == "Segment is smb: +5"


# --- statuses -------------------------------------------------------------------------------


def _approved(pk: int, effective_from: datetime) -> ServiceLevelAgreement:
    version = sla(pk=pk, status="approved", effective_from=effective_from)
    version.marketing_approved_at = version.sales_approved_at = version.approved_at = NOW
    return version


def test_a_version_is_a_draft_until_a_head_approves_it_then_awaits_the_other() -> None:
    draft = sla(pk=3)
    assert version_status(draft, in_effect_id=1, now=NOW).label == "draft"
    draft.marketing_approved_at = NOW
    assert version_status(draft, in_effect_id=1, now=NOW).label == "awaiting sales"
    draft.marketing_approved_at, draft.sales_approved_at = None, NOW
    assert version_status(draft, in_effect_id=1, now=NOW).label == "awaiting marketing"


def test_an_approved_version_is_in_effect_superseded_or_waits_for_its_date() -> None:
    past = datetime(2026, 1, 1, tzinfo=UTC)
    assert version_status(_approved(1, past), in_effect_id=1, now=NOW).key == "in_effect"
    assert version_status(_approved(1, past), in_effect_id=2, now=NOW).key == "superseded"
    later = _approved(4, datetime(2026, 4, 1, 12, tzinfo=UTC))
    status = version_status(later, in_effect_id=2, now=NOW)
    assert (status.key, status.label) == ("scheduled", "approved, takes effect on 1 Apr 2026")


def test_the_edit_warning_names_who_approved_and_when(settings: object) -> None:
    settings.TIME_ZONE = "UTC"
    draft = sla()
    assert approvals_warning(draft) == ""
    draft.marketing_approved_by = User(username="maria")
    draft.marketing_approved_at = datetime(2026, 3, 3, 10, 15, tzinfo=UTC)
    assert approvals_warning(draft) == (
        "Saving a change clears the approvals given so far "
        "(maria approved for marketing on 3 Mar 2026, 10:15)."
    )


# --- diffs ----------------------------------------------------------------------------------


def test_the_sla_diff_lists_only_the_terms_that_changed_old_to_new() -> None:
    old = sla()
    new = sla(version=3, first_contact_hours=Decimal(2), **BERLIN_HOURS)
    assert sla_diff(old, new) == [
        Change("First contact within", "4 hours", "2 hours"),
        Change("Business hours", "every hour counts", "Mon–Fri 09:00–17:00 Europe/Berlin"),
    ]
    assert sla_diff(old, sla(version=5, effective_from=NOW)) == []  # only its date differs


def _rule(field: str, operator: str, value: object, points: int) -> dict:
    return {"field": field, "operator": operator, "value": value, "points": points}


def test_the_rules_diff_tells_added_removed_and_changed_rules_apart() -> None:
    old = [
        _rule("segment", "equals", "enterprise", 30),
        _rule("company.size", "gte", 200, 20),
        _rule("student", "exists", True, -10),
    ]
    new = [
        _rule("company.size", "gte", 500, 20),  # changed value
        _rule("segment", "equals", "enterprise", 30),  # the same, in another place
        _rule("job_title", "contains", "head", 15),  # added
    ]
    diff = rules_diff(old, new)
    assert diff.added == ["Job title contains head: +15"]
    assert diff.removed == ["Student is set: −10"]
    assert diff.changed == [
        Change("company.size", "Company size ≥ 200: +20", "Company size ≥ 500: +20")
    ]
    assert not rules_diff(old, list(reversed(old)))


def test_the_definition_diff_compares_criteria_threshold_and_notes() -> None:
    old = LeadDefinition(criteria="Fit and engaged.", mql_threshold=50)
    new = LeadDefinition(criteria="Fit and engaged.", mql_threshold=60, notes="Stricter.")
    assert lead_definition_diff(old, new) == [
        Change("MQL threshold", "50 points", "60 points"),
        Change("Notes", "—", "Stricter."),
    ]

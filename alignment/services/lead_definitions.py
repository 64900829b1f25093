"""The lead definition: the words both teams agreed on and the scoring rules that apply them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from alignment import scoring
from alignment.models import LeadDefinition, ScoringRule
from alignment.services.audit import audit_diff, audit_filled, audit_snapshot
from alignment.services.versions import (
    APPROVERS,
    refuse_unknown_fields,
    version_approve,
    version_audit,
    version_create,
    version_delete,
    version_digest,
    version_locked,
    version_refuse_if_changed,
    version_reset_approvals,
    version_update,
)
from config.dates import date_in_range_problem

DEFINITION_FIELDS = ("effective_from", "criteria", "mql_threshold", "notes")


def lead_definition_clean(*, values: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    if values.get("effective_from") is None:
        errors["effective_from"] = "Say from when the version applies."
    elif problem := date_in_range_problem(values["effective_from"]):
        errors["effective_from"] = problem
    if not (values.get("criteria") or "").strip():
        errors["criteria"] = "Write the definition down in words, for both teams to read."
    threshold = values.get("mql_threshold")
    if threshold is None or isinstance(threshold, bool) or not isinstance(threshold, int):
        errors["mql_threshold"] = "The MQL threshold is a whole number of points."
    elif threshold < 1:
        errors["mql_threshold"] = "The MQL threshold is at least 1 point."
    if errors:
        raise ValidationError(errors)
    values["notes"] = values.get("notes") or ""
    return values


def scoring_rules_clean(*, rules: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Check scoring rules; errors name the rule's position: {"rules": ["#2 operator: ..."]}."""
    cleaned, problems = [], []
    for index, rule in enumerate(rules):
        field = str(rule.get("field") or "").strip()
        operator, value, points = rule.get("operator"), rule.get("value"), rule.get("points")
        for name, message in scoring.rule_errors(field, operator, value, points).items():
            problems.append(f"Rule {index + 1}, {name}: {message}")
        cleaned.append({"field": field, "operator": operator, "value": value, "points": points})
    if problems:
        raise ValidationError({"rules": problems})
    return cleaned


def _rules_of(definition: LeadDefinition) -> list[dict[str, Any]]:
    return [
        {"field": r.field, "operator": r.operator, "value": r.value, "points": r.points}
        for r in definition.rules.order_by("position")
    ]


def _rules_write(definition: LeadDefinition, rules: list[dict[str, Any]]) -> None:
    definition.rules.all().delete()
    ScoringRule.objects.bulk_create(
        [ScoringRule(definition=definition, position=i, **rule) for i, rule in enumerate(rules)]
    )


@transaction.atomic
def lead_definition_create(
    *, by: AbstractBaseUser | None, rules: Sequence[dict[str, Any]] = (), **fields: Any
) -> LeadDefinition:
    """A new draft lead definition with its scoring rules."""
    refuse_unknown_fields(fields, DEFINITION_FIELDS, "lead definition")
    values = lead_definition_clean(values={name: fields.get(name) for name in DEFINITION_FIELDS})
    cleaned = scoring_rules_clean(rules=rules)
    definition = version_create(LeadDefinition, by, values)
    _rules_write(definition, cleaned)
    terms = audit_filled(audit_snapshot(definition, DEFINITION_FIELDS)) | {"rules": cleaned}
    version_audit(definition, happened="created", by=by, changes=audit_diff({}, terms))
    return definition


@transaction.atomic
def lead_definition_update(
    *,
    definition: LeadDefinition,
    by: AbstractBaseUser | None,
    rules: Sequence[dict[str, Any]] | None = None,
    **fields: Any,
) -> LeadDefinition:
    """Change a draft (its fields and/or its rules). Any change clears the approvals; a
    change is audited (the rules as a whole, before and after)."""
    definition, changes = version_update(
        definition, DEFINITION_FIELDS, "lead definition", lead_definition_clean, fields
    )
    if rules is not None:
        cleaned = scoring_rules_clean(rules=rules)
        previous = _rules_of(definition)
        if cleaned != previous:
            approvals = audit_snapshot(definition, APPROVERS)
            _rules_write(definition, cleaned)
            version_reset_approvals(definition)
            changes = {
                **audit_diff(approvals, audit_snapshot(definition, APPROVERS)),
                **changes,
                **audit_diff({"rules": previous}, {"rules": cleaned}),
            }
    if changes:
        definition.save()
        version_audit(definition, happened="updated", by=by, changes=changes)
    return definition


@transaction.atomic
def lead_definition_delete(*, definition: LeadDefinition, by: AbstractBaseUser | None) -> None:
    """Delete a draft that was never approved (an approved version is history)."""
    version_delete(
        definition, by, DEFINITION_FIELDS, terms=lambda locked: {"rules": _rules_of(locked)}
    )


def lead_definition_digest(*, definition: LeadDefinition) -> str:
    """The fingerprint of the definition's terms and rules a head approves."""
    return version_digest(definition, DEFINITION_FIELDS, _rules_of(definition))


@transaction.atomic
def lead_definition_approve(
    *,
    definition: LeadDefinition,
    by: AbstractBaseUser,
    now: datetime | None = None,
    seen: str | None = None,
) -> LeadDefinition:
    """A head approves a draft for their team; the second approval makes it binding from
    max(effective_from, now) on (see `version_approve`: never retroactively).

    A binding version sends `version_approved`: `leads` re-scores every lead when it is the
    version in effect now (one that starts later is re-scored by the sweep when its time
    comes). `seen`, the `lead_definition_digest` the head read, refuses the approval when
    the draft was edited since.
    """
    now = now or timezone.now()
    definition = version_locked(definition)
    version_refuse_if_changed(definition, seen, lead_definition_digest(definition=definition))
    version_approve(definition, by, now)
    return definition

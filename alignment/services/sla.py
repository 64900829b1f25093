"""The SLA: sales' first contact and follow-up cadence, marketing's monthly SAL commitment."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from alignment.business_time import BusinessCalendar
from alignment.models import ServiceLevelAgreement
from alignment.services.audit import audit_diff, audit_filled, audit_snapshot
from alignment.services.versions import (
    refuse_unknown_fields,
    version_approve,
    version_audit,
    version_create,
    version_delete,
    version_digest,
    version_locked,
    version_refuse_if_changed,
    version_update,
)
from config.dates import date_in_range_problem

SLA_FIELDS = (
    "effective_from",
    "first_contact_hours",
    "attempts",
    "attempt_spacing_days",
    "monthly_sal_commitment",
    "business_days",
    "business_start",
    "business_end",
    "business_timezone",
    "notes",
)


def sla_clean(*, values: dict[str, Any]) -> dict[str, Any]:
    """Normalise and check an SLA's terms; raise ValidationError naming each bad field."""
    errors: dict[str, str] = {}
    if values.get("effective_from") is None:
        errors["effective_from"] = "Say from when the version applies."
    elif problem := date_in_range_problem(values["effective_from"]):
        errors["effective_from"] = problem
    for name, minimum in [
        ("first_contact_hours", 0),
        ("attempts", 1),
        ("attempt_spacing_days", 0),
        ("monthly_sal_commitment", 1),
    ]:
        value = values.get(name)
        if value is None:
            errors[name] = "This field is required."
        elif value < minimum:
            errors[name] = f"Must be at least {minimum}."
    days = (values.get("business_days") or "").replace(" ", "")
    values["business_days"] = days
    values["business_timezone"] = values.get("business_timezone") or ""
    if days:
        try:
            BusinessCalendar.from_sla(SimpleNamespace(**values), settings.TIME_ZONE)
        except ValueError as exc:
            errors["business_days"] = f"Business hours are not usable: {exc}."
    elif values.get("business_start") or values.get("business_end"):
        errors["business_days"] = "Name the business days (e.g. 1,2,3,4,5) for business hours."
    elif values["business_timezone"]:
        errors["business_timezone"] = "A time zone only applies with business hours."
    if errors:
        raise ValidationError(errors)
    if not days:
        values["business_start"] = values["business_end"] = None
    return values


@transaction.atomic
def sla_create(*, by: AbstractBaseUser | None, **fields: Any) -> ServiceLevelAgreement:
    """A new draft version of the SLA; it binds nobody until both heads approve it."""
    refuse_unknown_fields(fields, SLA_FIELDS, "SLA")
    values = sla_clean(
        values={name: fields.get(name) for name in SLA_FIELDS}
        | {"notes": fields.get("notes") or ""}
    )
    sla = version_create(ServiceLevelAgreement, by, values)
    terms = audit_filled(audit_snapshot(sla, SLA_FIELDS))
    version_audit(sla, happened="created", by=by, changes=audit_diff({}, terms))
    return sla


@transaction.atomic
def sla_update(
    *, sla: ServiceLevelAgreement, by: AbstractBaseUser | None, **fields: Any
) -> ServiceLevelAgreement:
    """Change a draft. Any change clears the approvals given so far; a change is audited."""
    sla, changes = version_update(sla, SLA_FIELDS, "SLA", sla_clean, fields)
    if changes:
        sla.save()
        version_audit(sla, happened="updated", by=by, changes=changes)
    return sla


@transaction.atomic
def sla_delete(*, sla: ServiceLevelAgreement, by: AbstractBaseUser | None) -> None:
    """Delete a draft that was never approved (an approved version is history)."""
    version_delete(sla, by, SLA_FIELDS)


def sla_digest(*, sla: ServiceLevelAgreement) -> str:
    """The fingerprint of the SLA's terms a head approves (`version_digest`)."""
    return version_digest(sla, SLA_FIELDS)


@transaction.atomic
def sla_approve(
    *,
    sla: ServiceLevelAgreement,
    by: AbstractBaseUser,
    now: datetime | None = None,
    seen: str | None = None,
) -> ServiceLevelAgreement:
    """The head of a team approves a draft for that team; the second approval makes it binding
    from max(effective_from, now) on (see `version_approve`: never retroactively).

    A binding version sends `version_approved`: `leads` re-derives the deadlines of the
    handoffs it now governs and records the periods whose numbers change. `seen`, the
    `sla_digest` of the terms the head read, refuses the approval when the draft was edited
    since.
    """
    now = now or timezone.now()
    sla = version_locked(sla)
    version_refuse_if_changed(sla, seen, sla_digest(sla=sla))
    version_approve(sla, by, now)
    return sla

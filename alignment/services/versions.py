"""What the dual-signed versions (the SLA and the lead definition) share: numbered drafts
that change freely, and approvals by both team heads that make a version binding."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max

from alignment.models import DualSigned, VersionStatus
from alignment.roles import Team, user_role
from alignment.selectors import user_heads_team
from alignment.services.accounts import HEAD_ROLE
from alignment.services.audit import audit_diff, audit_filled, audit_record, audit_snapshot
from alignment.signals import version_approved

VersionT = TypeVar("VersionT", bound=DualSigned)

#: How the audit log names each dual-signed model: (action prefix, label).
AUDIT_NAMES = {
    "servicelevelagreement": ("sla", "SLA"),
    "leaddefinition": ("lead_definition", "Lead definition"),
}
#: Who approved, as a draft's audited changes show it (an edit clears both approvals).
APPROVERS = tuple(f"{team}_approved_by" for team in Team)


def version_audit(
    obj: DualSigned,
    *,
    happened: str,
    by: AbstractBaseUser | None,
    changes: dict[str, Any],
    details: dict[str, Any] | None = None,
) -> None:
    """Record in the audit log that a version was created, updated, approved or deleted."""
    prefix, label = AUDIT_NAMES[obj._meta.model_name]
    audit_record(
        actor=by,
        action=f"{prefix}.{happened}",
        target=obj,
        label=f"{label} v{obj.version}",
        changes=changes,
        details=details,
    )


def version_digest(obj: DualSigned, names: Sequence[str], rules: Sequence[Any] = ()) -> str:
    """A fingerprint of a version's terms (`names`, and its rules): what a head reads on the
    page and approves. Any edit changes it; an approval does not."""
    terms = [[name, getattr(obj, name)] for name in names]
    text = json.dumps([terms, list(rules)], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def version_refuse_if_changed(obj: DualSigned, seen: str | None, digest: str) -> None:
    """Refuse an approval of terms other than those the head read (`seen`, the digest their
    page showed; None: the caller showed no terms, as the API)."""
    if seen is not None and seen != digest:
        raise ValidationError(
            f"Version {obj.version} changed since you opened it; read it again before you "
            "approve it."
        )


def version_next_number(model: type[DualSigned]) -> int:
    return (model.objects.aggregate(m=Max("version"))["m"] or 0) + 1


def actor(user: AbstractBaseUser | None) -> AbstractBaseUser | None:
    return user if getattr(user, "pk", None) else None


def version_locked(obj: DualSigned) -> DualSigned:
    return type(obj).objects.select_for_update().get(pk=obj.pk)


def version_refuse_if_approved(obj: DualSigned) -> None:
    if obj.status == VersionStatus.APPROVED:
        raise ValidationError(
            f"Version {obj.version} is approved and part of the history; "
            "create a new version to change it."
        )


def version_reset_approvals(obj: DualSigned) -> None:
    for team in Team:
        setattr(obj, f"{team}_approved_by", None)
        setattr(obj, f"{team}_approved_at", None)


def version_apply_changes(obj: DualSigned, values: dict[str, Any]) -> bool:
    """Set `values` on a draft; clears both approvals when anything changed."""
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    if changed:
        version_reset_approvals(obj)
    return changed


def version_approve(obj: DualSigned, by: AbstractBaseUser, now: datetime) -> bool:
    """Record the approval of the team `by` heads. Returns whether the version became binding.

    Only a team's head approves for it (PermissionDenied otherwise); approving twice for the
    same team changes nothing. A version takes effect only once both heads approved it, never
    retroactively: when the second approval lands, `effective_from` becomes
    max(effective_from, approval time), so a version dated in the past governs only what
    happens from its approval on (earlier handoffs stay under the version then in effect).
    The binding approval sends `version_approved`. The approval is audited: who, for which
    team, and whether it made the version binding.
    """
    team = user_heads_team(user=by)
    if team is None or user_role(by) != HEAD_ROLE[team]:
        raise PermissionDenied("Only the head of marketing or the head of sales approves versions.")
    version_refuse_if_approved(obj)
    if getattr(obj, f"{team}_approved_at") is not None:
        return False
    before = audit_snapshot(obj, [f"{team}_approved_by", "status", "effective_from"])
    setattr(obj, f"{team}_approved_by", by)
    setattr(obj, f"{team}_approved_at", now)
    binding = all(getattr(obj, f"{t}_approved_at") is not None for t in Team)
    if binding:
        obj.status = VersionStatus.APPROVED
        obj.approved_at = now
        obj.effective_from = max(obj.effective_from, now)
    obj.save()
    after = audit_snapshot(obj, before)
    details = {"team": team, "binding": binding}
    version_audit(
        obj, happened="approved", by=by, changes=audit_diff(before, after), details=details
    )
    if binding:  # the apps that apply agreements act on it, in this transaction
        version_approved.send(sender=type(obj), version=obj, by=by, now=now)
    return binding


def refuse_unknown_fields(fields: dict[str, Any], names: Sequence[str], label: str) -> None:
    unknown = set(fields) - set(names)
    if unknown:
        raise ValidationError(f"Unknown {label} fields: {', '.join(sorted(unknown))}.")


def version_create(
    model: type[VersionT], by: AbstractBaseUser | None, values: dict[str, Any]
) -> VersionT:
    """Insert the next version of `model` as a draft (cleaned `values`). The caller audits it
    (`version_audit`), once its rules are written too."""
    try:
        with transaction.atomic():
            return model.objects.create(
                version=version_next_number(model), created_by=actor(by), **values
            )
    except IntegrityError:
        raise ValidationError(
            "Another version was created at the same moment; try again."
        ) from None


def version_delete(
    obj: DualSigned,
    by: AbstractBaseUser | None,
    names: Sequence[str],
    terms: Callable[[DualSigned], dict[str, Any]] = lambda obj: {},
) -> None:
    """Delete a draft (an approved version is history: ValidationError) and audit its terms
    (`names`, and what `terms` reads of the locked draft: its rules)."""
    obj = version_locked(obj)
    version_refuse_if_approved(obj)
    gone = audit_filled(audit_snapshot(obj, names) | terms(obj))
    version_audit(obj, happened="deleted", by=by, changes=audit_diff(gone, {}))
    obj.delete()


def version_update(
    obj: VersionT,
    names: Sequence[str],
    label: str,
    clean: Callable[..., dict[str, Any]],
    fields: dict[str, Any],
) -> tuple[VersionT, bool]:
    """Lock a draft, check it with `clean` and set the changed `fields` (clearing approvals).
    Returns the locked draft, unsaved, and what changed ({field: [before, after]}, the
    approvals cleared included; empty: nothing), for the caller to save and audit."""
    refuse_unknown_fields(fields, names, label)
    obj = version_locked(obj)
    version_refuse_if_approved(obj)
    values = clean(values={name: getattr(obj, name) for name in names} | fields)
    before = audit_snapshot(obj, [*names, *APPROVERS])
    version_apply_changes(obj, values)
    return obj, audit_diff(before, audit_snapshot(obj, before))

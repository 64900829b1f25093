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
from alignment.signals import version_approved

VersionT = TypeVar("VersionT", bound=DualSigned)


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
    The binding approval sends `version_approved`.
    """
    team = user_heads_team(user=by)
    if team is None or user_role(by) != HEAD_ROLE[team]:
        raise PermissionDenied("Only the head of marketing or the head of sales approves versions.")
    version_refuse_if_approved(obj)
    if getattr(obj, f"{team}_approved_at") is not None:
        return False
    setattr(obj, f"{team}_approved_by", by)
    setattr(obj, f"{team}_approved_at", now)
    binding = all(getattr(obj, f"{t}_approved_at") is not None for t in Team)
    if binding:
        obj.status = VersionStatus.APPROVED
        obj.approved_at = now
        obj.effective_from = max(obj.effective_from, now)
    obj.save()
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
    """Insert the next version of `model` as a draft (cleaned `values`)."""
    try:
        with transaction.atomic():
            return model.objects.create(
                version=version_next_number(model), created_by=actor(by), **values
            )
    except IntegrityError:
        raise ValidationError(
            "Another version was created at the same moment; try again."
        ) from None


def version_update(
    obj: VersionT,
    names: Sequence[str],
    label: str,
    clean: Callable[..., dict[str, Any]],
    fields: dict[str, Any],
) -> tuple[VersionT, bool]:
    """Lock a draft, check it with `clean` and set the changed `fields` (clearing approvals).
    Returns the locked draft, unsaved, and whether anything changed."""
    refuse_unknown_fields(fields, names, label)
    obj = version_locked(obj)
    version_refuse_if_approved(obj)
    values = clean(values={name: getattr(obj, name) for name in names} | fields)
    return obj, version_apply_changes(obj, values)

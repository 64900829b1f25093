"""The audit log's writes: who changed what, and when, recorded in the transaction of the change.

Every service that changes an SLA, a lead definition, a goal or the scorecard's inputs, an
approval, a handoff's decision, a dispute, an import, a channel, an API token or a user's
access calls `audit_record` (one entry) or `audit_record_many` (a batch, in one INSERT: an
ingest's handoff decisions) inside its own transaction, so an entry exists exactly when its
change committed: a change refused (ValidationError) or rolled back leaves none. Views and
signals never write entries. Nothing updates or deletes one (see `alignment.models.AuditEntry`).

An entry's `changes` are {field: [before, after]} (a record created has `None` before, one
deleted `None` after), its `details` {name: value} the values that place the change; both hold
plain JSON (`audit_value`): users by username, records by their label, decimals and times as
text (a moment to the second, in the site's time zone, with its offset). Never a secret: a token rotation names the user, not the key.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum

from django.contrib.auth.models import AbstractBaseUser
from django.db import models, transaction
from django.utils import timezone

from alignment.models import AuditEntry
from config.db import insert_rows

#: Every action the log records, by slug ("<what>.<happened>"), with the words the page shows.
ACTIONS: dict[str, str] = {
    "sla.created": "SLA drafted",
    "sla.updated": "SLA draft changed",
    "sla.approved": "SLA approved",
    "sla.deleted": "SLA draft deleted",
    "lead_definition.created": "Lead definition drafted",
    "lead_definition.updated": "Lead definition draft changed",
    "lead_definition.approved": "Lead definition approved",
    "lead_definition.deleted": "Lead definition draft deleted",
    "team_head.set": "Team head appointed",
    "goal.created": "Goal set",
    "goal.updated": "Goal changed",
    "goal.deleted": "Goal deleted",
    "goal.checked_in": "Goal checked in",
    "payout_curve.set": "Payout curve set",
    "forecast.set": "Revenue forecast set",
    "handoff.accepted": "Handoff accepted",
    "handoff.rejected": "Handoff rejected",
    "handoff.withdrawn": "Handoff withdrawn",
    "handoff.reopened": "Handoff decision undone",
    "handoff.corrected": "Handoff decision corrected",
    "handoff.removed": "Handoff removed",
    "handoff.reassigned": "Handoff reassigned",
    "dispute.raised": "Rejection disputed",
    "dispute.outcome_recorded": "Dispute outcome recorded",
    "dispute.confirmed": "Dispute settled",
    "import.started": "Import started",
    "import.resumed": "Import resumed",
    "import.finished": "Import finished",
    "import.failed": "Import failed",
    "channel.merged": "Channel merged",
    "api_token.created": "API token issued",
    "api_token.rotated": "API token rotated",
    "user.created": "User added",
    "user.access_changed": "User's access changed",
}

LABEL_MAX = AuditEntry._meta.get_field("target_label").max_length


def audit_value(value: object) -> object:
    """`value` as the log keeps it: plain JSON (users by username, records by their label,
    decimals without trailing zeros, dates and times in ISO 8601)."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Enum):
        return audit_value(value.value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, Decimal):
        return f"{value.normalize():f}" if value.is_finite() else str(value)
    if isinstance(value, datetime):  # to the second, in the site's time zone
        moment = timezone.localtime(value) if timezone.is_aware(value) else value
        return moment.isoformat(timespec="seconds")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, AbstractBaseUser):
        return value.get_username()
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): audit_value(v) for k, v in value.items()}
    if isinstance(value, Iterable):
        return [audit_value(v) for v in value]
    return str(value)


def audit_snapshot(obj: models.Model, names: Iterable[str]) -> dict[str, object]:
    """The values of `names` on `obj`, as `audit_diff` compares them."""
    return {name: getattr(obj, name) for name in names}


def audit_filled(values: Mapping[str, object]) -> dict[str, object]:
    """`values` without the empty ones (None, "", [], {}): what a record created or deleted
    shows of itself."""
    return {k: v for k, v in values.items() if v is not None and v != "" and v != [] and v != {}}


def audit_changes(
    before: models.Model | None, after: models.Model, names: Iterable[str]
) -> dict[str, list]:
    """The changes of `names` of a record written over `before` (None: it was created)."""
    names = tuple(names)
    was = audit_filled(audit_snapshot(before, names)) if before is not None else {}
    return audit_diff(was, audit_filled(audit_snapshot(after, names)))


def audit_diff(before: Mapping[str, object], after: Mapping[str, object]) -> dict[str, list]:
    """{field: [before, after]} of the fields whose values differ (a field missing on one side
    is None there): what an entry's `changes` hold."""
    changed = {}
    for name in [*before, *(n for n in after if n not in before)]:
        old, new = before.get(name), after.get(name)
        if old != new:
            changed[name] = [audit_value(old), audit_value(new)]
    return changed


def _actor(user: AbstractBaseUser | None) -> AbstractBaseUser | None:
    return user if getattr(user, "pk", None) is not None else None


def audit_entry(
    *,
    actor: AbstractBaseUser | None,
    action: str,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: object = "",
    label: str | None = None,
    changes: Mapping[str, Sequence[object]] | None = None,
    details: Mapping[str, object] | None = None,
    note: str = "",
) -> AuditEntry:
    """An entry, unsaved (for `audit_record_many`), at this moment: a service's `now` (a
    record's business time, which tests and the demo set) never dates an entry. The target is a record (its model, primary
    key and label), or named by `target_type`, `target_id` and `label` (one deleted in bulk).
    ValueError for an action `ACTIONS` does not name: a slip in the code, not the user's."""
    if action not in ACTIONS:
        raise ValueError(f"Unknown audit action {action!r}; add it to ACTIONS.")
    if target is not None:
        target_type = target._meta.label_lower
        target_id = target.pk if target.pk is not None else ""
        label = str(target) if label is None else label
    who = _actor(actor)
    return AuditEntry(
        at=timezone.now(),
        actor=who,
        actor_name=who.get_username() if who is not None else "",
        action=action,
        target_type=target_type,
        target_id=str(target_id)[:64],
        target_label=(label or "")[:LABEL_MAX],
        changes={str(k): [audit_value(v) for v in pair] for k, pair in (changes or {}).items()},
        details={str(k): audit_value(v) for k, v in (details or {}).items()},
        note=note or "",
    )


def _refuse_outside_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("An audit entry is written in the transaction of the change it records.")


def audit_record(
    *,
    actor: AbstractBaseUser | None,
    action: str,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: object = "",
    label: str | None = None,
    changes: Mapping[str, Sequence[object]] | None = None,
    details: Mapping[str, object] | None = None,
    note: str = "",
) -> AuditEntry:
    """Record one change (see `audit_entry`), in the caller's transaction."""
    _refuse_outside_transaction()
    entry = audit_entry(
        actor=actor,
        action=action,
        target=target,
        target_type=target_type,
        target_id=target_id,
        label=label,
        changes=changes,
        details=details,
        note=note,
    )
    entry.save(force_insert=True)
    return entry


def audit_record_many(*, entries: Sequence[AuditEntry]) -> int:
    """Record a batch of entries (`audit_entry`) with one prepared INSERT run for each
    (`config.db.insert_rows`: no ids read back), in the caller's transaction; returns how
    many."""
    if not entries:
        return 0
    _refuse_outside_transaction()
    return insert_rows(AuditEntry, entries)

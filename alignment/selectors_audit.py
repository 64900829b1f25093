"""Reads of the audit log (`alignment.models.AuditEntry`): the entries a filter asks for, newest
first, and the words the page and its CSV show of them."""

from __future__ import annotations

import json
import re
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.apps import apps
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from alignment.models import AuditEntry
from alignment.services.audit import ACTIONS
from core.periods import local_midnight

#: The actor filter's value for entries the system wrote (no user).
SYSTEM = "-"


def audit_entries(
    *,
    action: str = "",
    actor: str = "",
    target_type: str = "",
    target_id: str = "",
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[AuditEntry]:
    """The entries, newest first: of one action (or of every action of one kind: "handoff"),
    by one actor (a username, or `SYSTEM`), on one kind of record (and one record), in the
    days `since`..`until` (both included, in the site's time zone)."""
    entries = AuditEntry.objects.select_related("actor").order_by("-at", "-id")
    if action in ACTIONS:
        entries = entries.filter(action=action)
    elif action:
        entries = entries.filter(action__startswith=f"{action}.")
    if actor == SYSTEM:
        entries = entries.filter(actor_name="")
    elif actor:
        entries = entries.filter(actor_name=actor)
    if target_type:
        entries = entries.filter(target_type=target_type)
        if target_id:
            entries = entries.filter(target_id=target_id)
    zone = ZoneInfo(settings.TIME_ZONE)
    if since is not None:
        entries = entries.filter(at__gte=local_midnight(since, zone))
    if until is not None:
        entries = entries.filter(at__lt=local_midnight(until + timedelta(days=1), zone))
    return entries


#: The kinds of record the services audit (`app_label.model_name`; a token's is its user).
TARGET_TYPES = (
    "alignment.servicelevelagreement",
    "alignment.leaddefinition",
    "alignment.teamhead",
    "alignment.goal",
    "alignment.payoutcurve",
    "alignment.revenueforecast",
    "leads.handoff",
    "leads.dispute",
    "leads.importjob",
    "leads.channel",
    settings.AUTH_USER_MODEL.lower(),
)


def audit_target_types() -> list[tuple[str, str]]:
    """The kinds of record the log holds entries of: (target_type, its name), by name."""
    return sorted(((t, audit_target_name(t)) for t in TARGET_TYPES), key=lambda pair: pair[1])


def audit_action_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The action filter's choices, grouped by kind (`ACTIONS`' prefix): each kind first ("any
    handoff action"), then its actions."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for action, label in ACTIONS.items():
        kind = action.split(".")[0]
        groups.setdefault(kind, [(kind, f"Any {audit_field_name(kind)} action")])
        groups[kind].append((action, label))
    return [(audit_field_name(kind).capitalize(), choices) for kind, choices in groups.items()]


def audit_target_name(target_type: str) -> str:
    """A target type in words ("alignment.servicelevelagreement": "Service level agreement");
    a model that is gone keeps its raw name."""
    try:
        model = apps.get_model(target_type)
    except (LookupError, ValueError):
        return target_type
    name = str(model._meta.verbose_name)
    return name[:1].upper() + name[1:]


def audit_action_label(action: str) -> str:
    return ACTIONS.get(action, action)


_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def audit_text(value: object) -> str:
    """A value of an entry's changes or details as text: "—" for none, a moment as
    "2026-03-02 10:00" in the site's time zone, lists and objects as compact JSON."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    text = str(value)
    if _MOMENT.match(text):
        with suppress(ValueError):
            moment = datetime.fromisoformat(text)
            if timezone.is_aware(moment):
                moment = timezone.localtime(moment)
            return f"{moment:%Y-%m-%d %H:%M}" + (f":{moment:%S}" if moment.second else "")
    return text


@dataclass(frozen=True)
class ChangeRow:
    field: str
    before: str
    after: str


def audit_field_name(name: str) -> str:
    return name.replace("_", " ")


def audit_change_rows(entry: AuditEntry) -> list[ChangeRow]:
    """What changed, a row a field: its name, before and after, in words."""
    rows = []
    for name, pair in (entry.changes or {}).items():
        paired = isinstance(pair, list) and len(pair) == 2
        before, after = pair if paired else (None, pair)
        rows.append(ChangeRow(audit_field_name(name), audit_text(before), audit_text(after)))
    return rows


def audit_detail_rows(entry: AuditEntry) -> list[tuple[str, str]]:
    return [(audit_field_name(k), audit_text(v)) for k, v in (entry.details or {}).items()]


def audit_changes_line(entry: AuditEntry) -> str:
    """The changes on one line, for the CSV: "field: before → after; …"."""
    return "; ".join(f"{r.field}: {r.before} → {r.after}" for r in audit_change_rows(entry))


def audit_details_line(entry: AuditEntry) -> str:
    return "; ".join(f"{k}: {v}" for k, v in audit_detail_rows(entry))

"""Writes to the lead funnel: idempotent upserts of ingested records, handoff decisions.

Every ingest service takes rows already parsed by the API layer (dicts of Python values, with
references as `external_id`s and usernames), resolves references in bulk, and writes the whole
batch in one transaction. A row that cannot be written raises `RowsInvalid` and nothing is kept.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import models, transaction
from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.utils import timezone

from alignment import scoring
from alignment.business_time import (
    SlaTerms,
    add_business_days,
    business_hours_between,
    cadence_window_end,
    first_contact_deadline,
)
from alignment.models import LeadDefinition, ServiceLevelAgreement
from alignment.roles import Role, user_role
from alignment.selectors import lead_definition_in_effect
from alignment.services.audit import audit_entry, audit_record, audit_record_many
from alignment.services.round_robin import round_robin_next_owners
from config.db import update_rows
from config.errors import Conflict
from config.queue import enqueue
from leads.changes import (
    funnel_activity_changed,
    funnel_changed,
    funnel_horizon_followed,
    funnel_leads_changed,
)
from leads.errors import RowError, RowsInvalid
from leads.models import (
    Campaign,
    ContactAttempt,
    Deal,
    Dispute,
    Handoff,
    HandoffReassignment,
    Lead,
    RejectionReason,
    Stage,
    StageEvent,
    Touch,
)
from leads.selectors import (
    campaign_lead_ids,
    definition_scoring_rules,
    lead_activity,
    lead_scoring_rows,
    lead_scoring_values,
)
from leads.services_channels import channel_key, channels_ensure

User = get_user_model()
BATCH_SIZE = 500
# Stages past `sal` imply that sales took the lead: they accept a pending handoff.
_ACCEPTING_STAGES = {Stage.SAL, Stage.SQL, Stage.OPPORTUNITY, Stage.WON}
# A lead leaving the funnel while its handoff is pending withdraws the handoff.
_WITHDRAWING_STAGES = {Stage.RECYCLED, Stage.DISQUALIFIED, Stage.LOST}


@dataclass(frozen=True)
class UpsertResult:
    created: int
    updated: int


# --- reference resolution -------------------------------------------------------------------


def _resolve(
    rows: Sequence[dict],
    *,
    field: str,
    model: type[models.Model],
    lookup: str = "external_id",
    label: str,
    required: bool = True,
    errors: list[RowError],
) -> dict[str, int]:
    """Map every reference in `rows[*][field]` to a primary key in one query."""
    wanted = {row[field] for row in rows if row.get(field) not in (None, "")}
    found = (
        dict(model.objects.filter(**{f"{lookup}__in": wanted}).values_list(lookup, "pk"))
        if wanted
        else {}
    )
    for index, row in enumerate(rows):
        value = row.get(field)
        if value in (None, ""):
            if required:
                errors.append(RowError(index, field, "This field is required."))
        elif value not in found:
            errors.append(RowError(index, field, f"No {label} with {lookup} {value!r}."))
    return found


def _check_unique_in_batch(rows: Sequence[dict], errors: list[RowError]) -> None:
    seen: dict[str, int] = {}
    for index, row in enumerate(rows):
        key = row["external_id"]
        if key in seen:
            errors.append(
                RowError(index, "external_id", f"Repeats row {seen[key]} of this request.")
            )
        else:
            seen[key] = index


def _upsert(
    model: type[models.Model], objs: list[models.Model], *, update_fields: list[str]
) -> UpsertResult:
    keys = [obj.external_id for obj in objs]
    existing = 0
    for start in range(0, len(keys), 5000):
        existing += model.objects.filter(external_id__in=keys[start : start + 5000]).count()
    model.objects.bulk_create(
        objs,
        batch_size=BATCH_SIZE,
        update_conflicts=True,
        unique_fields=["external_id"],
        update_fields=update_fields,
    )
    return UpsertResult(created=len(objs) - existing, updated=existing)


def _raise_if(errors: list[RowError]) -> None:
    if errors:
        raise RowsInvalid(errors)


@contextmanager
def funnel_followed(lead_ids: Iterable[int]) -> Iterator[None]:
    """Log every period these leads touched before and after the write inside."""
    ids = set(lead_ids)
    before = lead_activity(lead_ids=ids)
    yield
    funnel_activity_changed(activity=_merged(before, lead_activity(lead_ids=ids)))


def _merged(*activities: dict[str, set[date]]) -> dict[str, set[date]]:
    merged: dict[str, set[date]] = defaultdict(set)
    for activity in activities:
        for part, days in activity.items():
            merged[part] |= days
    return merged


# --- ingest ---------------------------------------------------------------------------------


@transaction.atomic
def campaigns_upsert(*, rows: Sequence[dict]) -> UpsertResult:
    errors: list[RowError] = []
    _check_unique_in_batch(rows, errors)
    keys = [channel_key(row["channel"]) for row in rows]  # any system's label, as a key
    for index, row in enumerate(rows):
        if row["ends_on"] < row["starts_on"]:
            errors.append(RowError(index, "ends_on", "Must not be before starts_on."))
        if not keys[index]:
            errors.append(RowError(index, "channel", "Give a channel with a letter or digit."))
    _raise_if(errors)
    channels_ensure(keys=keys)
    objs = [
        Campaign(
            external_id=r["external_id"],
            name=r["name"],
            channel_id=key,
            starts_on=r["starts_on"],
            ends_on=r["ends_on"],
            cost=r.get("cost") or 0,
        )
        for r, key in zip(rows, keys, strict=True)
    ]
    before = {
        c.external_id: c
        for c in Campaign.objects.filter(external_id__in=[o.external_id for o in objs])
    }
    with funnel_horizon_followed():
        result = _upsert(
            Campaign,
            objs,
            update_fields=["name", "channel", "starts_on", "ends_on", "cost", "updated_at"],
        )
    # Its cost is spread over its days, before and after; its channel is a dimension of every
    # record of its leads and of the revenue its touches are credited with.
    funnel_changed(
        spans=[(c.starts_on, c.ends_on) for c in before.values()]
        + [(o.starts_on, o.ends_on) for o in objs],
        part="campaigns",
    )
    channels = {o.external_id: o.channel_id for o in objs}
    rechanneled = [c.pk for c in before.values() if c.channel_id != channels[c.external_id]]
    if rechanneled:
        funnel_leads_changed(lead_ids=campaign_lead_ids(campaign_ids=rechanneled))
    return result


@transaction.atomic
def leads_upsert(*, rows: Sequence[dict], score: bool = True) -> UpsertResult:
    """Create or update leads by external_id and score them under the lead definition in
    effect (a lead that reaches its threshold is handed off now). `score=False` leaves the
    scoring to the caller: an import scores its leads once their past stage events are in,
    so that a lead that was an MQL years ago is not handed off again today."""
    errors: list[RowError] = []
    _check_unique_in_batch(rows, errors)
    campaigns = _resolve(
        rows, field="campaign", model=Campaign, label="campaign", required=False, errors=errors
    )
    owners = _resolve(
        rows,
        field="owner",
        model=User,
        lookup="username",
        label="user",
        required=False,
        errors=errors,
    )
    _raise_if(errors)
    objs = [
        Lead(
            external_id=r["external_id"],
            email=r.get("email") or "",
            name=r.get("name") or "",
            company=r.get("company") or "",
            created_at=r["created_at"],
            campaign_id=campaigns.get(r.get("campaign")),
            owner_id=owners.get(r.get("owner")),
            segment=r.get("segment") or "",
            attributes=r.get("attributes") or {},
        )
        for r in rows
    ]
    existing = Lead.objects.filter(external_id__in=[o.external_id for o in objs])
    with funnel_followed(existing.values_list("pk", flat=True)):
        result = _upsert(
            Lead,
            objs,
            update_fields=[
                "email",
                "name",
                "company",
                "created_at",
                "campaign",
                "owner",
                "segment",
                "attributes",
                "updated_at",
            ],
        )
    funnel_changed(instants=[o.created_at for o in objs], part="leads")
    definition = lead_definition_in_effect(at=timezone.now()) if score else None
    if definition is not None:
        keys = [o.external_id for o in objs]
        ids = [
            pk
            for start in range(0, len(keys), 5000)
            for pk in Lead.objects.filter(external_id__in=keys[start : start + 5000]).values_list(
                "pk", flat=True
            )
        ]
        leads_score(lead_ids=ids, definition=definition)
    return result


@transaction.atomic
def touches_upsert(*, rows: Sequence[dict]) -> UpsertResult:
    errors: list[RowError] = []
    _check_unique_in_batch(rows, errors)
    leads = _resolve(rows, field="lead", model=Lead, label="lead", errors=errors)
    campaigns = _resolve(rows, field="campaign", model=Campaign, label="campaign", errors=errors)
    _raise_if(errors)
    objs = [
        Touch(
            external_id=r["external_id"],
            lead_id=leads[r["lead"]],
            campaign_id=campaigns[r["campaign"]],
            occurred_at=r["occurred_at"],
            kind=r.get("kind") or "",
        )
        for r in rows
    ]
    moved = Touch.objects.filter(external_id__in=[o.external_id for o in objs])
    with funnel_followed({*leads.values(), *moved.values_list("lead_id", flat=True)}):
        return _upsert(Touch, objs, update_fields=["lead", "campaign", "occurred_at", "kind"])


@transaction.atomic
def stage_events_upsert(
    *,
    rows: Sequence[dict],
    source: str = StageEvent.Source.API,
    by: AbstractBaseUser | None = None,
) -> UpsertResult:
    """Create or update stage events and replay their leads. With `by` (who sends them: the
    API's user), a `rejected` event decides a handoff as sales would: its actor (default:
    `by`, recorded as the decider) must be a sales rep, a sales manager or an admin."""
    errors: list[RowError] = []
    _check_unique_in_batch(rows, errors)
    leads = _resolve(rows, field="lead", model=Lead, label="lead", errors=errors)
    actors = _resolve(
        rows,
        field="actor",
        model=User,
        lookup="username",
        label="user",
        required=False,
        errors=errors,
    )
    reasons = set(RejectionReason.objects.filter(active=True).values_list("code", flat=True))
    for index, row in enumerate(rows):
        if row["stage"] == Stage.REJECTED:
            if not row.get("reason"):
                errors.append(RowError(index, "reason", "A rejection needs a reason."))
            elif row["reason"] not in reasons:
                errors.append(
                    RowError(
                        index,
                        "reason",
                        f"Unknown rejection reason {row['reason']!r}; "
                        f"use one of {', '.join(sorted(reasons))}.",
                    )
                )
    deciders = _rejection_deciders(rows, actors=actors, by=by, errors=errors)
    _raise_if(errors)
    # A corrected event may move to another lead: both leads need their stages replayed.
    previous_leads = set(
        StageEvent.objects.filter(external_id__in=[r["external_id"] for r in rows]).values_list(
            "lead_id", flat=True
        )
    )
    objs = [
        StageEvent(
            external_id=r["external_id"],
            lead_id=leads[r["lead"]],
            stage=r["stage"],
            occurred_at=r["occurred_at"],
            actor_id=deciders.get(index, actors.get(r.get("actor"))),
            reason=r.get("reason") or "",
            note=r.get("note") or "",
            source=source,
        )
        for index, r in enumerate(rows)
    ]
    affected = set(leads.values()) | previous_leads
    with funnel_followed(affected):
        result = _upsert(
            StageEvent,
            objs,
            update_fields=["lead", "stage", "occurred_at", "actor", "reason", "note", "source"],
        )
        leads_sync_stages(lead_ids=affected, by=by)
    return result


#: Who may decide a sales handoff (`handoff_can_decide`): sales and the admin.
_DECIDING_ROLES = {Role.SALES_REP, Role.SALES_MANAGER, Role.ADMIN}


def _rejection_deciders(
    rows: Sequence[dict],
    *,
    actors: dict[str, int],
    by: AbstractBaseUser | None,
    errors: list[RowError],
) -> dict[int, int]:
    """Who decides each `rejected` row sent by `by`: its actor, else `by`; refused (an error
    on `actor`) unless sales or the admin. {row index: user id}; {} without `by`."""
    if by is None:
        return {}
    wanted = {
        index: actors.get(row.get("actor")) or by.pk
        for index, row in enumerate(rows)
        if row["stage"] == Stage.REJECTED and (not row.get("actor") or row["actor"] in actors)
    }
    users = {u.pk: u for u in User.objects.filter(pk__in=set(wanted.values()))}
    for index, user_id in wanted.items():
        user = users[user_id]
        if user_role(user) not in _DECIDING_ROLES:
            name = user.get_username()
            errors.append(
                RowError(
                    index,
                    "actor",
                    f"Only sales decides a handoff: {name} is not a sales rep, a sales manager "
                    "or an admin. Name the sales person who rejected it as the actor.",
                )
            )
    return wanted


@transaction.atomic
def attempts_upsert(*, rows: Sequence[dict]) -> UpsertResult:
    errors: list[RowError] = []
    _check_unique_in_batch(rows, errors)
    leads = _resolve(rows, field="lead", model=Lead, label="lead", errors=errors)
    actors = _resolve(
        rows,
        field="actor",
        model=User,
        lookup="username",
        label="user",
        required=False,
        errors=errors,
    )
    _raise_if(errors)
    objs = [
        ContactAttempt(
            external_id=r["external_id"],
            lead_id=leads[r["lead"]],
            occurred_at=r["occurred_at"],
            channel=r["channel"],
            outcome=r["outcome"],
            actor_id=actors.get(r.get("actor")),
            note=r.get("note") or "",
        )
        for r in rows
    ]
    moved = ContactAttempt.objects.filter(external_id__in=[o.external_id for o in objs])
    affected = {*leads.values(), *moved.values_list("lead_id", flat=True)}
    with funnel_followed(affected):
        result = _upsert(
            ContactAttempt,
            objs,
            update_fields=["lead", "occurred_at", "channel", "outcome", "actor", "note"],
        )
        handoffs_refresh_sla(lead_ids=affected)
    return result


@transaction.atomic
def deals_upsert(*, rows: Sequence[dict]) -> UpsertResult:
    errors: list[RowError] = []
    _check_unique_in_batch(rows, errors)
    leads = _resolve(rows, field="lead", model=Lead, label="lead", errors=errors)
    for index, row in enumerate(rows):
        closed_at, status = row.get("closed_at"), row["status"]
        if status == Deal.Status.OPEN and closed_at is not None:
            errors.append(RowError(index, "closed_at", "An open deal has no closed_at."))
        elif status != Deal.Status.OPEN and closed_at is None:
            errors.append(RowError(index, "closed_at", f"A {status} deal needs closed_at."))
        elif closed_at is not None and closed_at < row["created_at"]:
            errors.append(RowError(index, "closed_at", "Must not be before created_at."))
    _raise_if(errors)
    objs = [
        Deal(
            external_id=r["external_id"],
            lead_id=leads[r["lead"]],
            amount=r["amount"],
            created_at=r["created_at"],
            closed_at=r.get("closed_at"),
            status=r["status"],
            lost_reason=r.get("lost_reason") or "",
        )
        for r in rows
    ]
    moved = Deal.objects.filter(external_id__in=[o.external_id for o in objs])
    affected = {*leads.values(), *moved.values_list("lead_id", flat=True)}
    with funnel_followed(affected):
        result = _upsert(
            Deal,
            objs,
            update_fields=["lead", "amount", "created_at", "closed_at", "status", "lost_reason"],
        )
        handoffs_refresh_outcomes(lead_ids=affected)  # a won deal is an outcome of its cohorts
    return result


# --- scoring and automatic handoff ------------------------------------------------------------


def leads_score(
    *,
    lead_ids: Iterable[int],
    definition: LeadDefinition | None = None,
    now: datetime | None = None,
) -> int:
    """Score these leads under `definition` (default: the one in effect now) and hand off
    every lead that reaches the MQL threshold while still an `inquiry`. Returns how many
    handoffs were opened.

    The handoff is an `mql` stage event (source `system`) at `now` (or the lead's creation, if
    later), so it is replayed like any other; a lead without an owner gets the next sales rep
    of the round robin; the matched rules are kept on the handoff. A lead handed off once is
    an MQL from then on, so scoring it again never opens a second handoff.
    """
    now = now or timezone.now()
    definition = definition or lead_definition_in_effect(at=now)
    if definition is None:
        return 0
    rules = definition_scoring_rules(definition=definition)
    ids = sorted(set(lead_ids))
    opened = 0
    for start in range(0, len(ids), 2000):
        opened += _score_chunk(ids[start : start + 2000], definition, rules, now)
    return opened


def _score_chunk(
    lead_ids: list[int], definition: LeadDefinition, rules: list[scoring.Rule], now: datetime
) -> int:
    pending = Handoff.objects.filter(lead=OuterRef("pk"), status=Handoff.Status.PENDING)
    rows = lead_scoring_rows(
        lead_ids=lead_ids,
        extra=("stage", "score", "owner_id", "created_at"),
        has_pending=Exists(pending),
    )
    rescored: list[Lead] = []
    crossing: list[tuple[dict, scoring.Score]] = []
    for row in rows:
        result = scoring.score(rules, lead_scoring_values(row))
        if result.points != row["score"]:
            rescored.append(Lead(pk=row["id"], score=result.points))
        if (
            row["stage"] == Stage.INQUIRY
            and not row["has_pending"]
            and result.reaches(definition.mql_threshold)
        ):
            crossing.append((row, result))
    if rescored:
        Lead.objects.bulk_update(rescored, ["score"], batch_size=BATCH_SIZE)
    if crossing:
        _hand_off(crossing, definition, now)
    return len(crossing)


def _hand_off(
    crossing: list[tuple[dict, scoring.Score]], definition: LeadDefinition, now: datetime
) -> None:
    lead_ids = [row["id"] for row, _ in crossing]
    unowned = [row["id"] for row, _ in crossing if row["owner_id"] is None]
    owners = round_robin_next_owners(count=len(unowned))
    assigned = [
        Lead(pk=lead_id, owner_id=owner)
        for lead_id, owner in zip(unowned, owners, strict=True)
        if owner is not None
    ]
    with funnel_followed(lead_ids):
        if assigned:
            Lead.objects.bulk_update(assigned, ["owner"], batch_size=BATCH_SIZE)
        StageEvent.objects.bulk_create(
            [
                StageEvent(
                    lead_id=row["id"],
                    stage=Stage.MQL,
                    occurred_at=max(now, row["created_at"]),
                    reason="",
                    note=(
                        f"Score {result.points} reached the MQL threshold "
                        f"{definition.mql_threshold} of lead definition v{definition.version}."
                    ),
                    source=StageEvent.Source.SYSTEM,
                )
                for row, result in crossing
            ],
            batch_size=BATCH_SIZE,
        )
        leads_sync_stages(lead_ids=lead_ids)
    matched = {row["id"]: result for row, result in crossing}
    handoffs = list(Handoff.objects.filter(lead_id__in=lead_ids, status=Handoff.Status.PENDING))
    for handoff in handoffs:
        handoff.matched_rules = [
            {**m.as_dict(), "definition_version": definition.version}
            for m in matched[handoff.lead_id].matched
        ]
    Handoff.objects.bulk_update(handoffs, ["matched_rules"], batch_size=BATCH_SIZE)


# --- stage replay ---------------------------------------------------------------------------


@dataclass
class DerivedHandoff:
    handed_at: datetime
    status: str = Handoff.Status.PENDING
    decided_at: datetime | None = None
    decided_by_id: int | None = None
    reason_code: str = ""
    note: str = ""
    opening_event_id: int | None = None
    closing_event_id: int | None = None


def derive_handoffs(events: Iterable[dict[str, Any]]) -> list[DerivedHandoff]:
    """Replay a lead's stage events (in time order) into its handoffs.

    `mql` opens a handoff unless one is pending; `sal` (or a later sales stage) accepts the
    pending one; `rejected` rejects it; `recycled`, `disqualified` or `lost` withdraws it (the
    lead left the funnel before sales decided), so a later `mql` opens a new one. Pure: events
    are dicts with stage, occurred_at, actor_id, reason, note and (when stored) id.
    """
    handoffs: list[DerivedHandoff] = []
    pending: DerivedHandoff | None = None
    for event in events:
        stage = event["stage"]
        if stage == Stage.MQL:
            if pending is None:
                pending = DerivedHandoff(
                    handed_at=event["occurred_at"], opening_event_id=event.get("id")
                )
                handoffs.append(pending)
            continue
        if pending is None:
            continue
        if stage in _ACCEPTING_STAGES:
            pending.status = Handoff.Status.ACCEPTED
        elif stage == Stage.REJECTED:
            pending.status = Handoff.Status.REJECTED
            pending.reason_code, pending.note = event["reason"], event["note"]
        elif stage in _WITHDRAWING_STAGES:
            pending.status = Handoff.Status.WITHDRAWN
        else:
            continue
        pending.decided_at = event["occurred_at"]
        pending.decided_by_id = event["actor_id"]
        pending.closing_event_id = event.get("id")
        pending = None
    return handoffs


def leads_sync_stages(
    *,
    lead_ids: Iterable[int],
    by: AbstractBaseUser | None = None,
    audit_details: dict[str, Any] | None = None,
    audited: bool = True,
) -> None:
    """Re-derive the stored stage and the handoffs of these leads from their stage events.

    Events may arrive out of time order; replaying the whole history keeps the result the same
    whatever the arrival order. Owner, feedback, rating, matched rules and the dispute of an
    existing handoff are kept: a handoff is matched to the replay by the `mql` event that opened
    it, else (rows from before the events were linked, or whose opening event changed) by order.

    Every decision the replay makes, undoes or corrects, and every handoff it removes, is
    audited in one INSERT per chunk (`_decisions_audit`), with `by` as who changed the events
    (None: the system) and `audit_details` added to each entry's details (`audited=False`:
    none, for an upgrade's replay).
    """
    lead_ids = sorted(set(lead_ids))
    if not lead_ids:
        return
    reasons = dict(RejectionReason.objects.values_list("code", "pk"))
    for start in range(0, len(lead_ids), 2000):
        chunk = lead_ids[start : start + 2000]
        _sync_chunk(chunk, reasons, by=by, audit_details=audit_details, audited=audited)


@transaction.atomic
def leads_replay(*, lead_ids: Iterable[int]) -> None:
    """Replay these leads' stage events (`leads_sync_stages`) and log every period the replay
    moved (an upgrade that changes what the events mean: the withdrawn handoffs). Not audited:
    an upgrade re-reads decisions nobody took now, and runs in a migration (leads 0013) that
    may come before the audit log's."""
    ids = sorted(set(lead_ids))
    for start in range(0, len(ids), 2000):  # the change log's reads bind every id
        chunk = ids[start : start + 2000]
        with funnel_followed(chunk):
            leads_sync_stages(lead_ids=chunk, audited=False)


def _sync_chunk(
    lead_ids: list[int],
    reasons: dict[str, int],
    *,
    by: AbstractBaseUser | None,
    audit_details: dict[str, Any] | None,
    audited: bool,
) -> None:
    events_by_lead: dict[int, list[dict]] = defaultdict(list)
    for event in (
        StageEvent.objects.filter(lead_id__in=lead_ids)
        .order_by("lead_id", "occurred_at", "id")
        .values("id", "lead_id", "stage", "occurred_at", "actor_id", "reason", "note", "source")
    ):
        events_by_lead[event["lead_id"]].append(event)
    handoffs_by_lead: dict[int, list[Handoff]] = defaultdict(list)
    for handoff in Handoff.objects.filter(lead_id__in=lead_ids).order_by(
        "lead_id", "handed_at", "id"
    ):
        handoffs_by_lead[handoff.lead_id].append(handoff)
    leads = Lead.objects.in_bulk(lead_ids)

    changed_leads: list[Lead] = []
    to_delete: list[int] = []
    to_save: list[Handoff] = []
    to_create: list[Handoff] = []
    unrejected: list[int] = []  # stored rejections the events now decide otherwise
    # id(handoff) → its decision as it was (None: created by this replay)
    decided_before: dict[int, dict[str, Any] | None] = {}
    removed: list[Handoff] = []
    for lead_id, lead in leads.items():
        events = events_by_lead.get(lead_id, [])
        stage = events[-1]["stage"] if events else Stage.INQUIRY
        changed_at = events[-1]["occurred_at"] if events else None
        if (lead.stage, lead.stage_changed_at) != (stage, changed_at):
            lead.stage, lead.stage_changed_at = stage, changed_at
            changed_leads.append(lead)

        derived = derive_handoffs(events)
        matched, unmatched = _handoffs_matched(handoffs_by_lead.get(lead_id, []), derived)
        to_delete.extend(h.pk for h in unmatched)
        removed.extend(unmatched)
        for handoff, wanted in zip(matched, derived, strict=True):
            if handoff is None:
                handoff = Handoff(lead_id=lead_id, owner_id=lead.owner_id)
                to_create.append(handoff)
                decided_before[id(handoff)] = None
            elif _handoff_matches(handoff, wanted, reasons):
                continue
            else:
                to_save.append(handoff)
                decided_before[id(handoff)] = _decision(handoff)
                if handoff.status == Handoff.Status.REJECTED != wanted.status:
                    unrejected.append(handoff.pk)
            handoff.handed_at = wanted.handed_at
            handoff.status = wanted.status
            handoff.decided_at = wanted.decided_at
            handoff.decided_by_id = wanted.decided_by_id
            handoff.reason_id = reasons.get(wanted.reason_code)
            handoff.opening_event_id = wanted.opening_event_id
            handoff.closing_event_id = wanted.closing_event_id
            if wanted.note and not handoff.feedback:
                handoff.feedback = wanted.note

    if changed_leads:
        update_rows(Lead, changed_leads, ["stage", "stage_changed_at"])
    # A disputed rejection stays a rejection: events that would delete it or decide it
    # otherwise are refused (the dispute and its numbers would lose what they are about).
    if to_delete or unrejected:
        disputed = Dispute.objects.filter(handoff_id__in=[*to_delete, *unrejected])
        if found := disputed.select_related("handoff").first():
            handed = f"{found.handoff.handed_at:%Y-%m-%d %H:%M}"
            raise ValidationError(
                f"The stage events would no longer reject the handoff of {handed} of lead "
                f"{found.handoff.lead_id}, but its rejection is disputed: correct the events "
                "back first."
            )
    if to_delete:
        Handoff.objects.filter(pk__in=to_delete).delete()
    # Decided rows first, so that a row turning pending never meets another pending one.
    to_save.sort(key=lambda h: h.status == Handoff.Status.PENDING)
    fields = ["handed_at", "status", "decided_at", "decided_by", "reason", "feedback"]
    fields += ["opening_event", "closing_event"]
    update_rows(Handoff, to_save, fields)  # in this order
    if to_create:
        Handoff.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    if audited:
        _decisions_audit(
            [(h, decided_before[id(h)]) for h in [*to_save, *to_create]],
            removed,
            leads=leads,
            events_by_lead=events_by_lead,
            reasons=reasons,
            by=by,
            details=audit_details or {},
        )
    handoffs_refresh_sla(lead_ids=lead_ids)


def _decision(handoff: Handoff) -> dict[str, Any]:
    """What the audit log reads of a handoff's decision (ids; `_decisions_audit` names them)."""
    return {
        "status": handoff.status,
        "decided_at": handoff.decided_at,
        "decided_by": handoff.decided_by_id,
        "reason": handoff.reason_id,
        "feedback": handoff.feedback,
    }


def _handoff_label(lead: Lead) -> str:
    """A handoff as the audit log names it: its lead, and the lead's external id."""
    name = str(lead)
    return f"Handoff of {name}" + (f" ({lead.external_id})" if name != lead.external_id else "")


#: The audit action of a decision that turned a handoff to each status.
_DECISION_ACTIONS = {
    Handoff.Status.ACCEPTED: "handoff.accepted",
    Handoff.Status.REJECTED: "handoff.rejected",
    Handoff.Status.WITHDRAWN: "handoff.withdrawn",
    Handoff.Status.PENDING: "handoff.reopened",
}


def _decisions_audit(
    changed: list[tuple[Handoff, dict[str, Any] | None]],
    removed: list[Handoff],
    *,
    leads: dict[int, Lead],
    events_by_lead: dict[int, list[dict]],
    reasons: dict[str, int],
    by: AbstractBaseUser | None,
    details: dict[str, Any],
) -> None:
    """Audit the decisions a replay changed, in one INSERT: a handoff whose status moved (to
    accepted, rejected or withdrawn; back to pending: "reopened"), a decision whose decider,
    reason or time the events corrected, a handoff created already decided, and a handoff the
    events no longer open ("removed"). A handoff opened pending, or whose decision stayed as it
    was (its handed_at moved), is not a decision and writes nothing. Users are named by their
    username (one query for the chunk), reasons by their code."""
    found: list[tuple[str, Handoff, dict[str, list]]] = []
    for handoff, before in changed:
        after = _decision(handoff)
        if before is None:  # created: a decision only if the events decided it already
            if handoff.status == Handoff.Status.PENDING:
                continue
            before = {k: None for k in after} | {"feedback": ""}
        diff = {k: [before[k], v] for k, v in after.items() if before[k] != v}
        if "status" in diff:
            action = _DECISION_ACTIONS[handoff.status]
        elif diff and handoff.status != Handoff.Status.PENDING:
            action = "handoff.corrected"
        else:
            continue
        found.append((action, handoff, diff))
    for handoff in removed:
        found.append(("handoff.removed", handoff, {"status": [handoff.status, None]}))
    if not found:
        return
    user_ids = {v for _, _, diff in found for v in diff.get("decided_by", ()) if v is not None}
    usernames = dict(User.objects.filter(pk__in=user_ids).values_list("pk", User.USERNAME_FIELD))
    codes = {pk: code for code, pk in reasons.items()}
    names = {"decided_by": usernames, "reason": codes}
    entries = []
    for action, handoff, diff in found:
        for field, lookup in names.items():
            if field in diff:
                diff[field] = [lookup.get(v, v) if v is not None else None for v in diff[field]]
        lead = leads[handoff.lead_id]
        source = next(
            (
                e["source"]
                for e in events_by_lead.get(handoff.lead_id, ())
                if e["id"] == handoff.closing_event_id
            ),
            "",
        )
        entries.append(
            audit_entry(
                actor=by,
                action=action,
                target=handoff,
                label=_handoff_label(lead),
                changes=diff,
                details={
                    "lead": lead.external_id,
                    "handed_at": handoff.handed_at,
                    **({"source": source} if source else {}),
                    **details,
                },
            )
        )
    audit_record_many(entries=entries)


def _handoffs_matched(
    existing: list[Handoff], derived: list[DerivedHandoff]
) -> tuple[list[Handoff | None], list[Handoff]]:
    """The stored handoff for each derived one (None: a new one), and the stored ones left
    over. First by opening event; the rest in order (an event arriving late, or rows from before
    the events were linked, keep their place)."""
    by_event = {h.opening_event_id: h for h in existing if h.opening_event_id is not None}
    matched = [by_event.get(w.opening_event_id) if w.opening_event_id else None for w in derived]
    taken = {h.pk for h in matched if h is not None}
    rest = iter([h for h in existing if h.pk not in taken])
    matched = [h if h is not None else next(rest, None) for h in matched]
    return matched, list(rest)


def _handoff_matches(handoff: Handoff, wanted: DerivedHandoff, reasons: dict[str, int]) -> bool:
    return (
        handoff.opening_event_id == wanted.opening_event_id
        and handoff.closing_event_id == wanted.closing_event_id
        and handoff.handed_at == wanted.handed_at
        and handoff.status == wanted.status
        and handoff.decided_at == wanted.decided_at
        and handoff.decided_by_id == wanted.decided_by_id
        and handoff.reason_id == reasons.get(wanted.reason_code)
    )


# --- SLA facts of handoffs --------------------------------------------------------------------


def sla_versions() -> tuple[list[datetime], list[tuple[int, SlaTerms]]]:
    versions = ServiceLevelAgreement.objects.filter(
        status=ServiceLevelAgreement.Status.APPROVED
    ).order_by("effective_from", "version")
    starts = [sla.effective_from for sla in versions]
    terms = [
        (sla.pk, SlaTerms.from_sla(sla, default_timezone=settings.TIME_ZONE)) for sla in versions
    ]
    return starts, terms


def handoffs_refresh_sla(
    *,
    lead_ids: Iterable[int] | None = None,
    handed_since: datetime | None = None,
    handoff_ids: Iterable[int] | None = None,
) -> int:
    """Re-derive the SLA facts of these leads' handoffs (all handoffs when `lead_ids` is None;
    only those handed at or after `handed_since` when given; only `handoff_ids` when given).

    The SLA in effect at handed_at sets the first-contact deadline, the cadence window and,
    while the handoff is pending, the next attempt's due date (business time when it sets
    business hours); the first attempt at or after handed_at gives speed to lead. Returns how
    many handoffs changed.
    """
    starts, terms = sla_versions()
    since_handoff = ContactAttempt.objects.filter(
        lead=OuterRef("lead_id"), occurred_at__gte=OuterRef("handed_at")
    )
    first_attempt = since_handoff.order_by("occurred_at").values("occurred_at")[:1]
    tally = since_handoff.order_by().values("lead")
    pending = Q(decided_at__isnull=True)
    handoffs = (
        Handoff.objects.all()
        if lead_ids is None
        else Handoff.objects.filter(lead_id__in=list(lead_ids))
    )
    if handed_since is not None:
        handoffs = handoffs.filter(handed_at__gte=handed_since)
    if handoff_ids is not None:
        handoffs = handoffs.filter(pk__in=list(handoff_ids))
    chosen = handoffs
    handoffs = handoffs.annotate(
        first_attempt=Subquery(first_attempt),
        # Only pending handoffs have a next attempt due: the database skips the others.
        attempt_count=Case(
            When(pending, then=Subquery(tally.annotate(n=Count("id")).values("n"))),
            default=Value(None),
        ),
        last_attempt=Case(
            When(pending, then=Subquery(tally.annotate(m=Max("occurred_at")).values("m"))),
            default=Value(None),
        ),
        closed_out=Case(
            When(
                pending,
                then=Exists(
                    since_handoff.filter(
                        outcome__in=[
                            ContactAttempt.Outcome.CONNECTED,
                            ContactAttempt.Outcome.MEETING_BOOKED,
                        ]
                    )
                ),
            ),
            default=Value(False),
        ),
    ).order_by("pk")
    fields = [
        "sla",
        "first_contact_due_at",
        "cadence_due_at",
        "next_attempt_due_at",
        "first_attempt_at",
        "responded_at",
        "speed_to_lead_hours",
    ]
    changed: list[Handoff] = []
    count = 0
    for handoff in handoffs.iterator(chunk_size=2000):
        before = [getattr(handoff, f if f != "sla" else "sla_id") for f in fields]
        handoff_apply_sla(handoff=handoff, starts=starts, terms=terms)
        if [getattr(handoff, f if f != "sla" else "sla_id") for f in fields] != before:
            changed.append(handoff)
        if len(changed) >= 2000:
            update_rows(Handoff, changed, fields)
            count += len(changed)
            changed = []
    if changed:
        update_rows(Handoff, changed, fields)
    handoffs_refresh_outcomes(handoffs=chosen)  # the cadence window may have moved
    return count + len(changed)


def handoffs_refresh_outcomes(
    *, lead_ids: Iterable[int] | None = None, handoffs: QuerySet | None = None
) -> int:
    """Re-derive the cohort outcomes of these leads' handoffs (or of `handoffs`; all without
    either) in one UPDATE: the first SQL at or after the handoff, a won deal of the lead, the
    attempts within the cadence window (after its deadline is set), and a won deal or a
    disqualification after the decision. Returns rows updated."""
    if handoffs is None:
        handoffs = (
            Handoff.objects.all()
            if lead_ids is None
            else Handoff.objects.filter(lead_id__in=list(lead_ids))
        )
    return handoffs.order_by().update(**handoff_outcomes())


def handoff_outcomes(
    stage_events: type[models.Model] = StageEvent,
    deals: type[models.Model] = Deal,
    attempts: type[models.Model] = ContactAttempt,
) -> dict[str, object]:
    """The expressions of a handoff's cohort outcomes, over its lead's records (the models
    can be a migration's historical ones)."""
    window = {
        "lead": OuterRef("lead_id"),
        "occurred_at__gte": OuterRef("handed_at"),
        "occurred_at__lte": OuterRef("cadence_due_at"),
    }
    first_sql = stage_events.objects.filter(
        lead=OuterRef("lead_id"), stage=Stage.SQL.value, occurred_at__gte=OuterRef("handed_at")
    ).order_by("occurred_at")
    tried = attempts.objects.filter(**window).order_by().values("lead")
    success = [ContactAttempt.Outcome.CONNECTED.value, ContactAttempt.Outcome.MEETING_BOOKED.value]
    won = deals.objects.filter(lead=OuterRef("lead_id"), status=Deal.Status.WON.value)
    disqualified = stage_events.objects.filter(
        lead=OuterRef("lead_id"),
        stage=Stage.DISQUALIFIED.value,
        occurred_at__gt=OuterRef("decided_at"),
    )
    return {
        "sql_reached_at": Subquery(first_sql.values("occurred_at")[:1]),
        "lead_won": Exists(won),
        "window_attempts": Coalesce(
            Subquery(tried.annotate(n=Count("id")).values("n"), output_field=IntegerField()), 0
        ),
        "window_success": Exists(attempts.objects.filter(outcome__in=success, **window)),
        "won_after_decision": Exists(won.filter(closed_at__gt=OuterRef("decided_at"))),
        "disqualified_after_decision": Exists(disqualified),
    }


def handoff_apply_sla(
    *, handoff: Handoff, starts: list[datetime], terms: list[tuple[int, SlaTerms]]
) -> None:
    position = bisect.bisect_right(starts, handoff.handed_at) - 1
    handoff.first_attempt_at = handoff.first_attempt
    # A decision responds to the lead; a withdrawal (the lead left the funnel) does not, and
    # a call after it answers the lead's next handoff, not the withdrawn one.
    first, decision = handoff.first_attempt_at, handoff.decided_at
    if handoff.status == Handoff.Status.WITHDRAWN:
        if first is not None and decision is not None and first > decision:
            first = None
        decision = None
    moments = [m for m in (first, decision) if m is not None]
    handoff.responded_at = min(moments) if moments else None
    if position < 0:
        handoff.sla_id = handoff.first_contact_due_at = handoff.cadence_due_at = None
        handoff.next_attempt_due_at = handoff.speed_to_lead_hours = None
        return
    handoff.sla_id, sla_terms = terms[position]
    handoff.first_contact_due_at = first_contact_deadline(handoff.handed_at, sla_terms)
    handoff.cadence_due_at = cadence_window_end(handoff.handed_at, sla_terms)
    handoff.next_attempt_due_at = _next_attempt_due(handoff, sla_terms)
    handoff.speed_to_lead_hours = (
        round(
            business_hours_between(handoff.handed_at, handoff.first_attempt_at, sla_terms.calendar),
            6,
        )
        if handoff.first_attempt_at
        else None
    )


def handoff_note_attempts(*, handoff: Handoff, attempts: Iterable[tuple[datetime, str]]) -> Handoff:
    """Set on an in-memory handoff what `handoffs_refresh_sla` annotates from the database,
    from its lead's (occurred_at, outcome) attempts, so that `handoff_apply_sla` derives the same
    facts (for writers that build handoffs without the database, such as the demo data)."""
    since = sorted((at, outcome) for at, outcome in attempts if at >= handoff.handed_at)
    pending = handoff.decided_at is None
    handoff.first_attempt = since[0][0] if since else None
    handoff.attempt_count = len(since) if pending else None
    handoff.last_attempt = since[-1][0] if pending and since else None
    handoff.closed_out = pending and any(
        outcome in {ContactAttempt.Outcome.CONNECTED, ContactAttempt.Outcome.MEETING_BOOKED}
        for _, outcome in since
    )
    return handoff


def _next_attempt_due(handoff: Handoff, terms: SlaTerms) -> datetime | None:
    """While pending: the first contact deadline before any attempt, then Z (business) days
    after the latest attempt, until Y attempts were made or one connected or booked a meeting.
    """
    if handoff.decided_at is not None:
        return None
    count = getattr(handoff, "attempt_count", None)
    last = getattr(handoff, "last_attempt", None)
    if count is None:  # not annotated: all that is known is the first attempt
        count, last = (
            (0, None) if handoff.first_attempt_at is None else (1, handoff.first_attempt_at)
        )
    if getattr(handoff, "closed_out", False) or count >= terms.attempts:
        return None
    if count == 0 or last is None:
        return handoff.first_contact_due_at
    return add_business_days(last, terms.attempt_spacing_days, terms.calendar)


# --- decisions from the app and the API -----------------------------------------------------


def handoff_can_decide(*, handoff: Handoff, user: AbstractBaseUser) -> bool:
    """Reps decide their own handoffs; sales managers and admins decide any."""
    role = user_role(user)
    if role in {Role.SALES_MANAGER, Role.ADMIN}:
        return True
    return role == Role.SALES_REP and handoff.owner_id == user.pk


def handoff_can_log_attempt(*, handoff: Handoff, user: AbstractBaseUser) -> bool:
    """An attempt is the lead's, so a rep logs one only through the lead's latest handoff, and
    only their own: an older handoff of a lead handed to someone else since is not theirs to
    work (sales managers and admins log on any)."""
    if not handoff_can_decide(handoff=handoff, user=user):
        return False
    if user_role(user) != Role.SALES_REP:
        return True
    later = Handoff.objects.filter(lead_id=handoff.lead_id, handed_at__gt=handoff.handed_at)
    return not later.exists()


LEAD_READERS = {Role.MARKETING_REP, Role.MARKETING_MANAGER, Role.SALES_MANAGER, Role.ADMIN}


def lead_can_view(*, lead: Lead, user: AbstractBaseUser) -> bool:
    """Marketing, sales managers and admins read every lead; a sales rep reads the leads they
    own and those of any handoff of theirs (pending in their inbox or accepted in My leads,
    even when the CRM has since sent the lead without an owner)."""
    role = user_role(user)
    if role in LEAD_READERS:
        return True
    if role != Role.SALES_REP:
        return False
    return lead.owner_id == user.pk or Handoff.objects.filter(lead=lead, owner=user).exists()


def _closed_words(handoff: Handoff) -> str:
    """Why a handoff is no longer pending, in words: decided, or withdrawn because its lead
    left the funnel (the stage of the event that closed it)."""
    if handoff.status != Handoff.Status.WITHDRAWN:
        return "This handoff was already decided."
    event = handoff.closing_event
    left = f"was {event.get_stage_display().lower()}" if event else "left the funnel"
    return f"This handoff was withdrawn: the lead {left} before sales decided."


def _decide(
    handoff: Handoff,
    *,
    by: AbstractBaseUser,
    stage: str,
    reason: str,
    note: str,
    audit_details: dict[str, Any] | None = None,
) -> None:
    # Locked, and read again: of two people deciding at once, the second waits here for the
    # first's commit and is then told, instead of deciding the handoff a second time.
    locked = Handoff.objects.select_for_update(of=("self",)).get(pk=handoff.pk)
    if locked.status != Handoff.Status.PENDING:
        handoff.refresh_from_db()
        raise Conflict(_closed_words(locked))
    with funnel_followed([handoff.lead_id]):
        _record_decision(
            handoff, by=by, stage=stage, reason=reason, note=note, audit_details=audit_details
        )
    handoff.refresh_from_db()


def _record_decision(
    handoff: Handoff,
    *,
    by: AbstractBaseUser,
    stage: str,
    reason: str,
    note: str,
    audit_details: dict[str, Any] | None = None,
) -> None:
    """The decision as a stage event, replayed into the handoff (the replay audits it)."""
    StageEvent.objects.create(
        lead_id=handoff.lead_id,
        stage=stage,
        occurred_at=max(timezone.now(), handoff.handed_at),
        actor=by,
        reason=reason,
        note=note,
        source=StageEvent.Source.APP,
    )
    leads_sync_stages(lead_ids=[handoff.lead_id], by=by, audit_details=audit_details)


@transaction.atomic
def handoff_accept(*, handoff: Handoff, by: AbstractBaseUser) -> Handoff:
    _decide(handoff, by=by, stage=Stage.SAL, reason="", note="")
    return handoff


OTHER_NEEDS_FEEDBACK = "Say what is wrong: '{reason}' needs feedback for marketing."


@transaction.atomic
def handoff_reject(
    *,
    handoff: Handoff,
    by: AbstractBaseUser,
    reason: str,
    feedback: str = "",
    rating: int | None = None,
) -> Handoff:
    """Reject a pending handoff for a reason, with feedback for marketing and a rating.

    A reason that `requires_feedback` ("Other") is refused with blank feedback: "other" tells
    marketing nothing by itself. The rule is the app's and the API's, for decisions taken in
    Tandem; a `rejected` stage event ingested from the CRM (`stage_events_upsert`) is history
    recorded elsewhere and is kept as it was sent, with or without a note.
    """
    if not reason:
        raise ValidationError({"reason": "A rejection needs a reason."})
    found = RejectionReason.objects.filter(code=reason, active=True).first()
    if found is None:
        raise ValidationError({"reason": f"Unknown rejection reason {reason!r}."})
    if found.requires_feedback and not (feedback or "").strip():
        raise ValidationError({"feedback": OTHER_NEEDS_FEEDBACK.format(reason=found.label)})
    if rating is not None and not 1 <= rating <= 5:
        raise ValidationError({"rating": "Rate the lead from 1 to 5."})
    rated = {"rating": rating} if rating is not None else None
    _decide(handoff, by=by, stage=Stage.REJECTED, reason=reason, note=feedback, audit_details=rated)
    handoff.feedback = feedback
    handoff.rating = rating
    handoff.save(update_fields=["feedback", "rating"])
    return handoff


# --- reassigning a pending handoff ---------------------------------------------------------

REASSIGNERS = {Role.SALES_MANAGER, Role.ADMIN}
ASSIGNABLE = {Role.SALES_REP, Role.SALES_MANAGER}


def handoff_can_reassign(*, user: AbstractBaseUser) -> bool:
    """Sales managers and admins move pending handoffs between sales people."""
    return user_role(user) in REASSIGNERS


@transaction.atomic
def handoff_reassign(
    *,
    handoff: Handoff,
    to: AbstractBaseUser,
    by: AbstractBaseUser | None,
    note: str = "",
    now: datetime | None = None,
) -> Handoff:
    """Give a pending handoff, and its lead, to another sales rep or manager.

    The lead's owner moves with the handoff (a new handoff takes its lead's owner, and the
    owner's numbers read both), so the owner dimension of every record of the lead is logged
    for recompute in the same transaction. The move is kept as a `HandoffReassignment`; after
    the commit the new owner is e-mailed (`handoff_reassignment_notify_task`). The SLA
    deadlines stay those of the handoff: the clock started when marketing handed it over.
    """
    now = now or timezone.now()
    locked = (
        Handoff.objects.select_for_update(of=("self",)).select_related("owner").get(pk=handoff.pk)
    )
    if locked.status != Handoff.Status.PENDING:
        closed = "withdrawn" if locked.status == Handoff.Status.WITHDRAWN else "decided"
        raise ValidationError(f"Only a pending handoff can be reassigned; this one was {closed}.")
    if not to.is_active or user_role(to) not in ASSIGNABLE:
        raise ValidationError({"owner": "Reassign to an active sales rep or sales manager."})
    if locked.owner_id == to.pk:
        name = to.get_full_name() or to.get_username()
        raise ValidationError({"owner": f"The handoff is already {name}'s."})
    reassignment = HandoffReassignment.objects.create(
        handoff=locked,
        from_owner=locked.owner,
        to_owner=to,
        by=by,
        at=now,
        note=(note or "").strip(),
    )
    Handoff.objects.filter(pk=locked.pk).update(owner=to)
    Lead.objects.filter(pk=locked.lead_id).update(owner=to, updated_at=now)
    lead = locked.lead
    audit_record(
        actor=by,
        action="handoff.reassigned",
        target=locked,
        label=_handoff_label(lead),
        changes={"owner": [locked.owner, to]},
        details={"lead": lead.external_id},
        note=reassignment.note,
    )
    funnel_leads_changed(lead_ids=[locked.lead_id])
    # robust: the reassignment is committed; a mail server that fails (or a task run eagerly,
    # without a broker, that raises) must not turn it into an error page. The notice is
    # retried by the task, and `notified_at` stays empty until it went out.
    transaction.on_commit(lambda: _notify_later(reassignment.pk), robust=True)
    handoff.owner = to
    return handoff


def _notify_later(reassignment_id: int) -> None:
    from leads.tasks import handoff_reassignment_notify_task

    enqueue(handoff_reassignment_notify_task, reassignment_id)


def handoff_reassignment_notify(*, reassignment_id: int) -> bool:
    """E-mail the new owner that a handoff is theirs now, once (`notified_at`). Returns whether
    a mail went out. No lock is held while sending; `notified_at` is set right after, so a run
    that fails before it sends again on the next try (at least once)."""
    reassignment = (
        HandoffReassignment.objects.select_related("handoff__lead", "to_owner", "by", "from_owner")
        .filter(pk=reassignment_id)
        .first()
    )
    if reassignment is None or reassignment.notified_at is not None:
        return False
    owner = reassignment.to_owner
    if owner is None or not owner.is_active or not owner.email:
        return False
    handoff = reassignment.handoff
    context = {
        "r": reassignment,
        "handoff": handoff,
        "lead": handoff.lead,
        "owner": owner.get_full_name() or owner.get_username(),
        "by": (reassignment.by.get_full_name() or reassignment.by.get_username())
        if reassignment.by
        else "A sales manager",
        "due": handoff.next_attempt_due_at,
        "pending": handoff.status == Handoff.Status.PENDING,
    }
    send_mail(
        subject=render_to_string("leads/email/handoff_reassigned_subject.txt", context).strip(),
        message=render_to_string("leads/email/handoff_reassigned.txt", context),
        from_email=None,
        recipient_list=[owner.email],
    )
    HandoffReassignment.objects.filter(pk=reassignment.pk, notified_at__isnull=True).update(
        notified_at=timezone.now()
    )
    return True


# --- edits from the admin -------------------------------------------------------------------


@transaction.atomic
def funnel_record_change(
    *,
    change: Callable[[], Iterable[int] | None],
    lead_ids: Iterable[int] = (),
    spans: Iterable[tuple[date, date]] = (),
    by: AbstractBaseUser | None = None,
) -> None:
    """Apply an edit made outside the ingest services (the admin) and keep derived data true.

    `change` writes and returns the ids of the leads it touched as they are after the write
    (a new lead has its id only then); `lead_ids` are those it touched before. The leads are
    replayed (stages, handoffs, SLA facts) and re-scored, and every period the edit touched,
    before and after, is logged in the change log. A handoff decision the edit changes is
    audited, with `by` (the admin) as who.
    """
    ids = {pk for pk in lead_ids if pk is not None}
    before = lead_activity(lead_ids=ids)
    with funnel_horizon_followed():  # a campaign may now end later
        ids |= {pk for pk in change() or () if pk is not None}
    leads_sync_stages(lead_ids=ids, by=by)
    leads_score(lead_ids=ids)  # an edited lead may now reach the MQL threshold
    funnel_activity_changed(activity=_merged(before, lead_activity(lead_ids=ids)))
    funnel_changed(spans=spans, part="campaigns")

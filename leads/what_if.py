"""The lead-definition what-if: a draft lead definition run over the recent leads, as evidence
for the two heads before they sign it (issue 10).

What a run computes (the page says the same in words):

* **The leads**: those created in the 90 days before the run was asked for
  (`since` = `until` − 90 days, `until` = the moment it was asked).
* **MQL under a definition**: the lead's score under the definition's rules reaches its
  threshold (`alignment.scoring`). Every lead is scored under the draft and under the
  **baseline**, the definition in effect when the run was asked. With no definition in effect
  (or when the definition run *is* the one in effect) the baseline is what actually happened:
  the leads that reached MQL, i.e. that have a handoff made in the window.
* **The groups**: "MQL under the draft", "MQL under the definition in effect", "only under
  the draft" (new), "only under the one in effect" (dropped) and "under both". Each lead falls
  in one cell (new, dropped, both, or neither: not reported); a group is a sum of cells.
* **What those leads actually had**, per group, all numerators and denominators kept:
  - *handoffs decided* / *accepted*: the group's leads' handoffs made in the window and
    decided (accepted or rejected) before `until`; acceptance rate = accepted ÷ decided.
    (A handoff cannot be withdrawn, so there is no third outcome to leave out.)
  - *handed off* / *won*: the group's leads that were actually handed off (have a handoff made
    in the window, i.e. were real MQLs) and, of those, the ones with a deal won before
    `until`; MQL→won rate = won ÷ handed off.

Nothing is written but the run itself: the leads' stored scores and handoffs stay as they are.

The run is a job like the rescore of a definition in effect (`leads.agreements`): started after
commit as a Celery task (`leads.tasks.what_if_task`), it scores the leads in chunks by id,
each chunk's counts added to the run's result with its progress and resume point
(`last_lead_id`) in one transaction, so a run that stops is resumed where it stopped and gives
the same result. The scoring is Python (as the rescore's); the outcome counts of each chunk are
SQL aggregates over the chunk's lead ids by cell. A draft edited while its run is under way
fails the run (its chunks would mix two sets of rules); a new run is asked for instead.

Who may start one: the heads of marketing and sales (the issue: "either head can run a draft
definition"), and the other managers and the admin, who draft definitions too; reps may not
(they read every run's result, as everyone reads the shared numbers). Any version can be run,
a draft as well as an approved one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from alignment import scoring
from alignment.models import LeadDefinition
from alignment.roles import user_is_manager
from alignment.selectors import lead_definition_in_effect, user_heads_team
from alignment.services.versions import actor
from config.queue import enqueue_on_commit
from leads.models import Deal, Handoff, Lead, WhatIfRun
from leads.selectors import definition_scoring_rules, lead_scoring_rows, lead_scoring_values

WHAT_IF_DAYS = 90
WHAT_IF_CHUNK = 2000
#: A second click while a run of the same rules is still under way shows that run.
WHAT_IF_REUSE = timedelta(minutes=10)

CELLS = ("new", "dropped", "both")
COUNTS = ("leads", "decided", "accepted", "handed_off", "won")
#: The groups of the report, in the order of the page, and the cells each one sums.
GROUPS: dict[str, tuple[str, ...]] = {
    "draft": ("new", "both"),
    "baseline": ("dropped", "both"),
    "new": ("new",),
    "dropped": ("dropped",),
    "both": ("both",),
}
FINISHED = {WhatIfRun.Status.DONE, WhatIfRun.Status.FAILED}
DRAFT_CHANGED = "The draft changed while the what-if ran; run it again on the rules as they are."


# --- who may, and what a run is of --------------------------------------------------------------


def what_if_can_start(*, user: AbstractBaseUser | AnonymousUser) -> bool:
    """The heads, the other managers and the admin; not the reps."""
    return user_is_manager(user) or user_heads_team(user=user) is not None


def definition_digest(*, definition: LeadDefinition) -> str:
    """A fingerprint of what scoring reads of a definition: its threshold and its rules."""
    rules = [
        [rule.field, rule.operator, rule.value, rule.points]
        for rule in definition_scoring_rules(definition=definition)
    ]
    text = json.dumps([definition.mql_threshold, rules], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


# --- services -----------------------------------------------------------------------------------


@transaction.atomic
def what_if_start(
    *, definition: LeadDefinition, by: AbstractBaseUser, now: datetime | None = None
) -> WhatIfRun:
    """Queue a what-if of `definition` over the leads of the last 90 days (after commit).

    A rep is refused (PermissionDenied). A run of the same rules against the same baseline that
    is still queued or running (asked for in the last few minutes) is returned instead of a
    second one.
    """
    if not what_if_can_start(user=by):
        raise PermissionDenied("Only the heads and the managers run a what-if.")
    now = now or timezone.now()
    in_effect = lead_definition_in_effect(at=now)
    baseline = in_effect if in_effect is not None and in_effect.pk != definition.pk else None
    digest = definition_digest(definition=definition)
    running = WhatIfRun.objects.filter(
        definition=definition,
        baseline=baseline,
        definition_digest=digest,
        status__in=[WhatIfRun.Status.QUEUED, WhatIfRun.Status.RUNNING],
        created_at__gte=timezone.now() - WHAT_IF_REUSE,
    ).first()
    if running is not None:
        return running
    since = now - timedelta(days=WHAT_IF_DAYS)
    run = WhatIfRun.objects.create(
        definition=definition,
        baseline=baseline,
        definition_digest=digest,
        requested_by=actor(by),
        since=since,
        until=now,
        total=_window_leads(since, now).count(),
        result={"cells": _zero_cells()},
    )
    from leads.tasks import what_if_task

    enqueue_on_commit(what_if_task, str(run.pk))
    return run


def what_if_run(*, run_id: str, chunk: int = WHAT_IF_CHUNK) -> WhatIfRun:
    """Run (or resume) a what-if, one chunk of leads by id at a time; each chunk's counts, the
    progress and the resume point are saved together. A finished run is returned as it is."""
    run = WhatIfRun.objects.get(pk=run_id)
    if run.status in FINISHED:
        return run
    WhatIfRun.objects.filter(pk=run.pk).update(status=WhatIfRun.Status.RUNNING)
    run.status = WhatIfRun.Status.RUNNING
    definition = LeadDefinition.objects.prefetch_related("rules").get(pk=run.definition_id)
    draft = (definition_scoring_rules(definition=definition), definition.mql_threshold)
    baseline = None
    if run.baseline_id is not None:
        base = LeadDefinition.objects.prefetch_related("rules").get(pk=run.baseline_id)
        baseline = (definition_scoring_rules(definition=base), base.mql_threshold)
    leads = _window_leads(run.since, run.until).order_by("pk")
    cursor = run.last_lead_id
    while ids := list(leads.filter(pk__gt=cursor).values_list("pk", flat=True)[:chunk]):
        if what_if_is_stale(run=run):  # the draft was edited: its chunks would mix two rule sets
            return what_if_fail(run_id=run.pk, error=DRAFT_CHANGED)
        counts = _chunk_counts(run, ids, draft, baseline)
        with transaction.atomic():
            locked = WhatIfRun.objects.select_for_update().get(pk=run.pk)
            if locked.status != WhatIfRun.Status.RUNNING or locked.last_lead_id != cursor:
                return locked  # failed meanwhile, or another worker ran this chunk
            locked.result = {**locked.result, "cells": _added(locked.result["cells"], counts)}
            locked.done += len(ids)
            locked.last_lead_id = cursor = ids[-1]
            locked.save(update_fields=["result", "done", "last_lead_id"])
        run = locked
    with transaction.atomic():
        run = WhatIfRun.objects.select_for_update().get(pk=run.pk)
        if run.status != WhatIfRun.Status.RUNNING:
            return run
        run.result = {**run.result, "groups": _groups(run.result["cells"])}
        run.status = WhatIfRun.Status.DONE
        run.finished_at = timezone.now()
        run.total = max(run.total, run.done)
        run.save(update_fields=["result", "status", "finished_at", "total"])
    return run


def what_if_fail(*, run_id: object, error: str) -> WhatIfRun:
    """Mark a run failed with the reason (a run that finished already stays as it is)."""
    WhatIfRun.objects.filter(pk=run_id).exclude(status__in=FINISHED).update(
        status=WhatIfRun.Status.FAILED, error=error[:2000], finished_at=timezone.now()
    )
    return WhatIfRun.objects.get(pk=run_id)


# --- one chunk ----------------------------------------------------------------------------------


def _window_leads(since: datetime, until: datetime) -> Any:
    return Lead.objects.filter(created_at__gte=since, created_at__lt=until)


def _window_handoffs(since: datetime, until: datetime) -> Any:
    return Handoff.objects.filter(handed_at__gte=since, handed_at__lt=until)


def _chunk_counts(
    run: WhatIfRun,
    ids: list[int],
    draft: tuple[list[scoring.Rule], int],
    baseline: tuple[list[scoring.Rule], int] | None,
) -> dict[str, dict[str, int]]:
    """Score the chunk's leads under both definitions, sort them into cells, count the cells'
    outcomes in SQL."""
    handed: set[int] = set()
    if baseline is None:  # what actually happened: the leads handed off in the window
        handed = set(
            _window_handoffs(run.since, run.until)
            .filter(lead_id__in=ids)
            .values_list("lead_id", flat=True)
        )
    cells: dict[str, list[int]] = {cell: [] for cell in CELLS}
    for row in lead_scoring_rows(lead_ids=ids):
        lead = lead_scoring_values(row)
        under_draft = _is_mql(draft, lead)
        under_baseline = row["id"] in handed if baseline is None else _is_mql(baseline, lead)
        if under_draft and under_baseline:
            cells["both"].append(row["id"])
        elif under_draft:
            cells["new"].append(row["id"])
        elif under_baseline:
            cells["dropped"].append(row["id"])
    return {cell: _outcomes(run, lead_ids) for cell, lead_ids in cells.items()}


def _is_mql(definition: tuple[list[scoring.Rule], int], lead: Mapping[str, Any]) -> bool:
    rules, threshold = definition
    return scoring.score(rules, lead).reaches(threshold)


def _outcomes(run: WhatIfRun, lead_ids: Sequence[int]) -> dict[str, int]:
    """What these leads actually had: two aggregate queries (leads, then handoffs)."""
    if not lead_ids:
        return dict.fromkeys(COUNTS, 0)
    handoffs = _window_handoffs(run.since, run.until)
    won = Deal.objects.filter(lead=OuterRef("pk"), status=Deal.Status.WON, closed_at__lt=run.until)
    leads = (
        Lead.objects.filter(pk__in=lead_ids)
        .annotate(is_handed=Exists(handoffs.filter(lead=OuterRef("pk"))), is_won=Exists(won))
        .aggregate(
            leads=Count("pk"),
            handed_off=Count("pk", filter=Q(is_handed=True)),
            won=Count("pk", filter=Q(is_handed=True, is_won=True)),
        )
    )
    decided = Q(decided_at__lt=run.until)
    outcomes = handoffs.filter(lead_id__in=lead_ids).aggregate(
        decided=Count(
            "pk",
            filter=decided & Q(status__in=[Handoff.Status.ACCEPTED, Handoff.Status.REJECTED]),
        ),
        accepted=Count("pk", filter=decided & Q(status=Handoff.Status.ACCEPTED)),
    )
    return {**leads, **outcomes}


def _zero_cells() -> dict[str, dict[str, int]]:
    return {cell: dict.fromkeys(COUNTS, 0) for cell in CELLS}


def _added(
    cells: Mapping[str, Mapping[str, int]], more: Mapping[str, Mapping[str, int]]
) -> dict[str, dict[str, int]]:
    return {cell: {key: cells[cell][key] + more[cell][key] for key in COUNTS} for cell in CELLS}


def _groups(cells: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, int]]:
    return {
        group: {key: sum(cells[cell][key] for cell in members) for key in COUNTS}
        for group, members in GROUPS.items()
    }


# --- reading a run ------------------------------------------------------------------------------


@dataclass(frozen=True)
class WhatIfRow:
    """One group of the report, with every numerator and denominator."""

    key: str
    label: str
    leads: int
    decided: int
    accepted: int
    handed_off: int
    won: int

    @property
    def acceptance(self) -> float | None:
        return self.accepted / self.decided if self.decided else None

    @property
    def won_rate(self) -> float | None:
        return self.won / self.handed_off if self.handed_off else None


@dataclass(frozen=True)
class WhatIfReport:
    draft_name: str
    baseline_name: str
    leads: int
    rows: tuple[WhatIfRow, ...]
    summary: tuple[str, ...]

    def row(self, key: str) -> WhatIfRow:
        return next(row for row in self.rows if row.key == key)


def what_if_name(definition: LeadDefinition) -> str:
    """How the page names the definition run: the draft (v3), or v3 once approved."""
    if definition.status == LeadDefinition.Status.DRAFT:
        return f"the draft (v{definition.version})"
    return f"v{definition.version}"


def what_if_report(*, run: WhatIfRun) -> WhatIfReport | None:
    """The groups of a finished run, in words and numbers (None until it is done)."""
    groups = run.result.get("groups") if run.status == WhatIfRun.Status.DONE else None
    if groups is None:
        return None
    draft = what_if_name(run.definition)
    is_draft = run.definition.status == LeadDefinition.Status.DRAFT
    short = "the draft" if is_draft else f"v{run.definition.version}"
    base = f"v{run.baseline.version}" if run.baseline_id else ""
    labels = {
        "draft": f"MQL under {draft}",
        "baseline": f"MQL under the definition in effect ({base})"
        if base
        else "Actually handed off (MQL)",
        "new": f"Only under {short} (new)",
        "dropped": "Only under the one in effect (dropped)"
        if base
        else f"Handed off, not MQL under {draft} (dropped)",
        "both": "Under both",
    }
    rows = tuple(
        WhatIfRow(key, labels[key], **{k: groups[key][k] for k in COUNTS}) for key in GROUPS
    )
    report = WhatIfReport(draft, base, run.done, rows, ())
    return WhatIfReport(draft, base, run.done, rows, _summary(report))


def _summary(report: WhatIfReport) -> tuple[str, ...]:
    draft, base = report.row("draft"), report.row("baseline")
    new, dropped = report.row("new").leads, report.row("dropped").leads
    against = (
        f"under {report.baseline_name}"
        if report.baseline_name
        else "that were actually handed off (no other definition was in effect)"
    )
    lines = [
        f"Under {report.draft_name}, {draft.leads:,} of the {report.leads:,} leads created in the "
        f"last {WHAT_IF_DAYS} days would have become MQLs, against {base.leads:,} {against}: "
        f"{new:,} new, {dropped:,} dropped."
    ]
    subjects = {"new": "The new ones", "dropped": "The dropped ones", "both": "Those under both"}
    for key, subject in subjects.items():
        if (row := report.row(key)).leads:
            lines.append(_evidence(subject, row))
    return tuple(lines)


def _evidence(subject: str, row: WhatIfRow) -> str:
    if not row.handed_off:
        return f"{subject} ({row.leads:,}) were never actually handed off: no evidence yet."
    accepted = (
        f"accepted {_pct(row.acceptance)} of the time ({row.accepted:,} of {row.decided:,} "
        "decided handoffs)"
        if row.decided
        else "not decided yet"
    )
    return (
        f"{subject} were {accepted} and won {_pct(row.won_rate)} "
        f"({row.won:,} of {row.handed_off:,} handed off)."
    )


def _pct(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.0f} %"


def what_if_is_stale(*, run: WhatIfRun) -> bool:
    """Whether the draft was edited since the run (its result is of other rules then)."""
    definition = LeadDefinition.objects.prefetch_related("rules").get(pk=run.definition_id)
    return definition_digest(definition=definition) != run.definition_digest


def what_if_state(
    *, definition: LeadDefinition, user: AbstractBaseUser | AnonymousUser | None
) -> dict[str, Any]:
    """What the what-if button of a definition shows: whether the user may start a run, the
    latest run that finished with a result, and one still under way."""
    runs = WhatIfRun.objects.filter(definition=definition).order_by("-created_at")
    return {
        "can_start": user is not None and what_if_can_start(user=user),
        "latest": runs.filter(status=WhatIfRun.Status.DONE).first(),
        "running": runs.filter(
            status__in=[WhatIfRun.Status.QUEUED, WhatIfRun.Status.RUNNING]
        ).first(),
    }

"""What the rep's lists and the disputes export as CSV: a header and the rows, read from the
selector the page reads, for the same owner and viewer, every row rather than a page of them;
what a page completes for the rows it shows (touches, attempts, why an MQL, the next step) is
completed a batch at a time (`config.csv_export` streams and neutralises them)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet

from alignment.exports import CHUNK, Table, name_of
from alignment.scoring import rule_words
from config.csv_export import batches
from leads.models import Dispute, Handoff
from leads.selectors import (
    handoff_sla_step,
    handoffs_why,
    inbox_history,
    my_leads_steps,
)


def lead_label(lead: Any) -> str:
    return lead.name or lead.email or lead.external_id


# --- the inbox ------------------------------------------------------------------------------

_SLA_STEPS = {
    "none": "No SLA deadline",
    "kept": "Cadence kept",
    "first_contact": "First contact",
    "next_attempt": "Next attempt",
}


def inbox_table(handoffs: QuerySet[Handoff], *, now: datetime) -> Table:
    """Pending handoffs as the inbox orders them (`leads.selectors.inbox_handoffs`), with
    their SLA step at `now`, why each is an MQL and their history, as the cards say it."""
    header = ["Lead", "Lead id", "Company", "E-mail", "Campaign", "Owner", "Handed over",
              "SLA step", "Due at", "Overdue", "Score", "MQL threshold", "Lead definition",
              "Rules matched", "Marked MQL by", "Touches", "Attempts", "Last attempt",
              "Last attempt outcome", "Reopened after a dispute"]  # fmt: skip

    def lines() -> Iterator[Sequence[object]]:
        for batch in batches(handoffs.iterator(chunk_size=CHUNK), CHUNK):
            inbox_history(handoffs=batch)
            handoffs_why(handoffs=batch, now=now)
            for h in batch:
                lead, why, step = h.lead, h.why, handoff_sla_step(handoff=h, now=now)
                attempts = lead.latest_attempts
                yield [
                    lead_label(lead), lead.external_id, lead.company, lead.email,
                    lead.campaign.name if lead.campaign_id else "", name_of(h.owner),
                    h.handed_at, _SLA_STEPS[step.kind], step.deadline,
                    step.overdue if step.deadline else None,
                    why.score if why.scored else why.current_score,
                    why.threshold if why.scored else why.current_threshold,
                    why.version if why.scored else why.current_version,
                    "; ".join(rule_words(r) for r in why.rules), why.marked_by,
                    len(lead.latest_touches), len(attempts),
                    attempts[0].occurred_at if attempts else None,
                    attempts[0].outcome_label if attempts else "", h.reopened,
                ]  # fmt: skip

    return header, lines()


# --- my leads ---------------------------------------------------------------------------------


def _next_step(step: Any) -> str:
    """A lead's next step in words, as My leads says it (without the time left)."""
    if step.kind == "first_contact":
        return "First contact"
    if step.kind == "next_attempt":
        return f"Attempt {step.attempts + 1} of {step.attempts_due}"
    if step.kind == "working":
        return "Cadence done"
    if step.kind == "lapsed":
        return "Cadence window closed: follow up or close the lead"
    return "Nothing due" if step.kind == "closed" else "No SLA for this handoff"


_CADENCE = {"met": "Met", "missed": "Missed", "open": "Open", "": ""}


def my_leads_table(handoffs: QuerySet[Handoff], *, now: datetime) -> Table:
    """Accepted handoffs as My leads orders them (`leads.selectors.my_leads`), with their next
    step at `now` (`my_leads_steps`)."""
    header = ["Lead", "Lead id", "Company", "Owner", "Accepted", "Stage", "Next step", "Due at",
              "Overdue", "Attempts", "Attempts due", "Reached", "Cadence window",
              "Cadence window ends", "Open deals"]  # fmt: skip

    def lines() -> Iterator[Sequence[object]]:
        for batch in batches(handoffs.iterator(chunk_size=CHUNK), CHUNK):
            my_leads_steps(handoffs=batch, now=now)
            for h in batch:
                lead, step = h.lead, h.step
                yield [
                    lead_label(lead), lead.external_id, lead.company, name_of(h.owner),
                    h.decided_at, lead.get_stage_display(), _next_step(step), step.due,
                    step.left < timedelta(0) if step.left is not None else None,
                    h.attempts_made, step.attempts_due, h.reached, _CADENCE[step.cadence],
                    step.window_ends, h.open_amount,
                ]  # fmt: skip

    return header, lines()


# --- disputes ---------------------------------------------------------------------------------


def disputes_table(sections: Iterable[tuple[str, Iterable[Dispute]]]) -> Table:
    """Disputes by section of the page (waiting for the viewer, open, settled), each with
    `visible` (`dispute_can_read`): without it, its state, times and counts only, as the page
    shows it (no lead, no names, no comment)."""
    header = ["Section", "Dispute", "Lead", "Lead id", "Reason", "Rejected on", "Rejected by",
              "Attempts before the decision", "Disputed on", "Disputed by", "State",
              "Waits for the head of", "Waits for", "Settled on", "Comment"]  # fmt: skip

    def lines() -> Iterator[Sequence[object]]:
        for section, disputes in sections:
            for d in disputes:
                h, seen = d.handoff, d.visible
                awaits = d.status == Dispute.Status.AWAITING
                head = getattr(d, "awaiting_head", None)
                state = "Waiting for an outcome" if d.status == Dispute.Status.OPEN else (
                    d.get_outcome_display())  # fmt: skip
                yield [
                    section, d.pk, lead_label(h.lead) if seen else "",
                    h.lead.external_id if seen else "", h.reason.label if h.reason_id else "",
                    h.decided_at, name_of(h.decided_by) if seen else "",
                    d.attempts_before_decision, d.raised_at,
                    name_of(d.raised_by) if seen else "", state,
                    d.awaiting_team if awaits else "", name_of(head) if seen and awaits else "",
                    d.resolved_at, d.comment if seen else "",
                ]  # fmt: skip

    return header, lines()

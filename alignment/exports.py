"""What the Agreements and Together list pages export as CSV: a header and the rows, read
from the selector the page reads, with the same filters and for the same viewer, but every
row rather than a page of them (`config.csv_export` streams and neutralises them)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from alignment.models import (
    ActionItem,
    AuditEntry,
    FieldInsight,
    Meeting,
    ShadowingSession,
    Spotlight,
)
from alignment.selectors import IdeaColumn
from alignment.selectors_audit import (
    audit_action_label,
    audit_changes_line,
    audit_details_line,
    audit_target_name,
)
from alignment.templatetags.ideas_insights import days_between

Table = tuple[list[str], Iterator[Sequence[object]]]
#: How many rows an export reads from the database at once.
CHUNK = 500


def name_of(user: Any) -> str:
    """A person as the lists name them: their full name, or their username."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _capfirst(text: str) -> str:
    return text[:1].upper() + text[1:]


# --- the agreements' versions --------------------------------------------------------------


def versions_table(rows: Iterable[dict[str, Any]]) -> Table:
    """The versions of the SLA or the lead definition (`alignment.pages.versions_page`)."""
    header = ["Version", "Status", "Effective from", "Marketing approved by",
              "Marketing approved at", "Sales approved by", "Sales approved at", "Created by",
              "Created at"]  # fmt: skip

    def lines() -> Iterator[Sequence[object]]:
        for row in rows:
            v = row["version"]
            approvals = {a.team: a for a in row["approvals"]}
            line: list[object] = [v.version, _capfirst(row["status"].label), v.effective_from]
            for team in ("marketing", "sales"):
                a = approvals.get(team)
                signed = a is not None and a.at is not None
                line += [a.by.get_username() if signed and a.by else "", a.at if signed else None]
            yield [*line, v.created_by.get_username() if v.created_by else "", v.created_at]

    return header, lines()


# --- together: ideas, field insights, meetings, shadowing, spotlights ------------------------


def ideas_table(columns: Iterable[IdeaColumn]) -> Table:
    """The ideas board the viewer reads (their own drafts, never others'), column by column
    in the board's order (`alignment.selectors.ideas_board(whole=True)`)."""
    header = ["Status", "Title", "Author", "Author team", "Created", "Last changed", "Opened",
              "Decided", "Marketing votes", "Sales votes", "Other votes", "Comments",
              "You voted", "Became campaign", "Became goal", "Parked because", "Idea"]  # fmt: skip

    def lines() -> Iterator[Sequence[object]]:
        for column in columns:
            for idea in column.rows:
                yield [
                    column.label, idea.title, name_of(idea.author), idea.author_team,
                    idea.created_at, idea.updated_at, idea.opened_at, idea.decided_at,
                    idea.marketing_votes, idea.sales_votes, idea.other_votes, idea.comment_count,
                    idea.viewer_voted, idea.campaign.name if idea.campaign else "",
                    idea.goal.name if idea.goal else "", idea.parked_reason, idea.body,
                ]  # fmt: skip

    return header, lines()


def insights_table(insights: QuerySet[FieldInsight], *, now: datetime | None = None) -> Table:
    """Field insights as the list filters them (`alignment.selectors.insights_filtered`),
    newest first, with marketing's answer and how long it waited (so far, if unanswered)."""
    now = now or timezone.now()
    header = ["Kind", "Posted by", "Posted at", "What the prospect said", "Tags", "Campaign",
              "Answer", "Used in campaign", "Answered by", "Answered at", "Answer text",
              "Days waited"]  # fmt: skip

    def lines() -> Iterator[Sequence[object]]:
        for i in insights.iterator(chunk_size=CHUNK):
            waited = days_between(i.posted_at, i.answered_at or now)
            yield [
                i.get_kind_display(), name_of(i.posted_by), i.posted_at, i.text,
                " ".join(f"#{t.name}" for t in i.tags.all()),
                i.campaign.name if i.campaign else "",
                i.get_answer_display() if i.answered_at else "Waiting for marketing",
                i.answer_campaign.name if i.answer_campaign else "", name_of(i.answered_by),
                i.answered_at, i.answer_text, round(waited, 1),
            ]  # fmt: skip

    return header, lines()


def meeting_title(meeting: Meeting) -> str:
    """Its title, or its kind and day (`alignment/meetings/title.html`)."""
    if meeting.title:
        return meeting.title
    day = timezone.localtime(meeting.starts_at)
    return f"{meeting.get_kind_display()}, {day.day} {day:%b %Y}"


def meetings_table(meetings: QuerySet[Meeting]) -> Table:
    """Meetings as the list filters them (`alignment.selectors.meeting_list`), the latest
    first, with who attended and their open action items."""
    header = ["Meeting", "Kind", "Starts", "Ends", "Campaign", "Marketing attended",
              "Sales attended", "Attendees", "Open action items"]  # fmt: skip

    def lines() -> Iterator[Sequence[object]]:
        for m in meetings.iterator(chunk_size=CHUNK):
            yield [
                meeting_title(m), m.get_kind_display(), m.starts_at, m.ends_at,
                m.campaign.name if m.campaign else "", m.has_marketing, m.has_sales,
                ", ".join(name_of(a.user) for a in m.attendance.all()), m.open_items,
            ]  # fmt: skip

    return header, lines()


def action_items_table(items: Iterable[ActionItem], *, today: Any) -> Table:
    """A meeting's action items (`alignment.selectors.meeting_action_items`): the open ones
    first, with their state as the meeting page says it."""
    header = ["Action item", "Owner", "Due on", "State", "Done at", "Done by"]

    def state(item: ActionItem) -> str:
        if item.done_at:
            return "Done"
        if item.due_on < today:
            return "Overdue"
        return "Due today" if item.due_on == today else "Open"

    def lines() -> Iterator[Sequence[object]]:
        for i in items:
            yield [i.text, name_of(i.owner), i.due_on, state(i), i.done_at, name_of(i.done_by)]

    return header, lines()


def shadowing_table(
    sections: Iterable[tuple[str, Iterable[ShadowingSession]]],
) -> Table:
    """Shadowing sessions by section of the list ("This month and ahead", "Before"), each in
    the list's order."""
    header = ["Section", "Person", "Person's team", "Host", "Host's team", "Starts", "Ends",
              "Focus", "Status", "What was learned", "Debrief meeting"]  # fmt: skip

    def lines() -> Iterator[Sequence[object]]:
        for section, sessions in sections:
            for s in sessions:
                yield [
                    section, name_of(s.person), s.person_team, name_of(s.host), s.host_team,
                    s.starts_at, s.ends_at, s.focus, s.get_status_display(), s.learned,
                    meeting_title(s.debrief) if s.debrief_id else "",
                ]  # fmt: skip

    return header, lines()


def spotlights_table(spotlights: QuerySet[Spotlight]) -> Table:
    """Joint wins, newest first (`alignment.selectors.spotlight_list(viewer=..., thankers=True)`),
    with their deal, their people by team and who thanked them."""
    header = ["Spotlight", "Deal", "Amount", "Company", "Won on", "Marketing people",
              "Sales people", "Other people", "Thanks", "Thanked by", "You thanked",
              "Posted by", "Posted at", "Story"]  # fmt: skip

    def lines() -> Iterator[Sequence[object]]:
        for s in spotlights.iterator(chunk_size=CHUNK):
            people: dict[str, list[str]] = {"marketing": [], "sales": [], "": []}
            for credit in s.credits.all():
                people.setdefault(credit.team, []).append(name_of(credit.user))
            deal, lead = s.deal, s.deal.lead
            yield [
                s.title, deal.external_id, deal.amount, lead.company or lead.name,
                deal.closed_at, ", ".join(people["marketing"]), ", ".join(people["sales"]),
                ", ".join(people[""]), s.thanks_count,
                ", ".join(name_of(t.user) for t in s.thanks.all()),
                getattr(s, "thanked", False), name_of(s.created_by), s.created_at, s.story,
            ]  # fmt: skip

    return header, lines()


# --- the audit log ----------------------------------------------------------------------------


def audit_table(entries: Iterable[AuditEntry]) -> Table:
    """The audit log's entries the page lists with its filters (`alignment.views_audit`)."""
    header = ["At", "Who", "Action", "Action code", "Record type", "Record id", "Record",
              "Changes", "Details", "Note"]  # fmt: skip

    def lines() -> Iterator[Sequence[object]]:
        for e in entries:
            yield [
                e.at, e.actor_name or "system", audit_action_label(e.action), e.action,
                audit_target_name(e.target_type), e.target_id, e.target_label,
                audit_changes_line(e), audit_details_line(e), e.note,
            ]  # fmt: skip

    return header, lines()

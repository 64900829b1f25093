"""The agenda of a weekly alignment meeting, pre-filled from the numbers (SPEC §8): SLA breaches
now, goals off track, the top rejection reasons in sales' words, what the last weekly meeting
left open, the field insights posted since, and the ideas open for critique.

It is Markdown, the meeting's own agenda text: the teams edit it like any other, and it
renders through `alignment.markdown` (sanitised). What people typed (a goal's name, a quote,
an insight) is escaped so that it reads as text, never as Markdown of the agenda's own.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from alignment.selectors import (
    action_items_open,
    goal_latest_check_ins,
    ideas_in_critique,
    insights_posted_since,
    insights_unanswered,
    weekly_meeting_last,
)
from core.periods import local_midnight
from kpis.goals import GoalProgress, goals_running
from kpis.pages.common import format_value
from kpis.pages.meeting import meeting_reasons
from leads.selectors import sla_breaches_by_owner

#: A goal is on the agenda when its pace or the teams' latest word on it says so.
GOAL_WORRIES = ("off_track", "at_risk")
REASONS = 3  # top rejection reasons on the agenda
QUOTES = 2  # sales' words quoted for each
QUOTE_LENGTH = 240
NEW_SINCE_DEFAULT = timedelta(days=7)  # "new" insights when there was no weekly meeting yet

_MARKDOWN_CHARS = re.compile(r"([\\`*_\[\]<>|~#])")


def md_text(text: str | None, limit: int = 0) -> str:
    """Someone's words as one line of Markdown text: whitespace folded, the characters that
    would make Markdown of it escaped, cut to `limit` characters (0: no limit)."""
    line = " ".join((text or "").split())
    if limit and len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    return _MARKDOWN_CHARS.sub(r"\\\1", line)


def _name(user: object) -> str:
    if user is None:
        return "nobody"
    return md_text(user.get_full_name() or user.get_username())


def _day(moment: datetime | date) -> str:
    if isinstance(moment, datetime):
        moment = timezone.localtime(moment)
    return f"{moment.day} {moment:%b}"


def _when(moment: datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local.day} {local:%b}, {local:%H:%M}"


# --- the parts ---------------------------------------------------------------------------------


def _breaches() -> list[str]:
    rows = sla_breaches_by_owner()
    if not rows:
        return ["No handoff is past its first-contact deadline."]
    total = sum(r["count"] for r in rows)
    lines = [f"{total} handoff{'s' if total != 1 else ''} past the first-contact deadline:", ""]
    for r in rows:
        oldest = f", the oldest due {_when(r['oldest'])}" if r["oldest"] else ""
        lines.append(f"- **{md_text(r['name'])}**: {r['count']}{oldest}")
    return lines


def _goal_line(g: GoalProgress, check_in: object | None) -> str:
    line = (
        f"- **{md_text(g.label)}** ({g.period_label}): {g.status_label.lower()}, "
        f"{format_value(g.actual, g.unit)} of {format_value(g.target, g.unit)}"
    )
    if check_in is not None:
        note = f": “{md_text(check_in.note, QUOTE_LENGTH)}”" if check_in.note.strip() else ""
        line += f"; check-in of {_day(check_in.week)} says {check_in.get_status_display().lower()}"
        line += note
    return line


def _goals(*, now: datetime) -> list[str]:
    running = goals_running(now=now)
    latest = goal_latest_check_ins(goals=[g.goal for g in running])
    worrying = [
        g
        for g in running
        if g.status in GOAL_WORRIES
        or (g.goal.pk in latest and latest[g.goal.pk].status in GOAL_WORRIES)
    ]
    if not worrying:
        if not running:
            return ["No shared goals are running."]
        return [f"All {len(running)} running goals are on track or achieved."]
    return [_goal_line(g, latest.get(g.goal.pk)) for g in worrying]


def _reasons(*, today: date) -> list[str]:
    data = meeting_reasons(today=today, top=REASONS, quoted=REASONS)
    if not data.reasons:
        return [f"No rejections from {data.range_label}."]
    total = format_value(data.total)
    lines = [f"{total} rejection{'' if total == '1' else 's'} from {data.range_label}:", ""]
    for n, r in enumerate(data.reasons, start=1):
        lines.append(
            f"{n}. **{md_text(r.label)}**: {format_value(r.count)} "
            f"({format_value(r.share, 'ratio')})"
        )
        for h in r.quotes[:QUOTES]:
            who = _name(h.owner) if h.owner else "Sales"
            about = md_text(h.lead.company or str(h.lead))
            lines.append(
                f"   > “{md_text(h.feedback, QUOTE_LENGTH)}” ({who} on {about}, "
                f"{_day(h.decided_at)})"
            )
    return lines


def _actions(*, last: object | None, today: date) -> list[str]:
    if last is None:
        return ["This is the first weekly alignment meeting in Tandem."]
    items = list(action_items_open(meeting=last))
    link = reverse("meeting-detail", args=[last.pk])
    of = f"[{_day(last.starts_at)}]({link})"
    if not items:
        return [f"Everything from the meeting of {of} is done."]
    lines = [f"Still open from the meeting of {of}:", ""]
    for i in items:
        state = "overdue, " if i.due_on < today else ""
        lines.append(f"- {md_text(i.text)} ({_name(i.owner)}, {state}due {_day(i.due_on)})")
    return lines


def _insights(*, since: datetime) -> list[str]:
    new = list(insights_posted_since(since=since))
    waiting = insights_unanswered().filter(posted_at__lt=since).count()
    lines = []
    for i in new:
        answered = "" if i.answered_at is None else " (answered)"
        lines.append(
            f"- *{i.get_kind_display()}*: “{md_text(i.text, QUOTE_LENGTH)}” "
            f"({_name(i.posted_by)}, {_day(i.posted_at)}){answered}"
        )
    if not lines:
        lines.append(f"No field insights posted since {_day(since)}.")
    if waiting:
        link = reverse("insight-list")
        older = f"{waiting} older insight{'s' if waiting != 1 else ''}"
        wait = "wait" if waiting != 1 else "waits"
        lines += ["", f"[{older}]({link}) still {wait} for marketing's answer."]
    return lines


def _ideas() -> list[str]:
    ideas = list(ideas_in_critique())
    if not ideas:
        return ["No idea is open for critique."]
    return [
        f"- **{md_text(i.title)}** ({_name(i.author)}): {i.marketing_votes} marketing "
        f"and {i.sales_votes} sales vote{'s' if i.marketing_votes + i.sales_votes != 1 else ''}, "
        f"{i.comment_count} comment{'s' if i.comment_count != 1 else ''}"
        for i in ideas
    ]


def weekly_agenda(*, today: date | None = None, now: datetime | None = None) -> str:
    """The Markdown agenda of the weekly alignment meeting held `today`: the numbers as they
    stand `now`, and what happened since the last weekly meeting before today."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    last = weekly_meeting_last(before=local_midnight(today, ZoneInfo(settings.TIME_ZONE)))
    since = last.starts_at if last else now - NEW_SINCE_DEFAULT
    parts = [
        ("SLA breaches now", _breaches()),
        ("Goals off track", _goals(now=now)),
        ("Why sales rejected leads", _reasons(today=today)),
        ("Open action items from the last meeting", _actions(last=last, today=today)),
        (f"New field insights since {_day(since)}", _insights(since=since)),
        ("Ideas open for critique", _ideas()),
    ]
    out = []
    for title, lines in parts:
        out += [f"## {title}", "", *lines, ""]
    return "\n".join(out).rstrip() + "\n"

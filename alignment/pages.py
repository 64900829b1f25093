"""The Agreements pages: the SLA and the lead definition in plain words, each version's status,
and what a version changes against the one in effect.

The first half is pure (no database: it reads the attributes of the objects it is given and is
tested without one); the second half builds the pages' contexts from the selectors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone

from alignment import scoring, selectors
from alignment.business_time import parse_business_days
from alignment.models import DualSigned, LeadDefinition, ServiceLevelAgreement
from alignment.roles import Team, user_is_manager, user_role
from alignment.services.accounts import HEAD_ROLE
from alignment.services.lead_definitions import lead_definition_digest
from alignment.services.sla import sla_digest

MINUS = "−"
WEEKDAYS = {1: "Mon", 2: "Tue", 3: "Wed", 4: "Thu", 5: "Fri", 6: "Sat", 7: "Sun"}

# --- numbers and words ----------------------------------------------------------------------


def number_text(value: Decimal | float | int | None) -> str:
    """4.00 → '4', 1.50 → '1.5', 2 → '2'; '—' for nothing."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        value = Decimal(repr(value))
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return str(value)


def day_text(moment: datetime) -> str:
    """'3 Mar 2026', in the current time zone."""
    local = timezone.localtime(moment)
    return f"{local.day} {local:%b %Y}"


def moment_text(moment: datetime) -> str:
    """'3 Mar 2026, 10:15', in the current time zone."""
    local = timezone.localtime(moment)
    return f"{local.day} {local:%b %Y, %H:%M}"


def _counted(n: Decimal | int, one: str, many: str) -> str:
    return f"{number_text(n)} {one if n == 1 else many}"


def weekdays_text(days: str) -> str:
    """'1,2,3,4,5' → 'Mon–Fri'; '1,3,4,5' → 'Mon, Wed–Fri'; all seven → 'every day'."""
    chosen = sorted(parse_business_days(days))
    if len(chosen) == 7:
        return "every day"
    runs: list[list[int]] = []
    for day in chosen:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{WEEKDAYS[run[0]]}–{WEEKDAYS[run[-1]]}")
        else:
            parts.extend(WEEKDAYS[d] for d in run)
    return ", ".join(parts)


def _clock(moment: time | None, *, closing: bool = False) -> str:
    if moment is None:
        return "?"
    if closing and moment == time(0, 0):
        return "24:00"  # midnight at the end of the day
    return f"{moment:%H:%M}"


def business_hours_text(sla: Any, default_timezone: str | None = None) -> str:
    """'Mon–Fri 09:00–17:00 Europe/Berlin', or '' when every hour counts."""
    days = getattr(sla, "business_days", "") or ""
    if not parse_business_days(days):
        return ""
    zone = getattr(sla, "business_timezone", "") or default_timezone or settings.TIME_ZONE
    start = _clock(getattr(sla, "business_start", None))
    end = _clock(getattr(sla, "business_end", None), closing=True)
    return f"{weekdays_text(days)} {start}–{end} {zone}"


def sla_words(sla: Any, default_timezone: str | None = None) -> str:
    """The SLA's terms as both teams would say them:

    'Sales calls every MQL within 4 business hours (Mon–Fri 09:00–17:00 Europe/Berlin), then
    makes 6 attempts 2 business days apart; marketing delivers 100 SALs a month.'
    """
    hours_of = business_hours_text(sla, default_timezone)
    business = "business " if hours_of else ""
    hours = _counted(sla.first_contact_hours, f"{business}hour", f"{business}hours")
    first = f"Sales calls every MQL within {hours}"
    if hours_of:
        first += f" ({hours_of})"
    attempts = int(sla.attempts)
    if attempts <= 1:
        cadence = "and makes one attempt"
    else:
        spacing = _counted(sla.attempt_spacing_days, f"{business}day", f"{business}days")
        cadence = f"then makes {attempts} attempts {spacing} apart"
    sals = _counted(sla.monthly_sal_commitment, "SAL", "SALs")
    return f"{first}, {cadence}; marketing delivers {sals} a month."


# --- scoring rules in words ---------------------------------------------------------------


def rule_value_text(value: Any) -> str:
    """A rule's value as it is typed in the editor: lists comma-separated, true/false."""
    if isinstance(value, list | tuple):
        return ", ".join(rule_value_text(v) for v in value)
    if value is None:
        return ""
    if isinstance(value, bool | int | float | Decimal):
        return number_text(value)
    return str(value)


def rule_words(rule: Mapping[str, Any] | Any) -> str:
    """A scoring rule in words (`alignment.scoring.rule_words`), from the dict kept on a
    handoff or the editor, or from a rule with those attributes (a `ScoringRule`)."""
    if not isinstance(rule, Mapping):
        if not hasattr(rule, "operator"):
            return str(rule)
        rule = {
            name: getattr(rule, name, None) for name in ("field", "operator", "value", "points")
        }
    return scoring.rule_words(rule)


# --- a version's status -------------------------------------------------------------------


@dataclass(frozen=True)
class Status:
    key: str  # draft, awaiting_marketing, awaiting_sales, scheduled, in_effect, superseded
    label: str


def version_status(version: DualSigned, *, in_effect_id: int | None, now: datetime) -> Status:
    """Where a version stands: a draft nobody approved yet, one awaiting the other head, in
    effect, approved and taking effect later, or superseded by a later one."""
    if version.status == DualSigned.Status.APPROVED:
        if version.pk is not None and version.pk == in_effect_id:
            return Status("in_effect", "in effect")
        if version.effective_from > now:
            return Status(
                "scheduled", f"approved, takes effect on {day_text(version.effective_from)}"
            )
        return Status("superseded", "superseded")
    marketing = version.marketing_approved_at is not None
    sales = version.sales_approved_at is not None
    if marketing and not sales:
        return Status("awaiting_sales", "awaiting sales")
    if sales and not marketing:
        return Status("awaiting_marketing", "awaiting marketing")
    return Status("draft", "draft")


@dataclass(frozen=True)
class Approval:
    team: Team
    by: Any
    at: datetime | None


def approvals_of(version: DualSigned) -> list[Approval]:
    return [Approval(team, *version.approval_of(team)) for team in Team]


def person(user: Any) -> str:
    """'Maria Martens (maria)' or 'maria'."""
    if user is None:
        return ""
    full = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return f"{full} ({user.get_username()})" if full else user.get_username()


def approvals_warning(version: DualSigned) -> str:
    """What the edit page says before saving when the draft carries approvals; '' otherwise.

    'Saving a change clears the approvals given so far (maria approved for marketing on
    3 Mar 2026, 10:15).'"""
    given = [a for a in approvals_of(version) if a.at is not None]
    if not given:
        return ""
    parts = []
    for a in given:
        who = a.by.get_username() if a.by is not None else "someone"
        when = moment_text(a.at)
        parts.append(f"{who} approved for {a.team} on {when}")
    return f"Saving a change clears the approvals given so far ({'; '.join(parts)})."


# --- diffs against the version in effect ----------------------------------------------------


@dataclass(frozen=True)
class Change:
    label: str
    old: str
    new: str


def _terms_of_sla(sla: Any) -> list[tuple[str, str]]:
    return [
        ("First contact within", _counted(sla.first_contact_hours, "hour", "hours")),
        ("Contact attempts", str(sla.attempts)),
        ("Days between attempts", _counted(sla.attempt_spacing_days, "day", "days")),
        ("SALs marketing delivers a month", number_text(sla.monthly_sal_commitment)),
        ("Business hours", business_hours_text(sla) or "every hour counts"),
        ("Notes", (sla.notes or "").strip() or "—"),
    ]


def sla_terms(sla: Any) -> list[tuple[str, str]]:
    """(label, value in words) of each SLA term, for the detail page."""
    return _terms_of_sla(sla)


def sla_diff(old: Any, new: Any) -> list[Change]:
    """The terms that differ, old → new (the same labels as the terms on the page)."""
    return [
        Change(label, before, after)
        for (label, before), (_, after) in zip(_terms_of_sla(old), _terms_of_sla(new), strict=True)
        if before != after
    ]


def _rule_dict(rule: Mapping[str, Any] | Any) -> dict[str, Any]:
    if isinstance(rule, Mapping):
        return {k: rule.get(k) for k in ("field", "operator", "value", "points")}
    return {k: getattr(rule, k) for k in ("field", "operator", "value", "points")}


@dataclass
class RulesDiff:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)


def rules_diff(old: Sequence[Any], new: Sequence[Any]) -> RulesDiff:
    """Added, removed and changed rules (in words). A rule is the same rule when its field and
    operator are; a changed rule keeps those and changes its value or points. Order does not
    count: scoring sums the points of every rule that matches."""
    before = [_rule_dict(r) for r in old]
    after = [_rule_dict(r) for r in new]
    for rule in list(after):  # identical rules are no change
        if rule in before:
            before.remove(rule)
            after.remove(rule)
    diff = RulesDiff()
    for rule in after:
        twin = next(
            (r for r in before if (r["field"], r["operator"]) == (rule["field"], rule["operator"])),
            None,
        )
        if twin is None:
            diff.added.append(rule_words(rule))
        else:
            before.remove(twin)
            diff.changed.append(Change(str(rule["field"]), rule_words(twin), rule_words(rule)))
    diff.removed = [rule_words(r) for r in before]
    return diff


def lead_definition_diff(old: Any, new: Any) -> list[Change]:
    """Criteria, threshold and notes that differ, old → new (the rules: `rules_diff`)."""
    pairs = [
        ("Criteria", (old.criteria or "").strip(), (new.criteria or "").strip()),
        ("MQL threshold", f"{old.mql_threshold} points", f"{new.mql_threshold} points"),
        ("Notes", (old.notes or "").strip() or "—", (new.notes or "").strip() or "—"),
    ]
    return [Change(label, a, b) for label, a, b in pairs if a != b]


# --- the pages -------------------------------------------------------------------------------


@dataclass
class Kind:
    """What differs between the SLA's pages and the lead definition's."""

    slug: str  # in URL names: sla, lead-definition
    label: str  # "SLA", "lead definition"
    title: str  # "Service-level agreement", "Lead definition"

    @property
    def capital(self) -> str:
        """'SLA', 'Lead definition': the label at the start of a sentence."""
        return self.label[:1].upper() + self.label[1:]


SLA = Kind("sla", "SLA", "Service-level agreement")
DEFINITION = Kind("lead-definition", "lead definition", "Lead definition")


def version_in_effect(model: type[DualSigned], now: datetime) -> DualSigned | None:
    """The version of `model` (the SLA or the lead definition) in effect at `now`."""
    if model is ServiceLevelAgreement:
        return selectors.sla_in_effect(at=now)
    return selectors.lead_definition_in_effect(at=now)


def _list(model: type[DualSigned]) -> Any:
    if model is ServiceLevelAgreement:
        return selectors.sla_list()
    return selectors.lead_definition_list()


def definition_rules(definition: LeadDefinition) -> list[Any]:
    """A definition's rules in order, from the prefetched rules (no query when prefetched)."""
    return sorted(definition.rules.all(), key=lambda r: r.position)


def definition_rules_words(definition: LeadDefinition) -> list[str]:
    return [rule_words(r) for r in definition_rules(definition)]


def overview_page(*, user: Any, now: datetime) -> dict[str, Any]:
    """The SLA and the lead definition in effect, in words; who heads each team; drafts."""
    sla = selectors.sla_in_effect(at=now)
    definition = selectors.lead_definition_in_effect(at=now)
    heads = selectors.team_heads()
    pending = []
    for kind, model in ((SLA, ServiceLevelAgreement), (DEFINITION, LeadDefinition)):
        current = version_in_effect(model, now)
        for version in _list(model):
            status = version_status(version, in_effect_id=current and current.pk, now=now)
            if status.key not in {"in_effect", "superseded"}:
                pending.append({"kind": kind, "version": version, "status": status})
    return {
        "sla": sla,
        "sla_words": sla_words(sla) if sla else "",
        "definition": definition,
        "definition_rules": definition_rules_words(definition) if definition else [],
        "heads": [(team, heads[team]) for team in Team],
        "pending": pending,
        "can_draft": user_is_manager(user),
    }


def versions_page(*, model: type[DualSigned], user: Any, now: datetime) -> dict[str, Any]:
    """Every version, newest first, with its status and approvals."""
    current = version_in_effect(model, now)
    rows = [
        {
            "version": v,
            "status": version_status(v, in_effect_id=current and current.pk, now=now),
            "approvals": approvals_of(v),
        }
        for v in _list(model)
    ]
    kind = SLA if model is ServiceLevelAgreement else DEFINITION
    return {"kind": kind, "rows": rows, "current": current, "can_draft": user_is_manager(user)}


def version_page(*, version: DualSigned, user: Any, now: datetime) -> dict[str, Any]:
    """One version: its terms, approvals, the diff against the version in effect, and which
    approve button the user gets (only the head of a team that has not approved yet)."""
    model = type(version)
    current = version_in_effect(model, now)
    status = version_status(version, in_effect_id=current and current.pk, now=now)
    team = selectors.user_heads_team(user=user)
    can_approve = (
        not version.is_approved
        and team is not None
        and version.approval_of(team)[1] is None
        and user_role(user) == HEAD_ROLE[team]
    )
    context: dict[str, Any] = {
        "version": version,
        "status": status,
        "approvals": approvals_of(version),
        "current": current,
        "is_current": current is not None and current.pk == version.pk,
        "approve_team": team if can_approve else None,
        "terms_digest": (
            sla_digest(sla=version)
            if isinstance(version, ServiceLevelAgreement)
            else lead_definition_digest(definition=version)
        ),
        "can_edit": not version.is_approved and user_is_manager(user),
        "can_draft": user_is_manager(user),
        "warning": approvals_warning(version),
    }
    if model is ServiceLevelAgreement:
        context |= {
            "kind": SLA,
            "words": sla_words(version),
            "terms": sla_terms(version),
            "changes": sla_diff(current, version) if current and current.pk != version.pk else [],
        }
    else:
        definition: LeadDefinition = version  # type: ignore[assignment]
        other = current if current and current.pk != version.pk else None
        context |= {
            "kind": DEFINITION,
            "rules": definition_rules_words(definition),
            "changes": lead_definition_diff(other, definition) if other else [],
            "rules_diff": rules_diff(definition_rules(other), definition_rules(definition))
            if other
            else RulesDiff(),
        }
    context["compared"] = current is not None and current.pk != version.pk
    return context

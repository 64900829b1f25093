"""Forms of the Agreements pages: they read what a person types (dates, comma lists, numbers)
into the values the services take; the services check the terms themselves."""

from __future__ import annotations

import math
import re
import zoneinfo
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms import formset_factory
from django.utils import timezone

from alignment import scoring
from alignment.models import LeadDefinition, ServiceLevelAgreement
from alignment.pages import WEEKDAYS, rule_value_text
from config.dates import date_in_range_problem

DATETIME_INPUT = "%Y-%m-%dT%H:%M"
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def _multiline(text: str) -> str:
    """Browsers send a textarea's line breaks as CRLF; keep the LF the text was stored with."""
    return (text or "").replace("\r\n", "\n").strip()


def next_hour(now: datetime) -> datetime:
    """The next full hour, local time: the default start of a new draft."""
    local = timezone.localtime(now).replace(minute=0, second=0, microsecond=0)
    return local + timedelta(hours=1)


@cache
def time_zone_names() -> tuple[str, ...]:
    """The IANA zones a person would pick (Europe/Berlin...), for the time zone's suggestions."""
    legacy = ("Etc/", "SystemV/", "US/", "posix/", "right/")
    names = (z for z in zoneinfo.available_timezones() if "/" in z and not z.startswith(legacy))
    return tuple(sorted(names))


class _Form(forms.Form):
    """Labels without a colon, as on the site's other forms' headings."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class _VersionForm(_Form):
    effective_from = forms.DateTimeField(
        required=False,  # the service says what is missing
        input_formats=[DATETIME_INPUT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_INPUT),
        help_text="Binding once both heads approved, never earlier: a moment already past "
        "becomes the moment of the second approval.",
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_effective_from(self) -> datetime | None:
        """The moment as shown (to the minute) is the moment stored: leave it as it was, so
        that saving a draft unchanged changes nothing (and clears no approval)."""
        value = self.cleaned_data.get("effective_from")
        if value is not None and (problem := date_in_range_problem(value.date())):
            raise forms.ValidationError(problem)
        before = self.initial.get("effective_from")
        if value is not None and isinstance(before, datetime):
            shown = timezone.localtime(before).replace(second=0, microsecond=0)
            if shown == value:
                return before
        return value

    def clean_notes(self) -> str:
        return _multiline(self.cleaned_data.get("notes", ""))


class SlaForm(_VersionForm):
    first_contact_hours = forms.DecimalField(
        required=False, max_digits=6, decimal_places=2, label="First contact within (hours)"
    )
    attempts = forms.IntegerField(required=False, max_value=100, label="Contact attempts")
    attempt_spacing_days = forms.DecimalField(
        required=False, max_digits=5, decimal_places=2, label="Days between attempts"
    )
    monthly_sal_commitment = forms.IntegerField(
        required=False, max_value=1_000_000, label="SALs marketing delivers a month"
    )
    business_days = forms.MultipleChoiceField(
        required=False,
        choices=[(str(d), name) for d, name in WEEKDAYS.items()],
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every hour counts. Ticked: hours and days count only in "
        "business hours.",
    )
    business_start = forms.TimeField(
        required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    business_end = forms.TimeField(
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="00:00 means midnight at the end of the day.",
    )
    business_timezone = forms.CharField(
        required=False,
        max_length=64,
        label="Time zone",
        widget=forms.TextInput(attrs={"placeholder": "Europe/Berlin", "list": "time-zones"}),
        help_text="Empty: the organisation's time zone.",
    )

    field_order = [
        "effective_from", "first_contact_hours", "attempts", "attempt_spacing_days",
        "monthly_sal_commitment", "business_days", "business_start", "business_end",
        "business_timezone", "notes",
    ]  # fmt: skip

    @staticmethod
    def initial_from(sla: ServiceLevelAgreement | None, *, now: datetime) -> dict[str, Any]:
        """The terms of `sla` (the version in effect, for a new draft; the draft, to edit)."""
        if sla is None:
            return {"effective_from": next_hour(now)}
        return {
            "effective_from": sla.effective_from if not sla.is_approved else next_hour(now),
            "first_contact_hours": sla.first_contact_hours,
            "attempts": sla.attempts,
            "attempt_spacing_days": sla.attempt_spacing_days,
            "monthly_sal_commitment": sla.monthly_sal_commitment,
            "business_days": [d for d in (sla.business_days or "").split(",") if d],
            "business_start": sla.business_start,
            "business_end": sla.business_end,
            "business_timezone": sla.business_timezone,
            "notes": "" if sla.is_approved else sla.notes,
        }

    def clean_business_days(self) -> str:
        return ",".join(sorted(self.cleaned_data.get("business_days") or [], key=int))


class LeadDefinitionForm(_VersionForm):
    criteria = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="The definition in words, as both teams read it.",
    )
    mql_threshold = forms.IntegerField(
        required=False, max_value=1_000_000, label="MQL threshold (points)", help_text="A lead whose score reaches "
        "the threshold is an MQL and is handed to sales."
    )  # fmt: skip

    field_order = ["effective_from", "criteria", "mql_threshold", "notes"]

    @staticmethod
    def initial_from(definition: LeadDefinition | None, *, now: datetime) -> dict[str, Any]:
        if definition is None:
            return {"effective_from": next_hour(now)}
        return {
            "effective_from": (
                definition.effective_from if not definition.is_approved else next_hour(now)
            ),
            "criteria": definition.criteria,
            "mql_threshold": definition.mql_threshold,
            "notes": "" if definition.is_approved else definition.notes,
        }

    def clean_criteria(self) -> str:
        return _multiline(self.cleaned_data.get("criteria", ""))


# --- scoring rules --------------------------------------------------------------------------

OPERATOR_CHOICES = [
    ("equals", "is"),
    ("contains", "contains"),
    ("in", "is one of"),
    ("gte", "≥ (at least)"),
    ("lte", "≤ (at most)"),
    ("exists", "is set"),
]


#: Beyond this a typed number stays text (for `scoring.rule_errors` to name): no rule needs it,
#: and a JSON column cannot hold an infinite float.
_LARGEST = 10**15


def _scalar(text: str) -> Any:
    """'50' → 50, '2.5' → 2.5, 'true'/'false' → a boolean, anything else the text."""
    if _NUMBER.match(text):
        number = float(text) if "." in text else int(text)
        return number if math.isfinite(number) and abs(number) < _LARGEST else text
    if text.lower() in {"true", "false"}:
        return text.lower() == "true"
    return text


def rule_value(operator: str, text: str) -> Any:
    """A rule's value from what was typed: `in` a comma-separated list, `gte`/`lte` a number,
    `exists` true or false (empty: true), the others a text, a number or true/false.
    What does not parse stays text, for `scoring.rule_errors` to name."""
    text = (text or "").strip()
    if operator == "in":
        return [_scalar(item.strip()) for item in text.split(",") if item.strip()]
    if operator == "exists":
        if not text:
            return None
        return {"true": True, "yes": True, "false": False, "no": False}.get(text.lower(), text)
    if operator in {"gte", "lte"}:
        return _scalar(text) if _NUMBER.match(text) else text
    return _scalar(text) if text else text


class RuleForm(_Form):
    """One scoring rule; a row left empty is no rule."""

    field = forms.CharField(
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "e.g. company.size", "autocomplete": "off"}),
    )
    operator = forms.ChoiceField(choices=OPERATOR_CHOICES, initial="equals", required=False)
    value = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "e.g. 200 or DE, AT"}),
    )
    points = forms.IntegerField(
        required=False,
        widget=forms.NumberInput(attrs={"step": 1, "inputmode": "numeric", "placeholder": "pts"}),
    )

    @staticmethod
    def initial_from(rule: Any) -> dict[str, Any]:
        return {
            "field": rule.field,
            "operator": rule.operator,
            "value": rule_value_text(rule.value),
            "points": rule.points,
            "stored_value": rule.value,
        }

    def is_blank(self) -> bool:
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return (
            not (data.get("field") or "").strip()
            and not (data.get("value") or "").strip()
            and (data.get("points") is None)
        )

    def rule(self) -> dict[str, Any]:
        """The rule as the service takes it. A value shown unchanged keeps its stored form."""
        data = self.cleaned_data
        operator = data.get("operator") or "equals"
        text = data.get("value") or ""
        stored = self.initial.get("stored_value")
        if (
            "stored_value" in self.initial
            and self.initial.get("operator") == operator
            and rule_value_text(stored) == text.strip()
        ):
            value = stored
        else:
            value = rule_value(operator, text)
        return {
            "field": (data.get("field") or "").strip(),
            "operator": operator,
            "value": value,
            "points": data.get("points"),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors or self.is_blank() or data.get("DELETE"):
            return data
        rule = self.rule()
        problems = scoring.rule_errors(
            rule["field"], rule["operator"], rule["value"], rule["points"]
        )
        for name, message in problems.items():
            self.add_error(name, message)
        return data


class _RuleFormSet(forms.BaseFormSet):
    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        """Every row is read, prefilled or not: a row equal to its prefill is still a rule
        (RuleForm itself lets an empty row be)."""
        kwargs = super().get_form_kwargs(index)
        return kwargs if index is None else {**kwargs, "empty_permitted": False}

    def rules(self) -> list[dict[str, Any]]:
        """The rules of the rows that are neither empty nor removed, in order."""
        return [
            form.rule()
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE") and not form.is_blank()
        ]


BLANK_RULE_ROWS = 3
RuleFormSet = formset_factory(
    RuleForm, formset=_RuleFormSet, extra=BLANK_RULE_ROWS, can_delete=True, max_num=200
)
RULES_PREFIX = "rules"


# --- the forms of working together (spotlights, shadowing...) --------------------------------


TEAM_LABELS = {"marketing": "Marketing", "sales": "Sales", "": "No team"}


def person_label(user: Any) -> str:
    """'Sam Rep (sam)', or the username alone: a person in a list to choose from."""
    full = user.get_full_name()
    return f"{full} ({user.get_username()})" if full else user.get_username()


class ServiceForm(_Form):
    """A form whose input a service checks: the service's ValidationError lands on the fields
    it names (or on the field that shows it, `FIELD_OF`), the rest above the form."""

    FIELD_OF: dict[str, str] = {}

    def add_service_error(self, error: ValidationError) -> None:
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for name, messages in error.message_dict.items():
            field = self.FIELD_OF.get(name, name)
            self.add_error(field if field in self.fields else None, messages)

    @staticmethod
    def multiline(text: str | None) -> str:
        return _multiline(text or "")


def moment_field(label: str, **kwargs: Any) -> forms.DateTimeField:
    """A date and time picked in the browser (`datetime-local`), read in the organisation's
    time zone; the service checks the years and the order."""
    return forms.DateTimeField(
        label=label,
        required=False,  # the service says what is missing
        input_formats=[DATETIME_INPUT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_INPUT),
        **kwargs,
    )

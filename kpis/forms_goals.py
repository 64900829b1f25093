"""The forms of the goals pages. They only read the input's types: whether a goal is SMART,
a forecast in time or a payout curve usable is for the services to say (`goal_clean`,
`revenue_forecast_clean`, `payout_curve_clean`), and their messages land on these fields."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from alignment.models import Goal, GoalCheckIn
from alignment.scorecard import CURVE_POINTS
from config.dates import date_in_range_problem
from core import attribution
from core.catalog import DIMENSIONS
from kpis.models import PeriodKind
from kpis.pages.goals import metric_choices, period_options, period_parse, period_value

SMART_TEXTS = ("specific", "measurable", "achievable", "relevant", "time_bound")


class _ServiceErrors(forms.Form):
    """Puts a service's ValidationError on the form: each message on its field (or on the
    field that shows it, `FIELD_OF`), the rest above the form."""

    FIELD_OF: dict[str, str] = {}

    def __init__(self, *args: Any, **kw: Any) -> None:
        kw.setdefault("label_suffix", "")
        super().__init__(*args, **kw)

    def add_service_error(self, error: ValidationError) -> None:
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for name, messages in error.message_dict.items():
            field = self.FIELD_OF.get(name, name)
            self.add_error(field if field in self.fields else None, messages)


class GoalForm(_ServiceErrors):
    FIELD_OF = {"period_start": "period"}

    name = forms.CharField(max_length=200, required=False)
    owner_team = forms.ChoiceField(
        choices=Goal.Owner.choices, initial=Goal.Owner.BOTH, label="Owned by"
    )
    metric = forms.ChoiceField(required=False, label="Metric")
    dimension = forms.ChoiceField(
        required=False,
        label="Breakdown (optional)",
        choices=[
            ("", "The metric's total"),
            *((d, d.capitalize()) for d in DIMENSIONS if d != "goal"),
        ],
    )
    key = forms.CharField(
        max_length=150,
        required=False,
        label="Member",
        help_text="The breakdown's member: a campaign id, a channel, a username, a segment.",
    )
    model = forms.ChoiceField(
        required=False,
        label="Attribution model",
        choices=[("", "Linear (attributed metrics only)")]
        + [(m, attribution.MODEL_LABELS[m]) for m in attribution.MODELS],
    )
    target = forms.DecimalField(max_digits=18, decimal_places=6, required=False)
    direction = forms.ChoiceField(
        required=False,
        label="Better when",
        choices=[("", "As the metric says"), *Goal.Direction.choices],
    )
    period = forms.CharField(required=False, widget=forms.Select, label="Period")
    weight = forms.DecimalField(
        max_digits=8, decimal_places=4, required=False, initial=1, label="Weight on the scorecard"
    )
    specific = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Specific"
    )
    measurable = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Measurable"
    )
    achievable = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Achievable"
    )
    relevant = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Relevant"
    )
    time_bound = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Time-bound"
    )

    def __init__(
        self, *args: Any, today: date, keep: tuple[str, date] | None = None, **kw: Any
    ) -> None:
        super().__init__(*args, **kw)
        self.fields["metric"].choices = [("", "Choose a metric…"), *metric_choices()]
        self.fields["period"].widget.choices = [
            ("", "Choose a period…"),
            *period_options(today=today, keep=keep),
        ]
        for name in SMART_TEXTS:
            self.fields[name].help_text = Goal._meta.get_field(name).help_text

    def clean_period(self) -> tuple[str, date] | None:
        value = self.cleaned_data.get("period") or ""
        if not value:
            return None
        parsed = period_parse(value)
        if parsed is None:
            raise ValidationError("Choose a week, month or quarter from the list.")
        return parsed

    def goal_fields(self) -> dict[str, Any]:
        """The cleaned input as `goal_create`/`goal_update` fields."""
        data = dict(self.cleaned_data)
        period = data.pop("period")
        data["period"], data["period_start"] = period if period else ("", None)
        return data

    @staticmethod
    def initial_of(goal: Goal) -> dict[str, Any]:
        initial = {
            name: getattr(goal, name)
            for name in (
                "name", "owner_team", "metric", "dimension", "key", "model", "target",
                "direction", "weight", *SMART_TEXTS,
            )
        }  # fmt: skip
        initial["period"] = period_value(goal.period, goal.period_start)
        return initial


class CheckInForm(_ServiceErrors):
    status = forms.ChoiceField(
        choices=GoalCheckIn.Status.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Say whether the goal is on track, at risk or off track."},
    )
    note = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(
            attrs={"rows": 2, "placeholder": "What moved this week, and what we do next"}
        ),
    )


def _in_range(day: date | None) -> None:
    if day is not None and (problem := date_in_range_problem(day)):
        raise forms.ValidationError(problem)


class ForecastForm(_ServiceErrors):
    period = forms.ChoiceField(choices=PeriodKind.choices, initial="quarter", label="Period")
    period_start = forms.DateField(
        required=False,
        label="Starting on",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Its first day: a Monday, or the 1st of a month or of a quarter.",
        validators=[_in_range],
    )
    amount = forms.DecimalField(
        max_digits=14, decimal_places=2, required=False, label="Revenue expected"
    )
    note = forms.CharField(required=False, max_length=2000, label="Note (optional)")


class PayoutCurveForm(_ServiceErrors):
    FIELD_OF = {"curve": "__all__"}

    effective_from = forms.DateField(
        required=False,
        label="From",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Applies to the periods that start on or after this day (today or later).",
        validators=[_in_range],
    )
    threshold = forms.DecimalField(max_digits=6, decimal_places=4, label="Threshold")
    threshold_payout = forms.DecimalField(
        max_digits=6, decimal_places=4, label="Payout at the threshold"
    )
    target = forms.DecimalField(max_digits=6, decimal_places=4, label="Target")
    cap = forms.DecimalField(max_digits=6, decimal_places=4, label="Cap")
    cap_payout = forms.DecimalField(max_digits=6, decimal_places=4, label="Payout at the cap")

    def points(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in CURVE_POINTS}

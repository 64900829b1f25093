"""The filters of the KPI pages: they live in the query string, so a view can be shared."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from django import forms
from django.conf import settings
from django.utils import timezone

from config.api import date_in_range_problem
from core import attribution
from core.periods import period_start
from kpis.models import PeriodKind
from kpis.selectors import KpiFilter, kpi_filter_default
from leads.models import Campaign
from leads.selectors import channel_choices, sales_people

SLICES = ("channel", "campaign", "owner")


class KpiFilterForm(forms.Form):
    period = forms.ChoiceField(
        choices=PeriodKind.choices, required=False, label="Period", initial="month"
    )
    start = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    channel = forms.ChoiceField(required=False, label="Channel")
    campaign = forms.ChoiceField(required=False, label="Campaign")
    owner = forms.ChoiceField(required=False, label="Owner")
    model = forms.ChoiceField(
        choices=[(m, attribution.MODEL_LABELS[m]) for m in attribution.MODELS],
        required=False,
        label="Attribution",
        initial="linear",
    )

    def __init__(self, *args: object, slices: Sequence[str] = SLICES, **kwargs: object) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        for name in SLICES:
            if name not in slices:
                del self.fields[name]
        if "channel" in slices:
            self.fields["channel"].choices = [("", "All channels"), *channel_choices()]
        if "campaign" in slices:
            self.fields["campaign"].choices = [
                ("", "All campaigns"),
                *Campaign.objects.order_by("name").values_list("external_id", "name"),
            ]
        if "owner" in slices:
            self.fields["owner"].choices = [
                ("", "All owners"),
                *sales_people(),
                ("(unassigned)", "Unassigned"),
            ]

    def clean_start(self) -> date | None:
        return _bounded(self.cleaned_data.get("start"))

    def clean_end(self) -> date | None:
        return _bounded(self.cleaned_data.get("end"))

    def clean(self) -> dict:
        data = super().clean()
        chosen = [name for name in SLICES if data.get(name)]
        if len(chosen) > 1:
            raise forms.ValidationError(
                "Filter by one of channel, campaign or owner at a time "
                f"(you chose {' and '.join(chosen)})."
            )
        if "start" not in data or "end" not in data:
            return data  # a date already refused
        # An empty end is today (`kpi_filter`): a start alone is a range too.
        start, end = data["start"], data["end"] or timezone.localdate()
        if start and start > end:
            self.add_error("start", "The range starts after it ends.")
        elif start and end - start > timedelta(days=366 * settings.KPI_RANGE_MAX_YEARS):
            self.add_error("start", range_too_long())
        return data

    def kpi_filter(self, *, today: date | None = None) -> KpiFilter:
        """The filter the page shows: the valid choices, defaults for the rest."""
        data = self.cleaned_data if self.is_valid() else {}
        period = data.get("period") or "month"
        default = kpi_filter_default(period=period, end=data.get("end") or today)
        start = period_start(period, data["start"]) if data.get("start") else default.start
        dimension = next((name for name in SLICES if data.get(name)), None)
        return KpiFilter(
            period=period,
            start=start,
            end=default.end,
            dimension=dimension,
            key=data.get(dimension) if dimension else None,
            model=data.get("model") or "linear",
        )


def range_too_long() -> str:
    years = settings.KPI_RANGE_MAX_YEARS
    return f"Choose at most {years} years from start to end (KPI_RANGE_MAX_YEARS)."


def _bounded(value: date | None) -> date | None:
    """A date of a range, refused outside DATE_MIN_YEAR..DATE_MAX_YEAR (the periods around
    31 December 9999 do not exist)."""
    if value is not None and (problem := date_in_range_problem(value)):
        raise forms.ValidationError(problem)
    return value


class RecomputeForm(forms.Form):
    """A manager's "Recompute now": from a day (by default the first day with data)."""

    since = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean_since(self) -> date | None:
        return _bounded(self.cleaned_data.get("since"))

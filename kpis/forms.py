"""The filters of the KPI pages: they live in the query string, so a view can be shared."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from django import forms

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

    def clean(self) -> dict:
        data = super().clean()
        chosen = [name for name in SLICES if data.get(name)]
        if len(chosen) > 1:
            raise forms.ValidationError(
                "Filter by one of channel, campaign or owner at a time "
                f"(you chose {' and '.join(chosen)})."
            )
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("start", "The range starts after it ends.")
        elif start and end and end - start > timedelta(days=366 * 10):
            self.add_error("start", "Choose at most ten years.")
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

"""The spotlight form: a title, the won deal (by external id), the people of both teams
(by username) and the story in Markdown. Whether it is a joint win is the service's to say
(`alignment.services.spotlights`)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.auth.models import AbstractBaseUser
from django.forms.boundfield import BoundWidget
from django.utils import timezone

from alignment.forms import TEAM_LABELS, ServiceForm, person_label
from alignment.models import Spotlight


def deal_label(deal: Any) -> str:
    """'D-17 · Acme (Ann Buyer) · 12,000 · won 2 Apr 2026'."""
    lead = deal.lead
    who = lead.company or lead.name or lead.external_id
    if lead.company and lead.name:
        who = f"{lead.company} ({lead.name})"
    amount = Decimal(deal.amount)
    shown = f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"
    closed = timezone.localtime(deal.closed_at) if deal.closed_at else None
    won = f" · won {closed.day} {closed:%b %Y}" if closed else ""
    status = "" if deal.status == "won" else f" · {deal.status}"
    return f"{deal.external_id} · {who} · {shown}{won}{status}"


class SpotlightForm(ServiceForm):
    title = forms.CharField(max_length=Spotlight._meta.get_field("title").max_length)
    deal = forms.ChoiceField(
        label="The won deal", help_text="The latest won deals, by close; the company and lead."
    )
    people = forms.MultipleChoiceField(
        label="Who made it",
        required=False,  # the service says a joint win needs both teams
        widget=forms.CheckboxSelectMultiple,
        help_text="At least one person of marketing and one of sales.",
    )
    story = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text="Markdown: what each team did, and what the others can reuse.",
    )

    def __init__(
        self,
        *args: Any,
        deals: Sequence[Any],
        people: dict[str, list[AbstractBaseUser]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["deal"].choices = [("", "Choose a won deal…")] + [
            (d.external_id, deal_label(d)) for d in deals
        ]
        self._team_of = {u.get_username(): team for team, users in people.items() for u in users}
        self.fields["people"].choices = [
            (u.get_username(), person_label(u)) for users in people.values() for u in users
        ]

    @staticmethod
    def initial_of(spotlight: Spotlight) -> dict[str, Any]:
        return {
            "title": spotlight.title,
            "deal": spotlight.deal.external_id,
            "people": [c.user.get_username() for c in spotlight.credits.all()],
            "story": spotlight.story,
        }

    def clean_story(self) -> str:
        return self.multiline(self.cleaned_data.get("story"))

    def people_groups(self) -> list[tuple[str, str, list[BoundWidget]]]:
        """The people's checkboxes by team, each (team, label, checkboxes)."""
        groups: dict[str, list[BoundWidget]] = {team: [] for team in TEAM_LABELS}
        for box in self["people"].subwidgets:
            groups[self._team_of.get(box.data["value"], "")].append(box)
        return [(team, TEAM_LABELS[team], boxes) for team, boxes in groups.items() if boxes]

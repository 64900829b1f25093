"""Template tags of the campaign pages: the meeting flags of a row on the campaign list."""

from __future__ import annotations

from django import template

from kpis.pages.campaigns import CampaignFlags

register = template.Library()


@register.inclusion_tag("kpis/campaigns/flags.html")
def campaign_flags(flags: dict[str, CampaignFlags], key: str) -> dict:
    """The flags of the campaign `key` (none for a row that is no campaign)."""
    return {"fl": flags.get(key)}

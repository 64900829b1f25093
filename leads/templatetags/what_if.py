"""The what-if button's state, for the partial that any lead-definition page includes."""

from __future__ import annotations

from django import template

from alignment.models import LeadDefinition
from leads.what_if import what_if_state

register = template.Library()


@register.simple_tag(takes_context=True)
def what_if_for(context: template.Context, definition: LeadDefinition) -> dict:
    """{"can_start", "latest" (the latest run with a result), "running" (one under way)}."""
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return what_if_state(definition=definition, user=user)

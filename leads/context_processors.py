from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from alignment.roles import Role, user_heads, user_role
from leads.selectors import disputes_waiting_count

#: The roles a head holds (the head of marketing is a marketing manager, of sales a sales one).
HEAD_ROLES = {Role.MARKETING_MANAGER, Role.SALES_MANAGER}


def disputes(request: HttpRequest) -> dict:
    """For a head: how many disputes wait for them (the nav's badge), read only when a page
    shows it (one query). Whether the user heads a team comes with their role, so nobody else
    pays a query for it."""
    user = getattr(request, "user", None)
    if user is None or user_role(user) not in HEAD_ROLES:
        return {}
    team = user_heads(user)
    if team is None:
        return {}
    return {"disputes_waiting": SimpleLazyObject(lambda: disputes_waiting_count(team=team.value))}

from __future__ import annotations

from django.http import HttpRequest

from alignment.roles import user_role


def role(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    current = user_role(user) if user is not None else None
    return {"role": current, "is_manager": bool(current and current.is_manager)}

"""API plumbing shared by every app: error shape and permissions."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from alignment.roles import user_is_manager


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Django's ValidationError from a service becomes a 400, never a 500."""
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(detail)
    return drf_exception_handler(exc, context)


class IsManager(permissions.BasePermission):
    """Managers (either team) and admins; the role integrations' API users hold."""

    message = "Only managers and admins may do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(
            request.user and request.user.is_authenticated and user_is_manager(request.user)
        )

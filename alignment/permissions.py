"""API permissions by role, for every app's endpoints (roles live here, in alignment)."""

from __future__ import annotations

from typing import Any

from rest_framework import permissions
from rest_framework.request import Request

from alignment.roles import Role, user_is_manager, user_role


class IsManager(permissions.BasePermission):
    """Managers (either team) and admins; the role integrations' API users hold."""

    message = "Only managers and admins may do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(
            request.user and request.user.is_authenticated and user_is_manager(request.user)
        )


class ManagersWrite(permissions.BasePermission):
    """Everyone signed in reads; managers and admins write."""

    message = "Only managers and admins may change this."

    def has_permission(self, request: Request, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return request.method in permissions.SAFE_METHODS or user_is_manager(request.user)


class AdminsWrite(permissions.BasePermission):
    message = "Only admins may change this."

    def has_permission(self, request: Request, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return request.method in permissions.SAFE_METHODS or user_role(request.user) == Role.ADMIN

"""API plumbing shared by every app: the error shape and pagination (permissions by role are
`alignment.permissions`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Django's ValidationError from a service becomes a 400, never a 500."""
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(detail)
    return drf_exception_handler(exc, context)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """`handler404`: a path under the API that matches no endpoint (`/api/v1/ideas/x/`) is a JSON
    404 like every other API error; pages keep Django's HTML one."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


class ErrorOut(serializers.Serializer):
    """An error, in one message (a 400 for bad fields gives the problems by field instead)."""

    detail = serializers.CharField()


class Pagination(LimitOffsetPagination):
    """`?limit=&offset=`, at most `max_limit` rows a page however large a limit is asked."""

    max_limit = 1000


def paginated(request: Request, view: Any, rows: Any, serializer: type, **context: Any) -> Response:
    """One page of `rows` (`?limit=&offset=`), serialized, with the count and the links."""
    paginator = Pagination()
    page = paginator.paginate_queryset(rows, request, view=view)
    return paginator.get_paginated_response(serializer(page, many=True, context=context).data)


def date_in_range_problem(value: date) -> str:
    """Why a date or moment is outside the dates Tandem takes ("" when it is inside): the
    calendar's edges (year 1, 9999) break the periods built around it, so records stay within
    DATE_MIN_YEAR..DATE_MAX_YEAR."""
    low, high = settings.DATE_MIN_YEAR, settings.DATE_MAX_YEAR
    if low <= value.year <= high:
        return ""
    return f"Must be in the years {low} to {high} (DATE_MIN_YEAR, DATE_MAX_YEAR)."


class BoundedDateField(serializers.DateField):
    """A date within DATE_MIN_YEAR..DATE_MAX_YEAR: anything else is a 400 naming the field."""

    def to_internal_value(self, value: Any) -> date:
        parsed = super().to_internal_value(value)
        if problem := date_in_range_problem(parsed):
            raise serializers.ValidationError(problem)
        return parsed


class BoundedDateTimeField(serializers.DateTimeField):
    """A moment within DATE_MIN_YEAR..DATE_MAX_YEAR: anything else is a 400 naming the field."""

    def to_internal_value(self, value: Any) -> datetime:
        parsed = super().to_internal_value(value)
        if problem := date_in_range_problem(parsed):
            raise serializers.ValidationError(problem)
        return parsed

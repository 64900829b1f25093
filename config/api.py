"""API plumbing shared by every app: the error shape and pagination (permissions by role are
`alignment.permissions`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from config.dates import date_in_range_problem
from config.errors import Conflict


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Django's ValidationError from a service becomes a 400, never a 500."""
    if isinstance(exc, Conflict):
        return Response({"detail": " ".join(exc.messages)}, status=409)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(detail)
    return drf_exception_handler(exc, context)


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

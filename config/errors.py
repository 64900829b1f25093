"""The answer to an error no view handled: a clean 503 while the database can't be reached
(a restart, a failover), a 500 otherwise; JSON on the API, a page elsewhere.

Django calls `server_error` from inside its handling of the exception, so the exception is the
one being handled (`sys.exc_info`), whether a view raised it or a middleware did (the session
or the user is read from the database before any view runs). The pages are rendered without
the request's context: its context processors would read the database too.
"""

from __future__ import annotations

import sys

from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views import defaults

from config.middleware import API_PREFIX

RETRY_AFTER_SECONDS = 30


class Conflict(ValidationError):
    """A write refused because the record moved on meanwhile (someone else decided it first):
    the API answers 409, a page says so; nothing was changed."""


def database_unavailable(exc: BaseException | None) -> bool:
    """Whether `exc` says the database can't be reached or can't take the work now (a refused or
    dropped connection, a restarting server, SQLite busy past its timeout): worth retrying."""
    return isinstance(exc, OperationalError | InterfaceError)


def server_error(request: HttpRequest) -> HttpResponse:
    exc = sys.exc_info()[1]
    api = request.path.startswith(API_PREFIX)
    if database_unavailable(exc):
        detail = "The database is unavailable for a moment; nothing was saved. Try again shortly."
        if api:
            response: HttpResponse = JsonResponse({"detail": detail}, status=503)
        else:
            response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if api:
        return JsonResponse({"detail": "Server error; it was logged."}, status=500)
    return HttpResponse(render_to_string("500.html"), status=500)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """`handler404`: a path under the API that matches no endpoint (`/api/v1/ideas/x/`) is a JSON
    404 like every other API error; pages keep Django's HTML one."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)

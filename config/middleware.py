"""Request and response rules of every page and endpoint: the API's body limit answered in
JSON before anything reads the body, and logged-in pages kept out of shared caches."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

API_PREFIX = "/api/"


class BodyLimitMiddleware:
    """An API request whose declared body is larger than DATA_UPLOAD_MAX_MEMORY_SIZE gets a JSON
    413 at once: nothing parses it (Django would answer an HTML 400 once a view read it)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(API_PREFIX):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return JsonResponse({"detail": "Content-Length is not a number."}, status=400)
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            if limit is not None and length > limit:
                return JsonResponse(
                    {
                        "detail": f"The body is {length:,} bytes; the API takes at most "
                        f"{limit:,} (send the records in smaller batches)."
                    },
                    status=413,
                )
        return self.get_response(request)


class PrivatePagesMiddleware:
    """`Cache-Control: private, no-store` on every response to a signed-in user that does not
    say otherwise: a page holds someone's pipeline, no proxy or shared browser keeps it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            response["Cache-Control"] = "private, no-store"
        return response

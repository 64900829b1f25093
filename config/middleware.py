"""Request and response rules of every page and endpoint: the API's body limit answered in
JSON before anything reads the body, chunked bodies read with their length, and logged-in
pages kept out of shared caches."""

from __future__ import annotations

import json
import tempfile
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


class ChunkedBodies:
    """WSGI middleware: a request body sent chunked, without a Content-Length, is read whole
    (up to DATA_UPLOAD_MAX_MEMORY_SIZE, spooled to disk past 1 MB) and handed on with its
    length. Django reads a body by its Content-Length only, so it saw such a body as empty;
    one over the limit gets the same JSON 413 as `BodyLimitMiddleware` gives."""

    SPOOL_BYTES = 1024 * 1024

    def __init__(self, app: Callable) -> None:
        self.app = app

    def __call__(self, environ: dict, start_response: Callable) -> object:
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not environ.get("CONTENT_LENGTH"):
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
            body = tempfile.SpooledTemporaryFile(max_size=self.SPOOL_BYTES)  # noqa: SIM115 (the body, freed with the request)
            size, source = 0, environ["wsgi.input"]
            while piece := source.read(64 * 1024):
                size += len(piece)
                if limit and size > limit:
                    body.close()
                    payload = json.dumps(
                        {"detail": f"The body is over {limit:,} bytes, the most the app takes."}
                    ).encode()
                    start_response(
                        "413 Request Entity Too Large",
                        [
                            ("Content-Type", "application/json"),
                            ("Content-Length", str(len(payload))),
                        ],
                    )
                    return [payload]
                body.write(piece)
            body.seek(0)
            environ["wsgi.input"], environ["CONTENT_LENGTH"] = body, str(size)
        return self.app(environ, start_response)

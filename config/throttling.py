"""The API's throttle: per user, a burst and a sustained rate, counted in the shared cache.

    API_THROTTLE_BURST=120/second    at most this many requests in a short window
    API_THROTTLE_RATE=1800/minute    and this many over a longer one
    API_THROTTLE_EXEMPT_USERS=bench  users (their tokens) that are not throttled at all

The defaults let a dashboard integration load a screenful of charts at once and refresh it
every few seconds for several viewers with room to spare (three times the old 600/minute),
while one runaway client cannot take the whole API. A load test or a trusted integration uses a
token of an exempt user (or `off` for either rate).

Each limit is counted in fixed windows with one `add` or `incr` of the cache per request,
whatever the rate (DRF's own throttle keeps every request's time, and stores the list on each
request). A window may thus see up to twice its limit across its boundary. The cache is Redis in
production, shared by every process; in the embedded default it is each process's own memory,
so every process counts for itself.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

if TYPE_CHECKING:  # rest_framework.views imports this module through its settings
    from rest_framework.request import Request
    from rest_framework.views import APIView


def _hit(key: str, seconds: int) -> int:
    """Count one request in the window `key`; how many it holds now."""
    if cache.add(key, 1, timeout=seconds + 1):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # the window expired in between
        cache.add(key, 1, timeout=seconds + 1)
        return 1


class ApiRateThrottle(BaseThrottle):
    """`API_THROTTLE_BURST` and `API_THROTTLE_RATE` per user (per address without a user);
    users named in `API_THROTTLE_EXEMPT_USERS` are let through uncounted."""

    def __init__(self) -> None:
        self.retry_after: float | None = None

    def allow_request(self, request: Request, view: APIView) -> bool:
        limits = [r for r in (settings.API_THROTTLE_BURST, settings.API_THROTTLE_RATE) if r]
        user = request.user
        if user and user.is_authenticated:
            if user.get_username() in settings.API_THROTTLE_EXEMPT_USERS:
                return True
            who = f"user:{user.pk}"
        else:
            who = f"addr:{self.get_ident(request)}"
        now = time.time()
        for count, seconds in limits:
            window = int(now // seconds)
            if _hit(f"throttle:{who}:{count}/{seconds}:{window}", seconds) > count:
                self.retry_after = (window + 1) * seconds - now
                return False
        return True

    def wait(self) -> float | None:
        return self.retry_after

"""The API's throttle: per user, a burst and a sustained rate, counted where every process
sees the same counts; and a limit on wrong tokens per address.

    API_THROTTLE_BURST=120/second    at most this many requests in a short window
    API_THROTTLE_RATE=1800/minute    and this many over a longer one
    API_THROTTLE_EXEMPT_USERS=bench  users (their tokens) that are not throttled at all
    API_THROTTLE_BAD_TOKENS=20/minute  wrong tokens from one address before it gets 429s

The defaults let a dashboard integration load a screenful of charts at once and refresh it
every few seconds for several viewers with room to spare (three times the old 600/minute),
while one runaway client cannot take the whole API. A load test or a trusted integration uses a
token of an exempt user (or `off` for either rate).

Each limit is counted in fixed windows with one atomic increment per request, whatever the
rate (DRF's own throttle keeps every request's time, and stores the list on each request). A
window may thus see up to twice its limit across its boundary. The counts are in Redis when
there is one (`REDIS_URL`), else in the database (`config.ThrottleWindow`, one upserted row a
window): either way every worker process counts in the same place, so two workers don't allow
twice the limit. Redis unreachable, the throttle lets requests through (`config.cache`).

A wrong token from an address counts against `API_THROTTLE_BAD_TOKENS`; past it, the address's
wrong tokens are answered 429 until the window ends (a right token costs no count, and still
works: one guesser behind an office's NAT does not lock its colleagues out). The address is the
client's as `NUM_PROXIES` trusted proxies in front of the app report it (docs/operations.md).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.throttling import BaseThrottle

if TYPE_CHECKING:  # rest_framework.views imports this module through its settings
    from rest_framework.request import Request
    from rest_framework.views import APIView


def _hit(key: str, seconds: int) -> int:
    """Count one request in the window `key` (which ends within `seconds`); how many it holds."""
    if settings.REDIS_URL:
        if cache.add(key, 1, timeout=seconds + 1):
            return 1
        try:
            return cache.incr(key)
        except ValueError:  # the window expired in between
            cache.add(key, 1, timeout=seconds + 1)
            return 1
    return _hit_in_database(key, int(time.time()) + seconds + 1)


def _hit_in_database(key: str, expires: int) -> int:
    # One statement, atomic on PostgreSQL and SQLite alike (both know ON CONFLICT … RETURNING),
    # in autocommit: the row is locked for the statement, not for the request. On the primary
    # and past the router: counting is not a write of the request (it may read a replica).
    from config.models import ThrottleWindow

    table = ThrottleWindow._meta.db_table
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        qn = cursor.db.ops.quote_name
        cursor.execute(
            f"INSERT INTO {qn(table)} ({qn('key')}, hits, expires) VALUES (%s, 1, %s) "
            f"ON CONFLICT ({qn('key')}) DO UPDATE SET hits = {qn(table)}.hits + 1 RETURNING hits",
            [key, expires],
        )
        hits = cursor.fetchone()[0]
        if hits == 1:  # a new window: the ones that ended go
            cursor.execute(f"DELETE FROM {qn(table)} WHERE expires < %s", [int(time.time())])
    return hits


def _window(seconds: int, now: float) -> tuple[int, float]:
    """The window holding `now`, and the seconds until it ends."""
    window = int(now // seconds)
    return window, (window + 1) * seconds - now


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
            window, left = _window(seconds, now)
            if _hit(f"throttle:{who}:{count}/{seconds}:{window}", seconds) > count:
                self.retry_after = left
                return False
        return True

    def wait(self) -> float | None:
        return self.retry_after


class ThrottledTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, with wrong tokens counted per address: past
    `API_THROTTLE_BAD_TOKENS` an address's wrong tokens get 429 until the window ends."""

    def authenticate(self, request: Request) -> tuple[object, object] | None:
        limit = settings.API_THROTTLE_BAD_TOKENS
        if not limit:
            return super().authenticate(request)
        try:
            return super().authenticate(request)
        except AuthenticationFailed:
            count, seconds = limit
            window, left = _window(seconds, time.time())
            key = f"badtoken:{BaseThrottle().get_ident(request)}:{count}/{seconds}:{window}"
            if _hit(key, seconds) > count:
                raise Throttled(wait=left, detail=_too_many(count, seconds)) from None
            raise


def _too_many(count: int, seconds: int) -> str:
    return (
        f"More than {count} wrong tokens from this address in {seconds} s; "
        "wait before trying again."
    )

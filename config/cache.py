"""The shared cache (Redis) that fails open: when Redis can't be reached the app carries on
as if the cache held nothing, and writes, pages and the API keep working.

What the cache holds can all be done without: the KPI pages' rendered fragments (rebuilt),
the API throttle's counts (let through), the recompute debounce and the single-flight locks
(taken, so the work runs; the broker is down too then, so nothing runs twice). A read answers
the default, a write does nothing, `add` answers that it stored.

After a failure Redis is left alone for `DOWN_SECONDS`, so a request doesn't wait for a dead
connection once per cache call, and the warning is logged once per outage, not per call.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
DOWN_SECONDS = 5.0
T = TypeVar("T")


class ResilientRedisCache(RedisCache):
    """Django's Redis cache, failing open (module docstring)."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        options = params.setdefault("OPTIONS", {})
        # A Redis that is stopped refuses at once; one that is unreachable would hang a request.
        options.setdefault("socket_connect_timeout", 0.5)
        options.setdefault("socket_timeout", 2)
        super().__init__(server, params)
        self._down_until = 0.0

    def _safely(self, call: Callable[[], T], fallback: T) -> T:
        if time.monotonic() < self._down_until:
            return fallback
        try:
            answer = call()
        except (RedisError, OSError):
            if not self._down_until:  # the first failure of an outage
                log.warning("Redis can't be reached; the cache is off for now.", exc_info=True)
            self._down_until = time.monotonic() + DOWN_SECONDS
            return fallback
        if self._down_until:
            log.warning("Redis answers again; the cache is back on.")
            self._down_until = 0.0
        return answer

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._safely(
            lambda: super(ResilientRedisCache, self).get(key, default, version), default
        )

    def get_many(self, keys: Any, version: int | None = None) -> dict:
        return self._safely(lambda: super(ResilientRedisCache, self).get_many(keys, version), {})

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._safely(lambda: super(ResilientRedisCache, self).has_key(key, version), False)

    def add(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> bool:
        return self._safely(
            lambda: super(ResilientRedisCache, self).add(key, value, timeout, version), True
        )

    def set(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> None:
        self._safely(
            lambda: super(ResilientRedisCache, self).set(key, value, timeout, version), None
        )

    def set_many(self, data: dict, timeout: Any = None, version: int | None = None) -> list:
        return self._safely(
            lambda: super(ResilientRedisCache, self).set_many(data, timeout, version), []
        )

    def touch(self, key: Any, timeout: Any = None, version: int | None = None) -> bool:
        return self._safely(
            lambda: super(ResilientRedisCache, self).touch(key, timeout, version), False
        )

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        return self._safely(
            lambda: super(ResilientRedisCache, self).incr(key, delta, version), delta
        )

    def delete(self, key: Any, version: int | None = None) -> bool:
        return self._safely(lambda: super(ResilientRedisCache, self).delete(key, version), False)

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        self._safely(lambda: super(ResilientRedisCache, self).delete_many(keys, version), None)

    def clear(self) -> None:
        self._safely(lambda: super(ResilientRedisCache, self).clear(), None)

"""A lock across processes (through the shared cache: Redis in production)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from uuid import uuid4

from django.core.cache import cache


@contextmanager
def single_flight(name: str, *, seconds: int) -> Iterator[bool]:
    """Yield True to the one caller holding `name`, False to any other meanwhile.

    The lock expires after `seconds`, so a killed holder can't block the job for ever.
    """
    key, token = f"lock:{name}", uuid4().hex
    held = cache.add(key, token, timeout=seconds)
    try:
        yield held
    finally:
        if held and cache.get(key) == token:
            cache.delete(key)

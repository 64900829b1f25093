"""Which snapshots the pages show: one database row whose token every swap of snapshots
replaces in the swap's own transaction (`kpis_snapshots_changed`), read once per request
(`kpis_snapshots_version`) to key the page cache (`kpis.render_cache`).

A row rather than a cache key, so that it holds across processes with no Redis (the embedded
default keeps a cache per process) and commits or rolls back with the snapshots themselves. A
random token rather than a counter, so that a restored or flushed database never brings back a
version some cache still holds pages for.
"""

from __future__ import annotations

from uuid import uuid4

from django.db import transaction
from django.utils import timezone

from kpis.models import SnapshotVersion


def kpis_snapshots_changed() -> str:
    """Give the snapshots a new version, in the caller's transaction: call it in the one that
    swaps them, last, so that the row stays locked only until that transaction commits."""
    token, now = uuid4().hex, timezone.now()
    if not SnapshotVersion.objects.filter(pk=1).update(token=token, changed_at=now):
        with transaction.atomic():  # the row is gone (a flushed database): write it again
            SnapshotVersion.objects.update_or_create(
                pk=1, defaults={"token": token, "changed_at": now}
            )
    return token


def kpis_snapshots_version() -> str:
    """The current snapshots' version ("" before the first swap), in one indexed read."""
    return SnapshotVersion.objects.filter(pk=1).values_list("token", flat=True).first() or ""

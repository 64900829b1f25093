"""Queueing follow-up work on Celery without letting a broker outage fail the write.

A write commits first and queues its follow-up work after (a recompute, a rescore, a notice,
an import's run). With Redis down the queueing fails; the write has happened and must still
answer as done. Every such piece of work is also found again by a beat sweep (the change log's
dirty periods, unapplied agreements, queued jobs, unsent notices), so a failed queueing is
logged and left to the sweep once the broker is back. After a failure the broker is not
tried again for `DOWN_SECONDS`, so writes during an outage don't each wait for it.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import Task
from django.db import transaction
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
DOWN_SECONDS = 5.0
_state = {"down_until": 0.0}


def enqueue(task: Task, *args: Any, countdown: float | None = None) -> bool:
    """Queue `task(*args)`; False (logged) when the broker can't take it. Run eagerly (no
    broker, the embedded default and the tests), the task runs here and its errors are raised."""
    if task.app.conf.task_always_eager:
        task.apply_async(args=args, countdown=countdown)
        return True
    if time.monotonic() < _state["down_until"]:
        log.warning("The broker is down: %s%r is left to a sweep.", task.name, args)
        return False
    try:
        task.apply_async(args=args, countdown=countdown)
    except (OperationalError, RedisError, OSError):
        log.warning(
            "Could not queue %s%r; a sweep will pick it up.", task.name, args, exc_info=True
        )
        _state["down_until"] = time.monotonic() + DOWN_SECONDS
        return False
    _state["down_until"] = 0.0
    return True


def enqueue_on_commit(task: Task, *args: Any) -> None:
    """`enqueue` once the current transaction commits (at once outside of one)."""
    transaction.on_commit(lambda: enqueue(task, *args))

"""The embedded default's worker: with no broker (`CELERY_TASK_ALWAYS_EAGER`), the periods a
write changed are recomputed in a thread of the process that made the write, after it commits,
instead of inside its request; the request answers at once and the numbers follow a moment later.

One thread per process at a time (single flight): a write while it runs has it go round once
more. A round starts `QUIET_SECONDS` after the last write that asked for it and sweeps the
funnel's change log until it is empty, which stands in for the beat sweep that the embedded
mode has not got. An error is logged and ends the thread; the periods stay in the change log
for the next write's thread (or `manage.py recompute_kpis`).

`KPI_RECOMPUTE_IN_BACKGROUND = False` (the test settings) keeps the recompute in the request, as
`kpis.services.kpis_schedule_dirty_recompute` has it; with a broker that function queues the
Celery task and this module stays out of the way.

SQLite takes the thread's writes one at a time with the request's (`BEGIN IMMEDIATE` and a busy
timeout, `config.env.env_database`): a request that writes while the thread swaps snapshots
waits for that swap, never for the whole recompute.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.db import connections

from config.locks import single_flight
from kpis.services import kpis_recompute_dirty, kpis_schedule_dirty_recompute

log = logging.getLogger(__name__)

#: A round starts this long after the last write that asked for it, so that a burst of writes
#: (a rep working through the inbox) is recomputed once, not once a click.
QUIET_SECONDS = 1.0

THREAD_NAME = "kpis-recompute"

_lock = threading.Lock()
_state: dict = {"thread": None, "again": False, "asked_at": 0.0}


def kpis_recompute_soon() -> None:
    """Have the periods in the funnel's change log recomputed (after a write commits): in this
    process's background thread in the embedded mode, else as `kpis_schedule_dirty_recompute`
    does (a queued Celery task, or in the request with `KPI_RECOMPUTE_IN_BACKGROUND` off)."""
    if not (settings.CELERY_TASK_ALWAYS_EAGER and settings.KPI_RECOMPUTE_IN_BACKGROUND):
        kpis_schedule_dirty_recompute()
        return
    if threading.current_thread().name == THREAD_NAME:
        return  # logged by the round running here, which reads the log to its end
    with _lock:
        _state["again"], _state["asked_at"] = True, time.monotonic()
        if _state["thread"] is None:
            # Not a daemon: a management command's process waits for its writes' numbers.
            thread = threading.Thread(target=_run, name=THREAD_NAME, daemon=False)
            _state["thread"] = thread
            thread.start()


def kpis_recompute_running() -> bool:
    """Whether this process's background recompute is running (or about to)."""
    with _lock:
        return _state["thread"] is not None


def kpis_recompute_wait(timeout: float | None = None) -> bool:
    """Wait for this process's background recompute to finish; False if it still runs."""
    with _lock:
        thread = _state["thread"]
    if thread is not None:
        thread.join(timeout)
        return not thread.is_alive()
    return True


def _run() -> None:
    try:
        while True:
            with _lock:
                if not _state["again"]:
                    _state["thread"] = None
                    return
                quiet = _state["asked_at"] + QUIET_SECONDS - time.monotonic()
                if quiet <= 0:
                    _state["again"] = False
            if quiet > 0:
                time.sleep(quiet)
                continue
            try:
                # The lock of the Celery task: an eager run in this process excludes this one.
                with single_flight("kpis:recompute-dirty", seconds=600) as mine:
                    # Until the change log is empty (an entry that fails is set aside).
                    while mine and kpis_recompute_dirty().recomputed:
                        pass
            except Exception:
                log.exception("The background KPI recompute failed; its periods stay logged.")
                with _lock:
                    _state["thread"] = None
                    _state["again"] = False
                return
    finally:
        connections.close_all()  # this thread's own connections

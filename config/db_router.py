"""Reads of the KPI pages and the GET API from a read replica (set `DATABASE_REPLICA_URL`).

`ReplicaReadsMiddleware` opens a window of replica reads around a GET or HEAD of a page that
only reads (the dashboard, the meeting view, the campaigns, the definitions, and the API's
GET endpoints). Inside it `ReplicaRouter` sends the ORM's reads to the `replica` alias until
the request writes or opens a transaction on the primary; from then on the request reads the
primary too, so it never acts on what it read from a replica that lags. Writes, migrations,
every other request, Celery tasks and management commands use the primary (`default`).

Sessions, users, groups, API tokens, content types and the throttle's counts always come from
the primary, so a
login or a new token works on the very next request; so do the recompute and rescore jobs,
whose status is polled right after the POST that created them.

Without `DATABASE_REPLICA_URL` neither the router nor the middleware is installed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

REPLICA = "replica"

#: The pages that only read (KPI snapshots and the funnel), by URL name.
REPLICA_URL_NAMES = frozenset(
    {
        "home",
        "dashboard-csv",
        "meeting",
        "meeting-section",
        "campaign-list",
        "campaign-detail",
        "campaign-csv",
        "definitions",
    }
)
#: Every GET of the API reads from the replica, except these (see PRIMARY_MODELS).
REPLICA_ROUTE_PREFIX = "api/v1/"
PRIMARY_URL_NAMES = frozenset({"api-recompute-status", "api-rescore-job"})
#: Read from the primary even inside the window: who is asking, and job progress.
PRIMARY_APPS = frozenset({"auth", "authtoken", "sessions", "contenttypes", "admin", "config"})
PRIMARY_MODELS = frozenset({"kpis.recomputejob", "alignment.rescorejob"})

_SAFE_METHODS = frozenset({"GET", "HEAD"})


@dataclass
class _Window:
    depth: int  # atomic blocks open on the primary when the window opened
    wrote: bool = False


_window: ContextVar[_Window | None] = ContextVar("tandem_replica_reads", default=None)


@contextmanager
def replica_reads() -> Iterator[None]:
    """Inside, the ORM reads from the replica until the first write or a transaction opened
    inside (effective only where `ReplicaRouter` is installed)."""
    token = _window.set(_Window(depth=len(connections[DEFAULT_DB_ALIAS].atomic_blocks)))
    try:
        yield
    finally:
        _window.reset(token)


def replica_safe(request: HttpRequest) -> bool:
    """Whether this request only reads and may read from the replica."""
    if request.method not in _SAFE_METHODS:
        return False
    try:
        match = resolve(request.path_info, getattr(request, "urlconf", None))
    except Resolver404:
        return False
    if match.url_name in PRIMARY_URL_NAMES:
        return False
    return match.url_name in REPLICA_URL_NAMES or match.route.startswith(REPLICA_ROUTE_PREFIX)


class ReplicaReadsMiddleware:
    """Opens the replica window around the requests `replica_safe` lets through. Last in
    MIDDLEWARE, so that the session and the user are loaded as usual (from the primary)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not replica_safe(request):
            return self.get_response(request)
        with replica_reads():
            return self.get_response(request)


def _primary_only(model: type[models.Model]) -> bool:
    meta = model._meta
    return meta.app_label in PRIMARY_APPS or meta.label_lower in PRIMARY_MODELS


class ReplicaRouter:
    """Reads inside a replica window go to the replica; everything else to the primary."""

    def db_for_read(self, model: type[models.Model], **hints: object) -> str | None:
        window = _window.get()
        if window is None:
            return None  # Django's default: the instance's database, else the primary
        if (
            window.wrote
            or _primary_only(model)
            or len(connections[DEFAULT_DB_ALIAS].atomic_blocks) > window.depth
        ):
            return DEFAULT_DB_ALIAS
        return REPLICA

    def db_for_write(self, model: type[models.Model], **hints: object) -> str:
        window = _window.get()
        if window is not None:
            window.wrote = True  # the rest of the request reads what it wrote
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: models.Model, obj2: models.Model, **hints: object) -> bool:
        return True  # one database, two connections

    def allow_migrate(
        self, db: str, app_label: str, model_name: str | None = None, **hints: object
    ) -> bool:
        return db == DEFAULT_DB_ALIAS  # the replica follows the primary's schema by itself

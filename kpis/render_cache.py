"""The page cache of the KPI pages: what they read from snapshots and render of it, kept until
the snapshots change.

An entry is keyed by
- the snapshots' version (`kpis.versions`, one database row), read once per request,
- the code that built it (`code_version`: a deploy never serves what an older release kept),
- the local date (the pages name "last week", the period "so far", the period in progress),
- the page and its arguments, and every query parameter, sorted (per-request ones left out),
- the viewer's role, so that two roles never share an entry, whatever each may see,
and lives `KPI_PAGE_CACHE_SECONDS` at most: that bounds how long a word that changes without a
recompute (a rejection reason's label, a new rep in the owner filter) can stay stale.

Nothing of the user is cached. A fragment renders without the request's context processors, so
without a CSRF token, the user or messages; its template sees of the request only its query
string (`FragmentRequest`). What moves with the clock rather than the snapshots (how far into
its period the focus is, live breach counts, goal pace) renders on every request, outside the
fragments; a fragment that shows "computed 3 min ago" writes `{% ago_live moment %}`, and `fill`
writes the words in on every request.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache as once
from importlib import import_module
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, QueryDict
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.safestring import SafeString, mark_safe

from alignment.roles import user_role
from kpis.pages.common import ago_words
from kpis.versions import kpis_snapshots_version

T = TypeVar("T")

#: Query parameters that change what a request does, not what the page shows of the snapshots.
PER_REQUEST_PARAMS = frozenset({"job"})


#: What a kept entry is made of: the apps' code (its classes are pickled) and the templates.
_PACKAGES = ("core", "alignment", "leads", "kpis")


@once
def code_version() -> str:
    """A digest of the code and templates that build the entries (read once per process)."""
    folders = [Path(import_module(name).__file__).parent for name in _PACKAGES]
    folders.append(Path(settings.BASE_DIR) / "templates")
    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.suffix in {".py", ".html"} and "migrations" not in path.parts:
                digest.update(path.relative_to(folder.parent).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def snapshots_version(request: HttpRequest) -> str:
    """The snapshots' version, read once per request."""
    if not hasattr(request, "_kpis_snapshots_version"):
        request._kpis_snapshots_version = kpis_snapshots_version()
    return request._kpis_snapshots_version


def fragment_query(request: HttpRequest) -> QueryDict:
    """The query string a cached fragment may link with: the request's, in its order, without
    the per-request parameters."""
    query = request.GET.copy()
    for name in PER_REQUEST_PARAMS:
        query.pop(name, None)
    query._mutable = False
    return query


def page_key(request: HttpRequest, page: str, *args: object) -> str:
    """The cache key of `page` (with its arguments) for this request."""
    params = sorted(
        (name, value)
        for name, values in request.GET.lists()
        if name not in PER_REQUEST_PARAMS
        for value in values
    )
    role = user_role(request.user) if hasattr(request, "user") else None
    parts = [
        page,
        *map(str, args),
        code_version(),
        snapshots_version(request),
        timezone.localdate().isoformat(),
        str(role or "-"),
        _encode(params),
    ]
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
    return f"kpis:page:{page}:{digest}"


def _encode(params: Iterable[tuple[str, str]]) -> str:
    query = QueryDict(mutable=True)
    for name, value in params:
        query.appendlist(name, value)
    return query.urlencode()


def cached(key: str, build: Callable[[], T]) -> T:
    """The entry under `key`, built (and kept) if there is none."""
    return cache.get_or_set(key, build, timeout=settings.KPI_PAGE_CACHE_SECONDS)


@dataclass(frozen=True)
class Fragments:
    """A page's cached part: what its builder read (`data`, for the parts that render on every
    request), its fragments' HTML, and the status the page answers with (400 for a filter that
    does not hold: the page shows why, with its default numbers)."""

    data: Any
    html: dict[str, SafeString]
    status: int = 200

    def filled(self) -> dict[str, SafeString]:
        """The fragments as of now (`fill`)."""
        return {name: fill(html) for name, html in self.html.items()}


class FragmentRequest:
    """What a cached fragment's template may know of the request: its query string."""

    def __init__(self, query: QueryDict) -> None:
        self.GET = query


def render_fragment(template: str, context: dict, request: HttpRequest) -> SafeString:
    """`template` rendered for the cache: no context processors, only the query string."""
    context = {**context, "request": FragmentRequest(fragment_query(request)), "fragment": True}
    return mark_safe(render_to_string(template, context))


_AGO = re.compile(r"<!--ago:([0-9T:.+\-]+)-->")


def ago_marker(moment: datetime) -> SafeString:
    """Where a fragment shows how long ago `moment` was; `fill` writes the words in."""
    return mark_safe(f"<!--ago:{moment.isoformat()}-->")


def fill(html: str) -> SafeString:
    """A cached fragment as of now: each "ago" marker replaced by its words."""
    if "<!--ago:" not in html:
        return mark_safe(html)

    def words(match: re.Match) -> str:
        moment = parse_datetime(match.group(1))
        return ago_words(moment) if moment else ""

    return mark_safe(_AGO.sub(words, html))

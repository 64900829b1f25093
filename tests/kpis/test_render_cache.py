from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import timezone

from alignment.roles import Role
from kpis import render_cache
from kpis.versions import kpis_snapshots_changed

pytestmark = pytest.mark.django_db


@pytest.fixture
def get(make_user: Callable[..., object]) -> Callable[..., object]:
    def request(path: str, role: Role | None = Role.SALES_REP, username: str = "") -> object:
        req = RequestFactory().get(path)
        req.user = make_user(username or f"u-{role}-{path}", role) if role else AnonymousUser()
        return req

    return request


def test_a_page_key_ignores_the_order_of_the_query_and_the_per_request_parameters(
    get: Callable[..., object],
) -> None:
    one = render_cache.page_key(get("/?period=week&channel=webinar", username="a"), "home")
    two = render_cache.page_key(get("/?channel=webinar&period=week&job=1", username="b"), "home")
    assert one == two
    assert one != render_cache.page_key(get("/?period=week", username="c"), "home")
    assert one != render_cache.page_key(get("/?period=week&channel=", username="d"), "home")
    assert one != render_cache.page_key(get("/?period=week&channel=webinar", username="e"), "x")


def test_a_page_key_differs_by_role(get: Callable[..., object]) -> None:
    keys = {
        render_cache.page_key(get("/?period=week", role, username=str(role)), "home")
        for role in [*Role, None]
    }
    assert len(keys) == len(Role) + 1


def test_a_page_key_changes_with_the_snapshots_and_with_the_day(
    get: Callable[..., object], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = render_cache.page_key(get("/", username="a"), "home")
    kpis_snapshots_changed()
    after = render_cache.page_key(get("/", username="b"), "home")
    tomorrow = timezone.now() + timedelta(days=1)
    monkeypatch.setattr(timezone, "now", lambda: tomorrow)
    assert len({before, after, render_cache.page_key(get("/", username="c"), "home")}) == 3


def test_a_request_reads_the_version_once(
    get: Callable[..., object], django_assert_num_queries: Callable
) -> None:
    request = get("/")
    render_cache.page_key(request, "home")  # the role is read here too
    with django_assert_num_queries(0):
        render_cache.page_key(request, "home")
        render_cache.page_key(request, "meeting")


def test_cached_builds_once_until_the_entry_is_gone() -> None:
    built = []
    for _ in range(3):
        assert render_cache.cached("k", lambda: built.append(1) or "value") == "value"
    assert built == [1]


def test_a_fragment_sees_the_query_string_and_nothing_of_the_user(
    get: Callable[..., object], settings: object
) -> None:
    template = (
        "{% csrf_token %}[{{ user }}][{{ request.user }}][{{ messages }}]"
        "[{{ request.GET.urlencode }}][{{ csrf_token }}]"
    )
    settings.TEMPLATES = [
        {
            **settings.TEMPLATES[0],
            "APP_DIRS": False,
            "OPTIONS": {
                **settings.TEMPLATES[0]["OPTIONS"],
                "loaders": [("django.template.loaders.locmem.Loader", {"t.html": template})],
            },
        }
    ]
    html = render_cache.render_fragment("t.html", {}, get("/?b=2&a=1&job=x", username="sam"))
    assert html == "[][][][b=2&amp;a=1][]"


def test_an_ago_label_in_a_cached_fragment_follows_the_clock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    computed = timezone.now() - timedelta(minutes=3)
    template = Template("{% load tandem %}Computed {% ago_live at %}")
    html = template.render(Context({"at": computed, "fragment": True}))
    assert "<!--ago:" in html
    assert render_cache.fill(html) == "Computed 3 min ago"
    later = timezone.now() + timedelta(hours=2)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert render_cache.fill(html) == "Computed 2 h 3 min ago"
    assert template.render(Context({"at": computed})) == "Computed 2 h 3 min ago"


def test_a_campaign_named_like_a_marker_stays_text() -> None:
    html = Template("{{ name }}").render(Context({"name": "<!--ago:2020-01-01T00:00:00-->"}))
    assert render_cache.fill(html) == html


def test_a_page_key_changes_with_the_code_that_builds_the_page(
    get: Callable[..., object], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = render_cache.page_key(get("/", username="a"), "home")
    monkeypatch.setattr(render_cache, "code_version", lambda: "a later release")
    assert render_cache.page_key(get("/", username="b"), "home") != before


def test_the_code_version_follows_the_templates(settings: object, tmp_path: object) -> None:
    render_cache.code_version.cache_clear()
    settings.BASE_DIR = tmp_path
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "page.html").write_text("one")
    first = render_cache.code_version()
    render_cache.code_version.cache_clear()
    (tmp_path / "templates" / "page.html").write_text("two")
    assert render_cache.code_version() != first
    render_cache.code_version.cache_clear()

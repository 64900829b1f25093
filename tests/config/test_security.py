"""Security headers, the Content-Security-Policy, and user text escaped everywhere (issue 14).

The policy (config/settings.py, django-csp) allows nothing from another origin, and no inline
script or <style> without the request's nonce. The crawl below asks every page of the
permissions matrix (tests/test_permissions.py) as every role that may see it, and reads each
answer as a browser would: an inline script without the nonce, an inline event handler, a
`javascript:` link, or a script, style sheet or image from elsewhere would be blocked, or
would be a way in. Before the crawl every text a person typed in that world (names, notes,
feedback, stories, Markdown, error texts, people's names) is overwritten with markup that
would run if a page printed it unescaped; the crawl fails if it appears raw anywhere.
tests/browser/test_security.py checks in chromium that the pages draw and
report no violation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
from django.apps import apps
from django.test import Client

from alignment.services.audit import audit_record
from tests.alignment.inert import assert_inert
from tests.permissions_world import COLUMNS, MatrixWorld
from tests.test_permissions import GET, MATRIX, ask, is_api

#: Every source a directive may name, but the request's nonce ('nonce-…'). No host, no scheme
#: but data: for images, no 'unsafe-eval'; 'unsafe-inline' for style attributes only.
SOURCES = {"'self'", "'none'"}
EXTRA_SOURCES = {"img-src": {"data:"}, "style-src-attr": {"'unsafe-inline'"}}
#: Inline script types a browser reads as data and never runs (json_script).
DATA_SCRIPTS = {"application/json", "application/ld+json"}


def policy(response: object) -> dict[str, list[str]]:
    """The Content-Security-Policy header as {directive: [sources]}."""
    header = response.headers.get("Content-Security-Policy", "")
    assert header, "no Content-Security-Policy header"
    return {
        name: sources
        for name, *sources in (part.split() for part in header.split(";") if part.strip())
    }


def nonce_of(directives: dict[str, list[str]]) -> str:
    """The nonce script-src names ("" if none)."""
    for source in directives.get("script-src", []):
        if match := re.fullmatch(r"'nonce-([A-Za-z0-9+/=]+)'", source):
            return match.group(1)
    return ""


def policy_problems(directives: dict[str, list[str]]) -> list[str]:
    problems = []
    for name, sources in directives.items():
        allowed = SOURCES | EXTRA_SOURCES.get(name, set())
        for source in sources:
            if source not in allowed and not source.startswith("'nonce-"):
                problems.append(f"{name} allows {source}")
    for name in ("default-src", "object-src", "frame-ancestors"):
        if directives.get(name) != ["'none'"]:
            problems.append(f"{name} is {directives.get(name)}, not 'none'")
    return problems


def _foreign(url: str) -> bool:
    """A URL another origin serves (or a scheme that runs code)."""
    url = url.strip().lower()
    return url.startswith(("http:", "https:", "//", "javascript:", "data:text/html"))


class _Page(HTMLParser):
    """What a browser under the policy would refuse to run or load in a page."""

    def __init__(self, nonce: str) -> None:
        super().__init__(convert_charrefs=True)
        self.nonce = nonce
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        for name, value in values.items():
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…> is an inline event handler")
            if name in {"href", "src", "action", "formaction"} and value.strip().lower().startswith(
                "javascript:"
            ):
                self.problems.append(f"<{tag} {name}={value!r}>")
        if tag == "script":
            if "src" in values:
                if _foreign(values["src"]):
                    self.problems.append(f"script from another origin: {values['src']}")
            elif values.get("type", "").lower() not in DATA_SCRIPTS and (
                not self.nonce or values.get("nonce") != self.nonce
            ):
                self.problems.append("an inline <script> without the request's nonce")
        elif tag == "style" and (not self.nonce or values.get("nonce") != self.nonce):
            self.problems.append("a <style> without the request's nonce")
        elif tag == "link" and "stylesheet" in values.get("rel", "") and _foreign(values["href"]):
            self.problems.append(f"style sheet from another origin: {values['href']}")
        elif tag in {"img", "iframe", "embed", "object", "source"}:
            src = values.get("src") or values.get("data") or ""
            if _foreign(src):
                self.problems.append(f"<{tag}> from another origin: {src}")


def page_problems(response: object) -> list[str]:
    """Everything in an HTML answer that its own policy would block, or that could run code."""
    directives = policy(response)
    page = _Page(nonce_of(directives))
    page.feed(response.content.decode())
    page.close()
    return policy_problems(directives) + page.problems


#: Every page, and the API's one page (Swagger UI).
#: Markup that runs if printed raw, in Markdown and HTML: what every text field below is set to.
HOSTILE = '"><script>alert(1)</script><img src=x onerror=alert(2)>[a](javascript:alert(3))'
RAW = ("<script>alert(1)", "<img src=x", 'href="javascript:')
#: The fields people type text into, by model (the texts a page prints of them).
TYPED = {
    "auth.User": ["first_name", "last_name"],
    "alignment.ServiceLevelAgreement": ["notes"],
    "alignment.LeadDefinition": ["notes"],
    "alignment.RescoreJob": ["error"],
    "alignment.Goal": ["name", "specific", "measurable", "achievable", "relevant", "time_bound"],
    "alignment.GoalCheckIn": ["note"],
    "alignment.RevenueForecast": ["note"],
    "alignment.Meeting": ["title", "agenda", "notes", "decisions"],
    "alignment.ActionItem": ["text"],
    "alignment.Idea": ["title", "body", "parked_reason"],
    "alignment.IdeaComment": ["body"],
    "alignment.InsightTag": ["name"],
    "alignment.FieldInsight": ["text", "answer_text"],
    "alignment.Spotlight": ["title", "story"],
    "alignment.ShadowingSession": ["focus", "learned"],
    "alignment.CampaignRating": ["comment"],
    "leads.Channel": ["label"],
    "leads.Campaign": ["name"],
    "leads.Lead": ["name", "company", "segment"],
    "leads.RejectionReason": ["label"],
    "leads.StageEvent": ["note"],
    "leads.Handoff": ["feedback"],
    "leads.HandoffReassignment": ["note"],
    "leads.Dispute": ["comment", "outcome_note"],
    "leads.ContactAttempt": ["note"],
    "leads.Deal": ["lost_reason"],
    "leads.ImportPreset": ["name"],
    "leads.ImportJob": ["filename", "error"],
    "leads.WhatIfRun": ["error"],
    "kpis.RecomputeJob": ["error"],
    "kpis.RecomputeUnit": ["error"],
}

NOT_IN_WORLD = {"kpis.RecomputeUnit"}


@pytest.fixture(scope="module")
def hostile_world(matrix_world: MatrixWorld, django_db_blocker: Any) -> Iterator[MatrixWorld]:
    """The matrix world with every typed text set to HOSTILE (cut to the field's length), in
    its module transaction: rolled back with it."""
    empty = []
    with django_db_blocker.unblock():
        for label, names in TYPED.items():
            model = apps.get_model(label)
            values = {}
            for name in names:
                length = model._meta.get_field(name).max_length
                values[name] = HOSTILE[:length] if length else HOSTILE
            if not model.objects.update(**values):
                empty.append(label)
        # The audit log is append-only (a trigger refuses UPDATE): one more entry, all hostile.
        goal = apps.get_model("alignment.Goal").objects.first()
        audit_record(
            actor=None,
            action="goal.updated",
            target=goal,
            changes={"name": [HOSTILE, HOSTILE]},
            details={"source": HOSTILE},
            note=HOSTILE,
        )
    # The world holds every kind of record a page prints, bar the ones only failures write.
    assert set(empty) <= NOT_IN_WORLD, sorted(set(empty) - NOT_IN_WORLD)
    yield matrix_world


def escaping_problems(response: object) -> list[str]:
    """The hostile text printed raw, or a page element that would run it."""
    text = response.content.decode()
    problems = [f"{raw!r} printed raw" for raw in RAW if raw in text]
    try:
        assert_inert(text)
    except AssertionError as exc:
        problems.append(f"runs user text: {exc}")
    return problems


PAGES = [row for row in MATRIX if row.method == GET and (not is_api(row) or row.name == "api-docs")]


@pytest.mark.parametrize("row", [pytest.param(row, id=row.id) for row in PAGES])
def test_every_page_escapes_user_text_and_runs_only_its_own_scripts_for_everyone_who_sees_it(
    row: object, hostile_world: MatrixWorld, db: None
) -> None:
    asked = 0
    problems: dict[str, list[str]] = {}
    for column, expected in zip(COLUMNS, row.cells, strict=True):
        if expected != 200:
            continue
        response = ask(row, column, hostile_world)
        assert response.status_code == 200, (column, response.status_code)
        if not response["Content-Type"].startswith("text/html"):
            continue
        asked += 1
        # asked again: the KPI pages serve it from their cache, with this request's nonce
        again = ask(row, column, hostile_world)
        if found := page_problems(response) + escaping_problems(response) + page_problems(again):
            problems[column] = found
    assert not problems, f"{row.id}: {problems}"
    if row.name in {"home", "scorecard", "campaign-detail", "login"}:
        assert asked, f"{row.id} was not asked as anyone"


def test_a_page_with_charts_gives_plotly_a_style_element_with_the_nonce(
    matrix_world: MatrixWorld, db: None
) -> None:
    response = matrix_world.client("admin").get("/")
    nonce = nonce_of(policy(response))
    assert nonce
    assert f'<style id="plotly.js-style-global" nonce="{nonce}">' in response.content.decode()
    # a new nonce for every answer
    assert nonce_of(policy(matrix_world.client("admin").get("/"))) != nonce


def test_the_policy_checker_finds_what_the_policy_would_block() -> None:
    """The crawl above can fail: each of these is one problem to it."""

    class Answer:
        headers = {
            "Content-Security-Policy": "default-src 'none'; script-src 'self' 'nonce-abc'; "
            "object-src 'none'; frame-ancestors 'none'"
        }

        def __init__(self, html: str) -> None:
            self.content = html.encode()

    bad = [
        "<script>alert(1)</script>",
        '<script nonce="other">x()</script>',
        '<script src="https://cdn.example.com/x.js"></script>',
        "<style>p{}</style>",
        '<link rel="stylesheet" href="//fonts.example.com/a.css">',
        '<button onclick="go()">',
        '<a href="javascript:go()">',
        '<img src="https://tracker.example.com/p.gif">',
    ]
    for html in bad:
        assert len(page_problems(Answer(html))) == 1, html
    good = (
        '<script nonce="abc">x()</script><script src="/static/a.js"></script>'
        '<script type="application/json">{"a": 1}</script><a href="https://example.com/">'
    )
    assert page_problems(Answer(good)) == []
    assert policy_problems({"script-src": ["'self'", "'unsafe-eval'"]})[0].startswith("script-src")
    assert "img-src allows https://cdn.example.com" in policy_problems(
        {"img-src": ["https://cdn.example.com"]}
    )


def test_a_signed_in_page_over_https_sends_the_security_headers(
    matrix_world: MatrixWorld, db: None
) -> None:
    client = matrix_world.client("srep")
    # Behind the TLS proxy: it says the request came over HTTPS (SECURE_PROXY_SSL_HEADER).
    response = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["Cache-Control"] == "private, no-store"
    assert not policy_problems(policy(response))


def test_plain_http_gets_no_hsts_and_no_client_can_claim_https_without_the_proxy_header(
    matrix_world: MatrixWorld, db: None
) -> None:
    client = matrix_world.client("srep")
    response = client.get("/", headers={"X-Forwarded-Proto": "http"})
    assert "Strict-Transport-Security" not in response
    assert "Strict-Transport-Security" not in client.get("/")


def test_the_api_and_the_login_page_carry_the_policy_too(
    matrix_world: MatrixWorld, db: None
) -> None:
    assert not page_problems(Client().get("/login/"))
    assert not policy_problems(policy(matrix_world.api("srep").get("/api/v1/handoffs/")))

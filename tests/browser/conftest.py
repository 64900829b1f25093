"""Browser tests: Playwright drives Debian's chromium against pytest-django's live server.

Run them with `pytest -m browser`; without /usr/bin/chromium they skip (and fail under CI).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def async_unsafe_allowed() -> Iterator[None]:
    """The sync Playwright API runs an event loop in the test's thread; Django's ORM refuses to
    run inside one unless told that this is fine (it is: the loop only drives the browser).
    Set for the browser modules only: `check --deploy` in other tests warns about it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="module")
def browser(base_data: str, async_unsafe_allowed: None) -> Iterator[object]:
    if not shutil.which(CHROMIUM):
        message = f"no {CHROMIUM}: install it with `apt-get install chromium` to run browser tests"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def csp_violations(page: object) -> list[str]:
    """What the Content-Security-Policy blocks on `page` from now on, as chromium reports it
    (a console error per blocked script, style or load)."""
    blocked: list[str] = []

    def seen(message: object) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            blocked.append(message.text)

    page.on("console", seen)
    return blocked


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    """A fresh page; the test fails if the page had a JavaScript error or the CSP blocked
    anything on it."""
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    blocked = csp_violations(page)
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
    assert not blocked, f"The Content-Security-Policy blocked: {blocked}"


@pytest.fixture
def login(live_server: object) -> Callable[[object, str], None]:
    def log_in(page: object, username: str, password: str = "pw") -> None:
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        with page.expect_navigation():
            page.click("button[type=submit]")

    return log_in

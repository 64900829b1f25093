"""Checks that a page runs nothing a user wrote (Markdown rendered by alignment.markdown)."""

from __future__ import annotations

from html.parser import HTMLParser


class _Elements(HTMLParser):
    """Every element of a page with its attributes, and the text of its scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def assert_inert(page: str) -> None:
    """No element of `page` runs what a user wrote: no script with it, no inline event handler
    (the pages have none: the CSP would block them), no javascript: link, no image."""
    parsed = _Elements()
    parsed.feed(page)
    assert not any("alert(" in s for s in parsed.scripts)
    for tag, attrs in parsed.elements:
        assert tag != "img"
        for name, value in attrs.items():
            assert not value.strip().lower().startswith("javascript:"), (tag, name, value)
            assert not name.startswith("on"), (tag, name, value)

"""Markdown as both teams write it (agendas, notes, decisions, ideas, answers, stories),
rendered to HTML that cannot run anything.

markdown-it-py renders CommonMark with raw HTML switched off (an inline `<script>` stays text),
and nh3 (the Rust `ammonia` sanitizer) then keeps only the tags and attributes below: no
`javascript:` or `data:` links, no event handlers, no styles. Links open with
`rel="noopener noreferrer nofollow"`.
"""

from __future__ import annotations

import html

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

_RENDERER = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_RENDERER.enable("table").enable("strikethrough")

ALLOWED_TAGS = {
    "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "li", "ol", "p", "pre", "s", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}


def markdown_html(text: str | None) -> SafeString:
    """`text` (Markdown) as sanitised HTML, safe to put in a page as it is."""
    if not text:
        return mark_safe("")
    html = _RENDERER.render(text)
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(clean)  # nh3 output: only the tags and schemes above


def markdown_text(text: str | None, *, limit: int = 200) -> str:
    """A one-line plain-text excerpt of `text`, for lists and cards."""
    plain = html.unescape(nh3.clean(_RENDERER.render(text or ""), tags=set()))
    plain = " ".join(plain.split())  # plain text: the template escapes it
    return plain if len(plain) <= limit else plain[: limit - 1].rstrip() + "…"

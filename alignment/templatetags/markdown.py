"""`{{ text|markdown }}`: Markdown rendered and sanitised (alignment.markdown)."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from alignment.markdown import markdown_html, markdown_text

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str | None) -> SafeString:
    return markdown_html(text)


@register.filter(name="markdown_excerpt")
def markdown_excerpt(text: str | None, limit: int = 200) -> str:
    return markdown_text(text, limit=int(limit))

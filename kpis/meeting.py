"""The sections of the meeting view: one selector and one template each.

A section is a slide of the weekly alignment meeting (templates/kpis/meeting/<slug>.html, fed
by `build()`); the page shows them in this order and refreshes each on its own.
HOOK(meeting): later issues add open action items, new field insights, ideas and spotlights by
appending a `Section` here with their selector, and a template beside the others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kpis.selectors import goals_progress, meeting_reasons, meeting_sla, meeting_week


@dataclass(frozen=True)
class Section:
    slug: str
    title: str
    build: Callable[[], object]

    @property
    def template(self) -> str:
        return f"kpis/meeting/{self.slug}.html"


SECTIONS: list[Section] = [
    Section("week", "Last week in numbers", meeting_week),
    Section("goals", "Shared goals", goals_progress),
    Section("sla", "SLA breaches", meeting_sla),
    Section("reasons", "Why sales rejected leads", meeting_reasons),
]


def section(slug: str) -> Section | None:
    return next((s for s in SECTIONS if s.slug == slug), None)

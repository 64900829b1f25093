"""A hand-computed what-if: eight leads of the last 90 days (and one older), a baseline v1
signed by both heads and a draft v2, with the numbers every group must give.

Baseline v1 (threshold 50): company.size ≥ 200 +30, segment = enterprise +30, title contains
"VP" +30. Draft v2 (threshold 40): company.size ≥ 100 +40, segment = enterprise +10.

| lead | size | segment    | title    | v1 | v2 | cell    | handoffs (in order)      | deal |
|------|------|------------|----------|----|----|---------|--------------------------|------|
| A    | 300  | enterprise |          | 60 | 50 | both    | accepted                 | won  |
| B    | 300  | smb        |          | 30 | 40 | new     | rejected                 |      |
| C    | 150  |            |          |  0 | 40 | new     | rejected, then accepted  | won  |
| D    | 150  |            |          |  0 | 40 | new     | (none)                   |      |
| E    | 50   | enterprise | VP Sales | 60 | 10 | dropped | rejected                 |      |
| F    | 80   | enterprise | VP Ops   | 60 | 10 | dropped | accepted                 | lost |
| G    | 500  | enterprise | VP       | 90 | 50 | both    | pending                  |      |
| H    | 20   | smb        |          |  0 |  0 | neither | (none)                   |      |
| I    | 300  | enterprise |          | 60 | 50 | (100 days old: outside the window) accepted | won |

Cells: both = A, G: 2 leads, 1 of 1 decided accepted, 1 won of 2 handed off.
new = B, C, D: 3 leads, 1 of 3 decided accepted, 1 won of 2 handed off.
dropped = E, F: 2 leads, 1 of 2 decided accepted, 0 won of 2 handed off.
Every lead that reaches v1's threshold is handed off already, so approving v1 (which re-scores
every lead) opens no handoff of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from alignment.models import LeadDefinition
from alignment.services.lead_definitions import lead_definition_create
from tests.conftest import World

BASELINE_RULES = [
    {"field": "company.size", "operator": "gte", "value": 200, "points": 30},
    {"field": "segment", "operator": "equals", "value": "enterprise", "points": 30},
    {"field": "title", "operator": "contains", "value": "VP", "points": 30},
]
DRAFT_RULES = [
    {"field": "company.size", "operator": "gte", "value": 100, "points": 40},
    {"field": "segment", "operator": "equals", "value": "enterprise", "points": 10},
]

# group: (leads, decided, accepted, handed_off, won)
EXPECTED = {
    "draft": (5, 4, 2, 4, 2),
    "baseline": (4, 3, 2, 4, 1),
    "new": (3, 3, 1, 2, 1),
    "dropped": (2, 2, 1, 2, 0),
    "both": (2, 1, 1, 2, 1),
}
# Without a definition in effect the baseline is what happened: A B C E F G were handed off.
EXPECTED_NO_BASELINE = {
    "draft": (5, 4, 2, 4, 2),
    "baseline": (6, 6, 3, 6, 2),
    "new": (1, 0, 0, 0, 0),
    "dropped": (2, 2, 1, 2, 0),
    "both": (4, 4, 2, 4, 2),
}
SUMMARY = (
    "Under the draft (v2), 5 of the 8 leads created in the last 90 days would have become "
    "MQLs, against 4 under v1: 3 new, 2 dropped.",
    "The new ones were accepted 33 % of the time (1 of 3 decided handoffs) and won 50 % "
    "(1 of 2 handed off).",
    "The dropped ones were accepted 50 % of the time (1 of 2 decided handoffs) and won 0 % "
    "(0 of 2 handed off).",
    "Those under both were accepted 100 % of the time (1 of 1 decided handoffs) and won 50 % "
    "(1 of 2 handed off).",
)


def build_leads(world: World, now: datetime) -> dict[str, str]:
    """The leads, their handoffs and deals, `now` being the moment of the run."""

    def at(days: float) -> str:
        return (now - timedelta(days=days)).isoformat()

    def lead(days: float, size: int, segment: str = "", title: str = "") -> str:
        attributes: dict[str, object] = {"company": {"size": size}}
        if title:
            attributes["title"] = title
        return world.lead(at(days), segment=segment, **attributes)

    leads = {
        "A": lead(60, 300, "enterprise"),
        "B": lead(50, 300, "smb"),
        "C": lead(40, 150),
        "D": lead(30, 150),
        "E": lead(45, 50, "enterprise", "VP Sales"),
        "F": lead(35, 80, "enterprise", "VP Ops"),
        "G": lead(20, 500, "enterprise", "VP"),
        "H": lead(10, 20, "smb"),
        "I": lead(100, 300, "enterprise"),
    }
    world.stage(leads["A"], "mql", at(59))
    world.stage(leads["A"], "sal", at(58))
    world.deal(leads["A"], 5000, at(50), status="won", closed_at=at(20))
    world.stage(leads["B"], "mql", at(49))
    world.stage(leads["B"], "rejected", at(48), reason="no_budget")
    world.stage(leads["C"], "mql", at(39))
    world.stage(leads["C"], "rejected", at(38), reason="not_ready")
    world.stage(leads["C"], "mql", at(30))
    world.stage(leads["C"], "sal", at(29))
    world.deal(leads["C"], 3000, at(25), status="won", closed_at=at(10))
    world.stage(leads["E"], "mql", at(44))
    world.stage(leads["E"], "rejected", at(43), reason="no_budget")
    world.stage(leads["F"], "mql", at(34))
    world.stage(leads["F"], "sal", at(33))
    world.deal(leads["F"], 2000, at(30), status="lost", closed_at=at(15))
    world.stage(leads["G"], "mql", at(19))
    world.stage(leads["I"], "mql", at(99))
    world.stage(leads["I"], "sal", at(98))
    world.deal(leads["I"], 9000, at(90), status="won", closed_at=at(60))
    return leads


def build_definitions(
    signed_definition: Callable[..., LeadDefinition], by: object, signed_at: datetime
) -> tuple[LeadDefinition, LeadDefinition]:
    """v1 signed by both heads (in effect from `signed_at`), and the draft v2."""
    baseline = signed_definition(BASELINE_RULES, threshold=50, effective_from=signed_at)
    return baseline, build_draft(by)


def build_draft(by: object) -> LeadDefinition:
    return lead_definition_create(
        by=by,
        effective_from=datetime.fromisoformat("2027-01-01T00:00:00+00:00"),
        criteria="Fit first: company size counts most.",
        mql_threshold=40,
        rules=DRAFT_RULES,
    )

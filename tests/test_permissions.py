"""The permissions matrix: every URL of the project × anonymous and each role, with the answer
each gets, from one table (`MATRIX`).

Columns (tests/permissions_world.py has the cast): anon; mrep (mia, marketing rep); mmgr
(manny, a marketing manager who heads nothing); mhead (max, head of marketing); srep (sam,
sales rep); smgr (sid, a sales manager who heads nothing); shead (sally, head of sales); admin
(ada). Objects the reps don't own belong to rita (another sales rep) and mo (another marketing
rep); the `args` column names the object, so a row with `handoff_sam` and one with
`handoff_rita` show a rep acting on their own and on someone else's.

A cell is the status code, or LOGIN: a page redirects the anonymous to the login page (the API
answers them 401). Every GET, and every answer of 400 or more or LOGIN, must write nothing to
the database (counted by the database itself: `rows_written`); a write a role may make (a 2xx
or a 3xx) must write something, so that a redirect that only flashes a refusal is not taken
for one. Each cell runs in a savepoint rolled back after it. Pages are asked with a session,
the API with each user's token; a write sends a valid body (`BODIES`), so that a 400 is never
what stands between a role and a write it should not make.

`test_every_url_and_every_method_its_view_takes_has_a_row` walks the URL resolver: a URL, or a
method a view takes, without a row here fails the build. Left out: the Django admin's own
pages (its index is a row: only the admin gets in; the rest is Django's, behind the same staff
check), and `/api/v1/schema/`, which drf-spectacular generates afresh on each request (half a
second): it has the permissions of `/api/v1/docs/`, which is a row, and
tests/leads/test_api.py asks it signed in and not.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any, NamedTuple

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from tests.permissions_world import COLUMNS, IMPORTS, MatrixWorld

GET, POST, PUT, PATCH, DELETE = "GET", "POST", "PUT", "PATCH", "DELETE"
LOGIN = "login"  # a redirect to the login page


class Row(NamedTuple):
    name: str  # the URL's name
    method: str
    args: str  # the path's parameters in order: MatrixWorld.ids keys or values, "" for none
    cells: tuple[int | str, ...]  # by COLUMNS

    @property
    def id(self) -> str:
        return f"{self.method} {self.name}" + (f"[{self.args}]" if self.args else "")


def _rows(*rows: tuple) -> list[Row]:
    return [Row(name, method, args, tuple(cells)) for name, method, args, *cells in rows]


L = LOGIN
# fmt: off
MATRIX = _rows(
    # (url name, method, path's objects,             anon, mrep, mmgr, mhead, srep, smgr, shead, admin)
    # the dashboard, the meeting view, campaigns, evidence, definitions
    ("home", GET, "",                                     L, 200, 200, 200, 200, 200, 200, 200),
    ("dashboard-csv", GET, "funnel",                      L, 200, 200, 200, 200, 200, 200, 200),
    ("recompute", POST, "",                               L, 403, 302, 302, 403, 302, 302, 302),
    # the world's job has no units (as one from before them): dead, so a manager's retry runs it
    ("recompute-retry", POST, "recompute_job",            L, 403, 302, 302, 403, 302, 302, 302),
    ("meeting", GET, "",                                  L, 200, 200, 200, 200, 200, 200, 200),
    ("meeting-section", GET, "week",                      L, 200, 200, 200, 200, 200, 200, 200),
    ("meeting-start", POST, "",                           L, 302, 302, 302, 302, 302, 302, 302),
    ("campaign-list", GET, "",                            L, 200, 200, 200, 200, 200, 200, 200),
    ("campaign-csv", GET, "fair,funnel",                  L, 200, 200, 200, 200, 200, 200, 200),
    ("campaign-rate", POST, "fair",                       L, 403, 403, 403, 302, 302, 302, 403),
    ("campaign-rating-delete", POST, "fair,rating_sam",   L, 403, 302, 302, 302, 302, 302, 302),
    ("campaign-rating-delete", POST, "fair,rating_rita",  L, 403, 302, 302, 403, 302, 302, 302),
    ("campaign-postmortem", GET, "fair",                  L, 200, 200, 200, 200, 200, 200, 200),
    ("campaign-postmortem-start", POST, "fair",           L, 302, 302, 302, 302, 302, 302, 302),
    ("campaign-detail", GET, "fair",                      L, 200, 200, 200, 200, 200, 200, 200),
    ("evidence-list", GET, "not_followed_up",             L, 200, 200, 200, 200, 200, 200, 200),
    ("definitions", GET, "",                              L, 200, 200, 200, 200, 200, 200, 200),
    # goals, the scorecard and its payout curve, forecasts: everyone reads, managers write
    ("goal-list", GET, "",                                L, 200, 200, 200, 200, 200, 200, 200),
    ("goal-new", GET, "",                                 L, 403, 200, 200, 403, 200, 200, 200),
    ("goal-new", POST, "",                                L, 403, 302, 302, 403, 302, 302, 302),
    ("goal-detail", GET, "goal",                          L, 200, 200, 200, 200, 200, 200, 200),
    ("goal-edit", GET, "goal",                            L, 403, 200, 200, 403, 200, 200, 200),
    ("goal-edit", POST, "goal",                           L, 403, 302, 302, 403, 302, 302, 302),
    ("goal-delete", POST, "goal",                         L, 403, 302, 302, 403, 302, 302, 302),
    ("goal-check-in", POST, "goal",                       L, 403, 302, 302, 403, 302, 302, 302),
    ("scorecard", GET, "",                                L, 200, 200, 200, 200, 200, 200, 200),
    ("scorecard", POST, "",                               L, 403, 302, 302, 403, 302, 302, 302),
    ("forecast-list", GET, "",                            L, 200, 200, 200, 200, 200, 200, 200),
    ("forecast-list", POST, "",                           L, 403, 302, 302, 403, 302, 302, 302),
    # the inbox, My leads, the lead page: a rep decides, logs attempts on, reads their own
    ("inbox", GET, "",                                    L, 403, 403, 403, 200, 200, 200, 200),
    ("handoff-accept", POST, "handoff_sam",               L, 403, 403, 403, 302, 302, 302, 302),
    ("handoff-accept", POST, "handoff_rita",              L, 403, 403, 403, 403, 302, 302, 302),
    ("handoff-reject", GET, "handoff_sam",                L, 403, 403, 403, 200, 200, 200, 200),
    ("handoff-reject", GET, "handoff_rita",               L, 403, 403, 403, 403, 200, 200, 200),
    ("handoff-reject", POST, "handoff_sam",               L, 403, 403, 403, 302, 302, 302, 302),
    ("handoff-reject", POST, "handoff_rita",              L, 403, 403, 403, 403, 302, 302, 302),
    ("handoff-attempt", POST, "handoff_sam",              L, 403, 403, 403, 302, 302, 302, 302),
    ("handoff-attempt", POST, "handoff_rita",             L, 403, 403, 403, 403, 302, 302, 302),
    ("what-if-start", POST, "definition",                 L, 403, 302, 302, 403, 302, 302, 302),
    ("what-if-detail", GET, "what_if",                    L, 200, 200, 200, 200, 200, 200, 200),
    ("handoff-reassign", POST, "handoff_sam",             L, 403, 403, 403, 403, 302, 302, 302),
    ("my-leads", GET, "",                                 L, 403, 403, 403, 200, 200, 200, 200),
    # disputes: marketing raises, the heads settle (one records, the other confirms)
    ("dispute-list", GET, "",                             L, 200, 200, 200, 200, 200, 200, 200),
    ("dispute-detail", GET, "dispute",                    L, 200, 200, 200, 200, 200, 200, 200),
    ("dispute-resolve", POST, "dispute",                  L, 403, 403, 302, 403, 403, 302, 403),
    ("dispute-confirm", POST, "dispute_awaiting",         L, 403, 403, 400, 403, 403, 302, 403),
    ("handoff-dispute", GET, "handoff_rejected",          L, 200, 200, 200, 403, 403, 403, 403),
    ("handoff-dispute", POST, "handoff_rejected",         L, 302, 302, 302, 403, 403, 403, 403),
    ("lead-detail", GET, "lead_sam",                      L, 200, 200, 200, 200, 200, 200, 200),
    ("lead-detail", GET, "lead_rita",                     L, 200, 200, 200, 403, 200, 200, 200),
    # the audit log: managers and the admin read it; nobody writes it
    ("audit-list", GET, "",                               L, 403, 200, 200, 403, 200, 200, 200),
    # CSV imports: managers and the admin
    ("import-list", GET, "",                              L, 403, 200, 200, 403, 200, 200, 200),
    ("import-list", POST, "",                             L, 403, 302, 302, 403, 302, 302, 302),
    ("import-detail", GET, "import",                      L, 403, 200, 200, 403, 200, 200, 200),
    ("import-check", POST, "import",                      L, 403, 302, 302, 403, 302, 302, 302),
    ("import-run", POST, "import",                        L, 403, 302, 302, 403, 302, 302, 302),
    ("import-resume", POST, "import",                     L, 403, 400, 400, 403, 400, 400, 400),
    ("import-rejected", GET, "import",                    L, 403, 200, 200, 403, 200, 200, 200),
    # the agreements: everyone reads, managers draft, each head approves for their team
    ("agreements", GET, "",                               L, 200, 200, 200, 200, 200, 200, 200),
    ("sla-list", GET, "",                                 L, 200, 200, 200, 200, 200, 200, 200),
    ("sla-create", GET, "",                               L, 403, 200, 200, 403, 200, 200, 200),
    ("sla-create", POST, "",                              L, 403, 302, 302, 403, 302, 302, 302),
    ("sla-detail", GET, "sla_v",                          L, 200, 200, 200, 200, 200, 200, 200),
    ("sla-edit", GET, "sla_v",                            L, 403, 200, 200, 403, 200, 200, 200),
    ("sla-edit", POST, "sla_v",                           L, 403, 302, 302, 403, 302, 302, 302),
    ("sla-approve", POST, "sla_v",                        L, 403, 403, 302, 403, 403, 302, 403),
    ("lead-definition-list", GET, "",                     L, 200, 200, 200, 200, 200, 200, 200),
    ("lead-definition-create", GET, "",                   L, 403, 200, 200, 403, 200, 200, 200),
    ("lead-definition-create", POST, "",                  L, 403, 302, 302, 403, 302, 302, 302),
    ("scoring-rule-check", POST, "",                      L, 403, 200, 200, 403, 200, 200, 200),
    ("lead-definition-detail", GET, "definition_v",       L, 200, 200, 200, 200, 200, 200, 200),
    ("lead-definition-edit", GET, "definition_v",         L, 403, 200, 200, 403, 200, 200, 200),
    ("lead-definition-edit", POST, "definition_v",        L, 403, 302, 302, 403, 302, 302, 302),
    ("lead-definition-approve", POST, "definition_v",     L, 403, 403, 302, 403, 403, 302, 403),
    # meetings: mia made `meeting`, she and rita attend (not sam); rita owns its item
    ("meeting-list", GET, "",                             L, 200, 200, 200, 200, 200, 200, 200),
    ("meeting-new", GET, "",                              L, 200, 200, 200, 200, 200, 200, 200),
    ("meeting-new", POST, "",                             L, 302, 302, 302, 302, 302, 302, 302),
    ("meeting-detail", GET, "meeting",                    L, 200, 200, 200, 200, 200, 200, 200),
    ("meeting-edit", GET, "meeting",                      L, 200, 200, 200, 403, 200, 200, 200),
    ("meeting-edit", POST, "meeting",                     L, 302, 302, 302, 403, 302, 302, 302),
    ("meeting-delete", GET, "meeting",                    L, 200, 200, 200, 403, 200, 200, 200),
    ("meeting-delete", POST, "meeting",                   L, 302, 302, 302, 403, 302, 302, 302),
    ("action-item-add", POST, "meeting",                  L, 302, 302, 302, 403, 302, 302, 302),
    ("action-item-done", POST, "action_item",             L, 302, 302, 302, 403, 302, 302, 302),
    ("action-item-edit", GET, "action_item",              L, 200, 200, 200, 403, 200, 200, 200),
    ("action-item-edit", POST, "action_item",             L, 302, 302, 302, 403, 302, 302, 302),
    ("action-item-delete", POST, "action_item",           L, 302, 302, 302, 403, 302, 302, 302),
    # ideas: mia's draft is hers alone; mo's ideas are open (everyone voted for idea_voted)
    ("idea-list", GET, "",                                L, 200, 200, 200, 200, 200, 200, 200),
    ("idea-new", GET, "",                                 L, 200, 200, 200, 200, 200, 200, 200),
    ("idea-new", POST, "",                                L, 302, 302, 302, 302, 302, 302, 302),
    ("idea-detail", GET, "idea_draft",                    L, 200, 403, 403, 403, 403, 403, 403),
    ("idea-detail", GET, "idea_open",                     L, 200, 200, 200, 200, 200, 200, 200),
    ("idea-edit", GET, "idea_draft",                      L, 200, 403, 403, 403, 403, 403, 403),
    ("idea-edit", POST, "idea_draft",                     L, 302, 403, 403, 403, 403, 403, 403),
    ("idea-open", POST, "idea_draft",                     L, 302, 403, 403, 403, 403, 403, 403),
    ("idea-comment", POST, "idea_open",                   L, 302, 302, 302, 302, 302, 302, 302),
    ("idea-vote", POST, "idea_open",                      L, 302, 302, 302, 302, 302, 302, 302),
    ("idea-vote", POST, "idea_voted",                     L, 302, 302, 302, 302, 302, 302, 302),
    ("idea-adopt", POST, "idea_open",                     L, 403, 302, 302, 403, 302, 302, 302),
    ("idea-park", POST, "idea_open",                      L, 403, 302, 302, 403, 302, 302, 302),
    ("idea-delete", POST, "idea_draft",                   L, 302, 403, 403, 403, 403, 403, 403),
    ("idea-delete", POST, "idea_open",                    L, 403, 302, 302, 403, 302, 302, 302),
    # insights: rita's, sam's; mo answered insight_answered. Sales posts, marketing answers
    ("insight-list", GET, "",                             L, 200, 200, 200, 200, 200, 200, 200),
    ("insight-new", GET, "",                              L, 403, 403, 403, 200, 200, 200, 200),
    ("insight-new", POST, "",                             L, 403, 403, 403, 302, 302, 302, 302),
    ("insight-detail", GET, "insight",                    L, 200, 200, 200, 200, 200, 200, 200),
    ("insight-edit", GET, "insight",                      L, 403, 403, 403, 403, 403, 403, 403),
    ("insight-edit", POST, "insight",                     L, 403, 403, 403, 403, 403, 403, 403),
    ("insight-edit", GET, "insight_sam",                  L, 403, 403, 403, 200, 403, 403, 403),
    ("insight-edit", POST, "insight_sam",                 L, 403, 403, 403, 302, 403, 403, 403),
    ("insight-answer", POST, "insight",                   L, 302, 302, 302, 403, 403, 403, 302),
    ("insight-answer", POST, "insight_answered",          L, 403, 302, 302, 403, 403, 403, 302),
    ("insight-unanswer", POST, "insight_answered",        L, 403, 302, 302, 403, 403, 403, 302),
    ("insight-delete", POST, "insight",                   L, 403, 302, 302, 403, 302, 302, 302),
    ("insight-delete", POST, "insight_sam",               L, 403, 302, 302, 302, 302, 302, 302),
    # spotlights: mo's; mia's with sam, which everyone thanked
    ("spotlight-list", GET, "",                           L, 200, 200, 200, 200, 200, 200, 200),
    ("spotlight-new", GET, "",                            L, 200, 200, 200, 200, 200, 200, 200),
    ("spotlight-new", POST, "",                           L, 302, 302, 302, 302, 302, 302, 302),
    ("spotlight-detail", GET, "spotlight",                L, 200, 200, 200, 200, 200, 200, 200),
    ("spotlight-edit", GET, "spotlight",                  L, 403, 200, 200, 403, 200, 200, 200),
    ("spotlight-edit", POST, "spotlight",                 L, 403, 302, 302, 403, 302, 302, 302),
    ("spotlight-delete", POST, "spotlight",               L, 403, 302, 302, 403, 302, 302, 302),
    ("spotlight-edit", POST, "spotlight_mia",             L, 302, 302, 302, 403, 302, 302, 302),
    ("spotlight-delete", POST, "spotlight_mia",           L, 302, 302, 302, 403, 302, 302, 302),
    ("spotlight-thanks", POST, "spotlight",               L, 302, 302, 302, 302, 302, 302, 302),
    ("spotlight-thanks", POST, "spotlight_mia",           L, 302, 302, 302, 302, 302, 302, 302),
    # shadowing: mo shadows rita; mia shadows sam; shadowing_done is logged
    ("shadowing-list", GET, "",                           L, 200, 200, 200, 200, 200, 200, 200),
    ("shadowing-new", GET, "",                            L, 200, 200, 200, 200, 200, 200, 200),
    ("shadowing-new", POST, "",                           L, 403, 302, 302, 403, 302, 302, 302),
    ("shadowing-detail", GET, "shadowing",                L, 200, 200, 200, 200, 200, 200, 200),
    ("shadowing-edit", GET, "shadowing",                  L, 403, 200, 200, 403, 200, 200, 200),
    ("shadowing-edit", POST, "shadowing",                 L, 403, 302, 302, 403, 302, 302, 302),
    ("shadowing-log", POST, "shadowing",                  L, 403, 302, 302, 403, 302, 302, 302),
    ("shadowing-cancel", POST, "shadowing",               L, 403, 302, 302, 403, 302, 302, 302),
    ("shadowing-debrief", POST, "shadowing_done",         L, 403, 302, 302, 403, 302, 302, 302),
    ("shadowing-delete", POST, "shadowing",               L, 403, 302, 302, 403, 302, 302, 302),
    ("shadowing-edit", POST, "shadowing_mia",             L, 302, 302, 302, 302, 302, 302, 302),
    ("shadowing-log", POST, "shadowing_mia",              L, 302, 302, 302, 403, 302, 302, 302),
    ("shadowing-cancel", POST, "shadowing_mia",           L, 302, 302, 302, 302, 302, 302, 302),
    ("shadowing-delete", POST, "shadowing_mia",           L, 302, 302, 302, 403, 302, 302, 302),
    # the account, login, logout, the Django admin
    ("profile", GET, "",                                  L, 200, 200, 200, 200, 200, 200, 200),
    ("profile", POST, "",                                 L, 302, 302, 302, 302, 302, 302, 302),
    ("login", GET, "",                                  200, 302, 302, 302, 302, 302, 302, 302),
    ("login", POST, "",                                 302, 302, 302, 302, 302, 302, 302, 302),
    ("login", PUT, "",                                  200, 302, 302, 302, 302, 302, 302, 302),
    ("logout", POST, "",                                  L, 302, 302, 302, 302, 302, 302, 302),
    ("admin:index", GET, "",                            302, 302, 302, 302, 302, 302, 302, 200),
    # --- the API, with each user's token ---------------------------------------------
    # ingest: managers and the admin (the roles integrations' API users hold). The stage event
    # is a `sal` of sam's handoff: marketing may send one (only `rejected` needs sales' rights)
    ("api-campaigns", POST, "",                         401, 403, 200, 200, 403, 200, 200, 200),
    ("api-leads", POST, "",                             401, 403, 200, 200, 403, 200, 200, 200),
    ("api-touches", POST, "",                           401, 403, 200, 200, 403, 200, 200, 200),
    ("api-stage-events", POST, "",                      401, 403, 200, 200, 403, 200, 200, 200),
    ("api-attempts", POST, "",                          401, 403, 200, 200, 403, 200, 200, 200),
    ("api-deals", POST, "",                             401, 403, 200, 200, 403, 200, 200, 200),
    # handoffs and disputes
    ("api-handoffs", GET, "",                           401, 200, 200, 200, 200, 200, 200, 200),
    ("api-handoff-accept", POST, "handoff_sam",         401, 403, 403, 403, 200, 200, 200, 200),
    ("api-handoff-accept", POST, "handoff_rita",        401, 403, 403, 403, 403, 200, 200, 200),
    ("api-handoff-reject", POST, "handoff_sam",         401, 403, 403, 403, 200, 200, 200, 200),
    ("api-handoff-reject", POST, "handoff_rita",        401, 403, 403, 403, 403, 200, 200, 200),
    ("api-handoff-reassign", POST, "handoff_sam",       401, 403, 403, 403, 403, 200, 200, 200),
    ("api-lead-definition-rescore", POST, "in_effect",  401, 403, 202, 202, 403, 202, 202, 202),
    ("api-handoff-dispute", POST, "handoff_rejected",   401, 201, 201, 201, 403, 403, 403, 403),
    ("api-disputes", GET, "",                           401, 200, 200, 200, 200, 200, 200, 200),
    ("api-dispute", GET, "dispute",                     401, 200, 200, 200, 200, 200, 200, 200),
    ("api-dispute-resolve", POST, "dispute",            401, 403, 403, 200, 403, 403, 200, 403),
    ("api-dispute-confirm", POST, "dispute_awaiting",   401, 403, 403, 400, 403, 403, 200, 403),
    # breaches, jobs, KPIs, goals, scorecard, forecasts
    ("api-sla-breaches", GET, "",                       401, 200, 200, 200, 200, 200, 200, 200),
    ("api-rescore-job", GET, "rescore_job",             401, 200, 200, 200, 200, 200, 200, 200),
    ("api-kpis", GET, "",                               401, 200, 200, 200, 200, 200, 200, 200),
    ("api-recompute", POST, "",                         401, 403, 202, 202, 403, 202, 202, 202),
    ("api-recompute-status", GET, "recompute_job",      401, 200, 200, 200, 200, 200, 200, 200),
    ("api-recompute-retry", POST, "recompute_job",      401, 403, 202, 202, 403, 202, 202, 202),
    ("api-goals", GET, "",                              401, 200, 200, 200, 200, 200, 200, 200),
    ("api-goals", POST, "",                             401, 403, 201, 201, 403, 201, 201, 201),
    ("api-goal", GET, "goal",                           401, 200, 200, 200, 200, 200, 200, 200),
    ("api-goal", PATCH, "goal",                         401, 403, 200, 200, 403, 200, 200, 200),
    ("api-goal", DELETE, "goal",                        401, 403, 204, 204, 403, 204, 204, 204),
    ("api-scorecard", GET, "",                          401, 200, 200, 200, 200, 200, 200, 200),
    ("api-forecasts", GET, "",                          401, 200, 200, 200, 200, 200, 200, 200),
    ("api-forecasts", POST, "",                         401, 403, 201, 201, 403, 201, 201, 201),
    # the agreements, the heads, the round robin, payout curves
    ("api-team-heads", GET, "",                         401, 200, 200, 200, 200, 200, 200, 200),
    ("api-team-heads", POST, "",                        401, 403, 403, 403, 403, 403, 403, 200),
    ("api-slas", GET, "",                               401, 200, 200, 200, 200, 200, 200, 200),
    ("api-slas", POST, "",                              401, 403, 201, 201, 403, 201, 201, 201),
    ("api-sla", GET, "sla",                             401, 200, 200, 200, 200, 200, 200, 200),
    ("api-sla", PATCH, "sla",                           401, 403, 200, 200, 403, 200, 200, 200),
    ("api-sla-approve", POST, "sla",                    401, 403, 403, 200, 403, 403, 200, 403),
    ("api-lead-definitions", GET, "",                   401, 200, 200, 200, 200, 200, 200, 200),
    ("api-lead-definitions", POST, "",                  401, 403, 201, 201, 403, 201, 201, 201),
    ("api-lead-definition", GET, "definition",          401, 200, 200, 200, 200, 200, 200, 200),
    ("api-lead-definition", PATCH, "definition",        401, 403, 200, 200, 403, 200, 200, 200),
    ("api-lead-definition-approve", POST, "definition", 401, 403, 403, 200, 403, 403, 200, 403),
    ("api-round-robin", GET, "",                        401, 200, 200, 200, 200, 200, 200, 200),
    ("api-round-robin", PUT, "",                        401, 403, 200, 200, 403, 200, 200, 200),
    ("api-payout-curves", GET, "",                      401, 200, 200, 200, 200, 200, 200, 200),
    ("api-payout-curves", POST, "",                     401, 403, 201, 201, 403, 201, 201, 201),
    # working together
    ("api-ideas", GET, "",                              401, 200, 200, 200, 200, 200, 200, 200),
    ("api-ideas", POST, "",                             401, 201, 201, 201, 201, 201, 201, 201),
    ("api-idea", GET, "idea_draft",                     401, 200, 403, 403, 403, 403, 403, 403),
    ("api-idea", GET, "idea_open",                      401, 200, 200, 200, 200, 200, 200, 200),
    ("api-idea", PATCH, "idea_draft",                   401, 200, 403, 403, 403, 403, 403, 403),
    ("api-idea", DELETE, "idea_draft",                  401, 204, 403, 403, 403, 403, 403, 403),
    ("api-idea", DELETE, "idea_open",                   401, 403, 204, 204, 403, 204, 204, 204),
    ("api-idea-open", POST, "idea_draft",               401, 200, 403, 403, 403, 403, 403, 403),
    ("api-idea-adopt", POST, "idea_open",               401, 403, 200, 200, 403, 200, 200, 200),
    ("api-idea-park", POST, "idea_open",                401, 403, 200, 200, 403, 200, 200, 200),
    ("api-idea-comments", POST, "idea_open",            401, 201, 201, 201, 201, 201, 201, 201),
    ("api-idea-vote", POST, "idea_open",                401, 200, 200, 200, 200, 200, 200, 200),
    ("api-idea-vote", DELETE, "idea_voted",             401, 200, 200, 200, 200, 200, 200, 200),
    ("api-insights", GET, "",                           401, 200, 200, 200, 200, 200, 200, 200),
    ("api-insights", POST, "",                          401, 403, 403, 403, 201, 201, 201, 201),
    ("api-insight", GET, "insight",                     401, 200, 200, 200, 200, 200, 200, 200),
    ("api-insight", PATCH, "insight",                   401, 403, 403, 403, 403, 403, 403, 403),
    ("api-insight", PATCH, "insight_sam",               401, 403, 403, 403, 200, 403, 403, 403),
    ("api-insight", DELETE, "insight",                  401, 403, 204, 204, 403, 204, 204, 204),
    ("api-insight-answer", POST, "insight",             401, 200, 200, 200, 403, 403, 403, 200),
    ("api-insight-answer", POST, "insight_answered",    401, 403, 200, 200, 403, 403, 403, 200),
    ("api-insight-answer", DELETE, "insight_answered",  401, 403, 200, 200, 403, 403, 403, 200),
    ("api-meetings", GET, "",                           401, 200, 200, 200, 200, 200, 200, 200),
    ("api-meetings", POST, "",                          401, 201, 201, 201, 201, 201, 201, 201),
    ("api-meeting", GET, "meeting",                     401, 200, 200, 200, 200, 200, 200, 200),
    ("api-meeting", PATCH, "meeting",                   401, 200, 200, 200, 403, 200, 200, 200),
    ("api-meeting", DELETE, "meeting",                  401, 204, 204, 204, 403, 204, 204, 204),
    ("api-meeting-action-items", GET, "meeting",        401, 200, 200, 200, 200, 200, 200, 200),
    ("api-meeting-action-items", POST, "meeting",       401, 201, 201, 201, 403, 201, 201, 201),
    ("api-action-items", GET, "",                       401, 200, 200, 200, 200, 200, 200, 200),
    ("api-action-item", GET, "action_item",             401, 200, 200, 200, 200, 200, 200, 200),
    ("api-action-item", PATCH, "action_item",           401, 200, 200, 200, 403, 200, 200, 200),
    ("api-action-item", DELETE, "action_item",          401, 204, 204, 204, 403, 204, 204, 204),
    ("api-spotlights", GET, "",                         401, 200, 200, 200, 200, 200, 200, 200),
    ("api-spotlights", POST, "",                        401, 201, 201, 201, 201, 201, 201, 201),
    ("api-spotlight", GET, "spotlight",                 401, 200, 200, 200, 200, 200, 200, 200),
    ("api-spotlight", PATCH, "spotlight",               401, 403, 200, 200, 403, 200, 200, 200),
    ("api-spotlight", PATCH, "spotlight_mia",           401, 200, 200, 200, 403, 200, 200, 200),
    ("api-spotlight", DELETE, "spotlight",              401, 403, 204, 204, 403, 204, 204, 204),
    ("api-spotlight-thanks", POST, "spotlight",         401, 200, 200, 200, 200, 200, 200, 200),
    ("api-spotlight-thanks", DELETE, "spotlight_mia",   401, 200, 200, 200, 200, 200, 200, 200),
    ("api-shadowing", GET, "",                          401, 200, 200, 200, 200, 200, 200, 200),
    ("api-shadowing", POST, "",                         401, 403, 201, 201, 403, 201, 201, 201),
    ("api-shadowing-session", GET, "shadowing",         401, 200, 200, 200, 200, 200, 200, 200),
    ("api-shadowing-session", PATCH, "shadowing",       401, 403, 200, 200, 403, 200, 200, 200),
    ("api-shadowing-session", PATCH, "shadowing_mia",   401, 200, 200, 200, 200, 200, 200, 200),
    ("api-shadowing-session", DELETE, "shadowing",      401, 403, 204, 204, 403, 204, 204, 204),
    ("api-shadowing-log", POST, "shadowing",            401, 403, 200, 200, 403, 200, 200, 200),
    ("api-shadowing-debrief", POST, "shadowing_done",   401, 403, 201, 201, 403, 201, 201, 201),
    ("api-campaign-ratings", GET, "fair",               401, 200, 200, 200, 200, 200, 200, 200),
    ("api-campaign-ratings", POST, "fair",              401, 403, 403, 403, 200, 201, 201, 403),
    ("api-campaign-rating", GET, "fair,rating_sam",     401, 200, 200, 200, 200, 200, 200, 200),
    ("api-campaign-rating", PATCH, "fair,rating_sam",   401, 403, 403, 403, 200, 403, 403, 403),
    ("api-campaign-rating", PATCH, "fair,rating_rita",  401, 403, 403, 403, 403, 403, 403, 403),
    ("api-campaign-rating", DELETE, "fair,rating_sam",  401, 403, 204, 204, 204, 204, 204, 204),
    ("api-campaign-rating", DELETE, "fair,rating_rita", 401, 403, 204, 204, 403, 204, 204, 204),
    # the schema's docs (the schema has the same rule: see the top)
    ("api-docs", GET, "",                               401, 200, 200, 200, 200, 200, 200, 200),
)
# fmt: on


# --- what each write sends --------------------------------------------------------------------


def _at(days: float, hour: int = 10) -> str:
    """A local moment `days` from now, as the pages' datetime inputs send it."""
    moment = timezone.localtime() + timedelta(days=days)
    return moment.replace(hour=hour, minute=0).strftime("%Y-%m-%dT%H:%M")


def _pk(w: MatrixWorld, column: str) -> int:
    return w.users[column].pk


def _name(w: MatrixWorld, column: str) -> str:
    return w.users[column].get_username()


def _next_month(kind: str = "month") -> str:
    today = timezone.localdate()
    start = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    if kind == "quarter":
        month = ((start.month - 1) // 3 + 1) * 3 + 1
        start = start.replace(year=start.year + (month > 12), month=(month - 1) % 12 + 1)
    return start.isoformat()


SLA_FORM = {
    "effective_from": _at(2), "first_contact_hours": "6", "attempts": "3",
    "attempt_spacing_days": "2", "monthly_sal_commitment": "25",
}  # fmt: skip
DEFINITION_FORM = {
    "effective_from": _at(2), "criteria": "Fits us.", "mql_threshold": "30",
    "rules-TOTAL_FORMS": "1", "rules-INITIAL_FORMS": "0",
    "rules-0-field": "employees", "rules-0-operator": "gte", "rules-0-value": "10",
    "rules-0-points": "40",
}  # fmt: skip


def _goal_form(w: MatrixWorld) -> dict:
    return {
        "name": "More SALs",
        "owner_team": "both",
        "metric": "sals",
        "target": "12",
        "period": f"month:{_next_month()}",
        "weight": "1",
        "specific": "Twelve SALs.",
    }


def _meeting_form(w: MatrixWorld) -> dict:
    return {
        "kind": "weekly_alignment",
        "title": "Weekly",
        "starts_at": _at(1),
        "ends_at": _at(1, 11),
        "attendees": [_pk(w, "mrep"), _pk(w, "srep2")],
        "agenda": "Numbers.",
    }


def _item_form(w: MatrixWorld) -> dict:
    return {"text": "Send the deck", "owner": _pk(w, "srep2"), "due_on": _next_month()}


def _spotlight_form(w: MatrixWorld) -> dict:
    return {
        "title": "A joint win",
        "deal": "D-won",
        "people": [_name(w, "mrep2"), _name(w, "srep2")],
        "story": "Marketing found them, sales closed.",
    }


def _shadowing_form(w: MatrixWorld) -> dict:
    return {
        "person": _name(w, "mrep2"),
        "host": _name(w, "srep2"),
        "starts_at": _at(2),
        "ends_at": _at(2, 12),
        "focus": "Discovery calls",
    }


CSV = (IMPORTS / "hubspot-contacts.csv").read_bytes()


#: The query of a GET that needs one to be a valid read.
QUERIES = {"api-kpis": "metric=mqls&period=month&start=2026-01-01&end=2026-03-31"}


def _import_mapping(w: MatrixWorld) -> dict:
    return {f"map_{field}": column for field, column in w.ids["import_mapping"].items()}


BODIES: dict[tuple[str, ...], Callable[[MatrixWorld], Any]] = {
    # pages: form posts
    ("login", POST): lambda w: {"username": "mia", "password": "pw"},
    ("profile", POST): lambda w: {},
    ("recompute", POST): lambda w: {"next_query": ""},
    ("campaign-rate", POST): lambda w: {"rating": "4", "comment": "Good leads."},
    ("campaign-postmortem-start", POST): lambda w: {"model": "linear"},
    ("goal-new", POST): _goal_form,
    ("goal-edit", POST): _goal_form,
    ("goal-check-in", POST): lambda w: {"status": "on_track", "note": "Fine."},
    ("scorecard", POST): lambda w: {
        "effective_from": _next_month(),
        "threshold": "0.5",
        "threshold_payout": "0.5",
        "target": "1",
        "cap": "1.5",
        "cap_payout": "2",
    },
    ("forecast-list", POST): lambda w: {
        "period": "quarter",
        "period_start": _next_month("quarter"),
        "amount": "100000",
    },
    ("handoff-reject", POST): lambda w: {
        "reason": "bad_fit",
        "feedback": "Too small.",
        "rating": "2",
    },
    ("handoff-attempt", POST): lambda w: {"channel": "call", "outcome": "no_answer"},
    ("handoff-reassign", POST): lambda w: {"owner": _name(w, "srep2"), "note": "Yours."},
    ("dispute-resolve", POST): lambda w: {"outcome": "upheld", "note": ""},
    ("handoff-dispute", POST): lambda w: {"comment": "They have budget."},
    ("import-list", POST): lambda w: {
        "kind": "leads",
        "file": SimpleUploadedFile("more.csv", CSV, content_type="text/csv"),
    },
    ("import-check", POST): _import_mapping,
    ("sla-create", POST): lambda w: SLA_FORM,
    ("sla-edit", POST): lambda w: SLA_FORM,
    ("lead-definition-create", POST): lambda w: DEFINITION_FORM,
    ("lead-definition-edit", POST): lambda w: DEFINITION_FORM,
    ("scoring-rule-check", POST): lambda w: {
        "prefix": "rules-0",
        "rules-0-field": "employees",
        "rules-0-operator": "gte",
        "rules-0-value": "10",
        "rules-0-points": "40",
    },
    ("meeting-new", POST): _meeting_form,
    ("meeting-edit", POST): _meeting_form,
    ("action-item-add", POST): _item_form,
    ("action-item-done", POST): lambda w: {"done": "1"},
    ("action-item-edit", POST): _item_form,
    ("idea-new", POST): lambda w: {"title": "An idea", "body": "Half done."},
    ("idea-edit", POST): lambda w: {"title": "A better draft", "body": "More."},
    ("idea-comment", POST): lambda w: {"body": "Have you tried…"},
    ("idea-vote", POST): lambda w: {"action": "vote"},
    ("idea-vote", POST, "idea_voted"): lambda w: {"action": "unvote"},
    ("idea-adopt", POST): lambda w: {"campaign": w.ids["campaign_pk"]},
    ("idea-park", POST): lambda w: {"reason": "Not now."},
    ("insight-new", POST): lambda w: {"kind": "objection", "text": "Too slow.", "tags": "speed"},
    ("insight-edit", POST): lambda w: {"kind": "objection", "text": "Far too expensive."},
    ("insight-answer", POST): lambda w: {"answer": "used", "text": "In the FAQ."},
    ("spotlight-new", POST): _spotlight_form,
    ("spotlight-edit", POST): _spotlight_form,
    ("spotlight-thanks", POST): lambda w: {"do": "thank"},
    ("spotlight-thanks", POST, "spotlight_mia"): lambda w: {"do": "unthank"},
    ("shadowing-new", POST): _shadowing_form,
    ("shadowing-edit", POST): _shadowing_form,
    ("shadowing-edit", POST, "shadowing_mia"): lambda w: {
        **_shadowing_form(w),
        "person": _name(w, "mrep"),
        "host": _name(w, "srep"),
    },
    ("shadowing-log", POST): lambda w: {"learned": "Discovery matters."},
    ("shadowing-debrief", POST): lambda w: {"starts_at": _at(3)},
    # the API: JSON
    ("api-campaigns", POST): lambda w: {
        "external_id": "C-new",
        "name": "New",
        "channel": "webinar",
        "starts_on": "2026-01-01",
        "ends_on": "2026-01-31",
        "cost": "100",
    },
    ("api-leads", POST): lambda w: {"external_id": "L-new", "created_at": "2026-01-02T09:00"},
    ("api-touches", POST): lambda w: {
        "external_id": "T-new",
        "lead": "L-sam",
        "campaign": "fair",
        "occurred_at": "2026-01-02T09:00",
        "kind": "visit",
    },
    ("api-stage-events", POST): lambda w: {
        "external_id": "SE-new",
        "lead": "L-sam",
        "stage": "sal",
        "occurred_at": _at(0, 9),
    },
    ("api-attempts", POST): lambda w: {
        "external_id": "A-new",
        "lead": "L-sam",
        "occurred_at": _at(0, 9),
        "channel": "email",
        "outcome": "replied",
        "actor": "sam",
    },
    ("api-deals", POST): lambda w: {
        "external_id": "D-new",
        "lead": "L-sam",
        "amount": "900",
        "created_at": _at(0, 9),
    },
    ("api-handoff-reject", POST): lambda w: {"reason": "bad_fit", "feedback": "Too small."},
    ("api-handoff-reassign", POST): lambda w: {"owner": _name(w, "srep2")},
    ("api-handoff-dispute", POST): lambda w: {"comment": "They have budget."},
    ("api-dispute-resolve", POST): lambda w: {"outcome": "upheld"},
    ("api-recompute", POST): lambda w: {},
    ("api-goals", POST): lambda w: {
        "name": "More SALs",
        "metric": "sals",
        "target": "12",
        "period": "month",
        "period_start": _next_month(),
    },
    ("api-goal", PATCH): lambda w: {"target": "11"},
    ("api-forecasts", POST): lambda w: {
        "period": "quarter",
        "period_start": _next_month("quarter"),
        "amount": "100000",
    },
    ("api-team-heads", POST): lambda w: {"team": "marketing", "username": _name(w, "mmgr")},
    ("api-slas", POST): lambda w: {
        "effective_from": _at(2),
        "first_contact_hours": "6",
        "attempts": 3,
        "attempt_spacing_days": "2",
        "monthly_sal_commitment": 25,
    },
    ("api-sla", PATCH): lambda w: {"monthly_sal_commitment": 30},
    ("api-lead-definitions", POST): lambda w: {
        "effective_from": _at(2),
        "criteria": "Fits us.",
        "mql_threshold": 30,
        "rules": [{"field": "employees", "operator": "gte", "value": 10, "points": 40}],
    },
    ("api-lead-definition", PATCH): lambda w: {"mql_threshold": 35},
    ("api-round-robin", PUT): lambda w: {"usernames": [_name(w, "srep"), _name(w, "srep2")]},
    ("api-payout-curves", POST): lambda w: {
        "effective_from": _next_month(),
        "threshold": "0.5",
        "threshold_payout": "0.5",
        "target": "1",
        "cap": "1.5",
        "cap_payout": "2",
    },
    ("api-ideas", POST): lambda w: {"title": "An idea", "body": "Half done."},
    ("api-idea", PATCH): lambda w: {"title": "A better draft"},
    ("api-idea-adopt", POST): lambda w: {"campaign": "fair"},
    ("api-idea-park", POST): lambda w: {"reason": "Not now."},
    ("api-idea-comments", POST): lambda w: {"body": "Have you tried…"},
    ("api-insights", POST): lambda w: {"kind": "objection", "text": "Too slow."},
    ("api-insight", PATCH): lambda w: {"text": "Far too expensive."},
    ("api-insight-answer", POST): lambda w: {"answer": "used", "text": "In the FAQ."},
    ("api-meetings", POST): lambda w: {
        "kind": "weekly_alignment",
        "starts_at": _at(1),
        "ends_at": _at(1, 11),
        "attendees": [_name(w, "mrep"), _name(w, "srep2")],
    },
    ("api-meeting", PATCH): lambda w: {"agenda": "Numbers."},
    ("api-meeting-action-items", POST): lambda w: {
        "text": "Send the deck",
        "owner": _name(w, "srep2"),
        "due_on": _next_month(),
    },
    ("api-action-item", PATCH): lambda w: {"done": True},
    ("api-spotlights", POST): lambda w: {
        "title": "A joint win",
        "deal": "D-won",
        "story": "Together.",
        "people": [_name(w, "mrep2"), _name(w, "srep2")],
    },
    ("api-spotlight", PATCH): lambda w: {"title": "A bigger win"},
    ("api-shadowing", POST): lambda w: {
        "person": _name(w, "mrep2"),
        "host": _name(w, "srep2"),
        "starts_at": _at(2),
        "ends_at": _at(2, 12),
    },
    ("api-shadowing-session", PATCH): lambda w: {"starts_at": _at(3), "ends_at": _at(3, 12)},
    ("api-shadowing-log", POST): lambda w: {"learned": "Discovery matters."},
    ("api-shadowing-debrief", POST): lambda w: {"starts_at": _at(3)},
    ("api-campaign-ratings", POST): lambda w: {"rating": 4, "comment": "Good leads."},
    ("api-campaign-rating", PATCH): lambda w: {"rating": 5},
}


# --- asking -----------------------------------------------------------------------------------


def rows_written() -> int:
    """How many rows this connection has inserted, updated or deleted so far (in this
    transaction on PostgreSQL): a refusal must leave it as it was."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT total_changes()")
        else:
            cursor.execute(
                "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) "
                "FROM pg_stat_xact_all_tables"
            )
        return int(cursor.fetchone()[0])


def url_of(row: Row, w: MatrixWorld) -> str:
    """The row's address: `args` are the path's parameters in order, each a `MatrixWorld.ids`
    key ("goal") or the value itself ("funnel"); then the query a few endpoints need."""
    args = [w.ids.get(a, a) for a in filter(None, row.args.split(","))]
    query = QUERIES.get(row.name, "")
    return reverse(row.name, args=args) + (f"?{query}" if query else "")


def is_api(row: Row) -> bool:
    return row.name.startswith("api-")


def ask(row: Row, column: str, w: MatrixWorld) -> Any:
    """Send the row's request as `column`: pages a form post, the API JSON."""
    body_of = BODIES.get((row.name, row.method, row.args)) or BODIES.get((row.name, row.method))
    body = body_of(w) if body_of else {}
    url = url_of(row, w)
    if is_api(row):
        client = w.api(column)
        if row.method == GET:
            return client.get(url)
        return client.generic(row.method, url, json.dumps(body), content_type="application/json")
    client = w.client(column)
    if row.method == GET:
        return client.get(url)
    if row.method == POST:
        return client.post(url, body)
    return client.generic(row.method, url)


#: Writes that change nothing when they succeed: a check of a scoring rule as it is typed, and
#: the login form posted by someone signed in already (sent on to the dashboard).
CHANGES_NOTHING = {("scoring-rule-check", POST), ("login", POST), ("login", PUT)}


def wrong_answer(row: Row, column: str, expected: int | str, w: MatrixWorld) -> str:
    """What is wrong with `column`'s answer to the row ("" if nothing), in a savepoint rolled
    back after: a refusal and a read write nothing, an allowed write writes something."""
    with transaction.atomic():
        before = rows_written()
        response = ask(row, column, w)
        written = rows_written() - before
        transaction.set_rollback(True)
    cache.clear()  # what a page kept of the rolled-back write
    got: int | str = response.status_code
    if column == "anon" and got == 302 and response["Location"].startswith(reverse("login")):
        got = LOGIN
    if got != expected:
        return f"{got}, the matrix says {expected}"
    refused = got == LOGIN or got >= 400
    if (row.method == GET or refused) and written:
        return f"{got} as it should, but {written} rows were written"
    if not (written or row.method == GET or refused or row[:2] in CHANGES_NOTHING):
        return f"{got} as it should, but nothing was written"
    return ""


@pytest.mark.parametrize("row", [pytest.param(row, id=row.id) for row in MATRIX])
def test_each_role_gets_the_answer_the_matrix_says(
    row: Row, matrix_world: MatrixWorld, db: None
) -> None:
    wrong = {
        column: problem
        for column, expected in zip(COLUMNS, row.cells, strict=True)
        if (problem := wrong_answer(row, column, expected, matrix_world))
    }
    assert not wrong, f"{row.id}: " + "; ".join(f"as {c}: {p}" for c, p in wrong.items())


# --- the table covers every URL -----------------------------------------------------------------


def _patterns(
    resolver: URLResolver | None = None, prefix: str = ""
) -> Iterator[tuple[str, URLPattern]]:
    """Every URL pattern with its full route, but the Django admin's own (its index is a row)."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue
            yield from _patterns(pattern, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def _methods(pattern: URLPattern) -> set[str]:
    """The methods a view takes besides HEAD and OPTIONS: a class's handlers, or the list
    `require_http_methods` (require_GET, require_POST) was given; a plain function view reads."""
    view_class = getattr(pattern.callback, "view_class", None)
    if view_class is not None:
        handlers = set(view_class.http_method_names) - {"head", "options", "trace"}
        return {m.upper() for m in handlers if hasattr(view_class, m)}
    declared = _declared_methods(pattern.callback)
    return {GET} if declared is None else declared - {"HEAD"}


def _declared_methods(view: Any) -> set[str] | None:
    """The list a function view's `require_http_methods` (require_GET, require_POST,
    require_safe) was given; None without one."""
    while view is not None:
        if view.__closure__:
            cells = dict(zip(view.__code__.co_freevars, view.__closure__, strict=True))
            if "request_method_list" in cells:
                return set(cells["request_method_list"].cell_contents)
        view = getattr(view, "__wrapped__", None)
    return None


#: URLs left out of the matrix, and why: see the top.
NOT_IN_MATRIX = {"api-schema"}


def test_every_url_and_every_method_its_view_takes_has_a_row() -> None:
    rows = {(row.name, row.method) for row in MATRIX}
    missing = [
        f"{method} {route} ({pattern.name})"
        for route, pattern in _patterns()
        if pattern.name not in NOT_IN_MATRIX
        for method in sorted(_methods(pattern))
        if (pattern.name, method) not in rows
    ]
    assert not missing, "Add these to MATRIX, with who may do what:\n" + "\n".join(missing)


def test_every_row_names_a_url_and_a_method_its_view_takes() -> None:
    taken = {(p.name, m) for _, p in _patterns() for m in _methods(p)} | {("admin:index", GET)}
    assert [row.id for row in MATRIX if (row.name, row.method) not in taken] == []
    assert len({row.id for row in MATRIX}) == len(MATRIX), "a row is there twice"


def test_every_page_view_says_which_methods_it_takes() -> None:
    """A plain function view without `require_http_methods` (or require_safe, require_POST)
    would answer a POST, a PUT or a DELETE as it answers a GET."""
    undeclared = [
        f"{route} ({pattern.name})"
        for route, pattern in _patterns()
        if getattr(pattern.callback, "view_class", None) is None
        and _declared_methods(pattern.callback) is None
    ]
    assert undeclared == []


READ_ONLY = [
    row
    for row in MATRIX
    if row.method == GET
    and not is_api(row)
    and not row.name.startswith("admin:")  # Django's own
    and 200 in row.cells
    and not any(other.name == row.name and other.method != GET for other in MATRIX)
]


@pytest.mark.parametrize("row", [pytest.param(row, id=row.id) for row in READ_ONLY])
@pytest.mark.parametrize("method", [POST, PUT, DELETE])
def test_a_page_that_only_shows_refuses_a_write_with_405_and_writes_nothing(
    row: Row, method: str, matrix_world: MatrixWorld, db: None
) -> None:
    column = COLUMNS[row.cells.index(200)]  # someone who may read it
    with transaction.atomic():
        before = rows_written()
        response = ask(row._replace(method=method), column, matrix_world)
        written = rows_written() - before
        transaction.set_rollback(True)
    assert (response.status_code, written) == (405, 0), row.id
    assert set(response["Allow"].split(", ")) <= {GET, "HEAD"}


# --- reps change only their own feedback and attempts -------------------------------------------


def _handoff_state(w: MatrixWorld, key: str) -> tuple:
    from leads.models import ContactAttempt, Handoff

    handoff = Handoff.objects.get(pk=w.ids[key])
    attempts = ContactAttempt.objects.filter(lead_id=handoff.lead_id)
    return (
        handoff.status, handoff.feedback, handoff.rating, handoff.decided_by_id,
        sorted(attempts.values_list("actor_id", flat=True)),
    )  # fmt: skip


@pytest.mark.parametrize("through", ["page", "api"])
def test_a_sales_rep_gives_feedback_and_logs_attempts_on_their_own_handoffs_only(
    through: str, matrix_world: MatrixWorld, db: None
) -> None:
    w = matrix_world
    sam, rita = w.users["srep"], w.users["srep2"]
    feedback = {"reason": "bad_fit", "feedback": "Ten people, no budget.", "rating": "2"}
    attempt = {"channel": "email", "outcome": "replied"}

    def act(key: str) -> list[int]:
        pk = w.ids[key]
        if through == "page":
            client = w.client("srep")
            return [
                client.post(reverse("handoff-attempt", args=[pk]), attempt).status_code,
                client.post(reverse("handoff-reject", args=[pk]), feedback).status_code,
            ]
        client = w.api("srep")  # attempts come in through the ingest, which is not the reps'
        body = json.dumps(feedback)
        url = reverse("api-handoff-reject", args=[pk])
        return [client.post(url, body, content_type="application/json").status_code]

    ritas = _handoff_state(w, "handoff_rita")
    assert set(act("handoff_rita")) == {403}
    assert _handoff_state(w, "handoff_rita") == ritas  # her feedback, her attempts, untouched
    assert ritas[0] == "pending" and ritas[4] == [rita.pk]

    assert set(act("handoff_sam")) == ({302} if through == "page" else {200})
    status, text, rating, decided_by, actors = _handoff_state(w, "handoff_sam")
    assert (status, text, rating, decided_by) == ("rejected", feedback["feedback"], 2, sam.pk)
    assert actors == ([sam.pk, sam.pk] if through == "page" else [sam.pk])


def test_a_rep_changes_only_their_own_rating_of_a_campaign(
    matrix_world: MatrixWorld, db: None
) -> None:
    from alignment.models import CampaignRating

    w = matrix_world
    before = dict(CampaignRating.objects.values_list("pk", "rating"))
    api = w.api("srep")
    for key, status in [("rating_rita", 403), ("rating_sam", 200)]:
        url = reverse("api-campaign-rating", args=["fair", w.ids[key]])
        answer = api.patch(url, json.dumps({"rating": 5}), content_type="application/json")
        assert answer.status_code == status
    page = w.client("srep")
    url = reverse("campaign-rating-delete", args=["fair", w.ids["rating_rita"]])
    assert page.post(url).status_code == 403
    after = dict(CampaignRating.objects.values_list("pk", "rating"))
    assert after == {**before, w.ids["rating_sam"]: 5}


# --- tokens are per user and revocable ----------------------------------------------------------


def test_a_token_acts_as_its_user_only(matrix_world: MatrixWorld, db: None) -> None:
    from leads.models import Handoff

    w = matrix_world
    assert len(set(w.tokens.values())) == len(w.tokens)  # one each
    for mine, theirs, column in [
        ("handoff_sam", "handoff_rita", "srep"), ("handoff_rita", "handoff_sam", "srep2")
    ]:  # fmt: skip
        api = w.api(column)
        assert api.post(reverse("api-handoff-accept", args=[w.ids[theirs]])).status_code == 403
        assert api.post(reverse("api-handoff-accept", args=[w.ids[mine]])).status_code == 200
        assert Handoff.objects.get(pk=w.ids[mine]).decided_by == w.users[column]


def test_rotating_a_token_on_the_profile_page_revokes_the_old_one(
    matrix_world: MatrixWorld, db: None
) -> None:
    from rest_framework.authtoken.models import Token

    w = matrix_world
    old = w.tokens["srep"]
    page = w.client("srep")
    assert old in page.get(reverse("profile")).content.decode()
    assert page.post(reverse("profile")).status_code == 302
    new = Token.objects.get(user=w.users["srep"]).key
    assert new != old
    assert new in page.get(reverse("profile")).content.decode()
    url = reverse("api-handoffs")
    assert w.api("srep").get(url).status_code == 401  # the matrix's client sends the old one
    assert Client(HTTP_AUTHORIZATION=f"Token {new}").get(url).status_code == 200
    # everyone else's token is as it was
    others = {c: t for c, t in w.tokens.items() if c != "srep"}
    assert dict(Token.objects.exclude(user=w.users["srep"]).values_list("user_id", "key")) == {
        w.users[c].pk: t for c, t in others.items()
    }


def test_a_deactivated_users_token_and_session_stop_working(
    matrix_world: MatrixWorld, db: None
) -> None:
    w = matrix_world
    url = reverse("api-handoffs")
    assert w.api("mrep").get(url).status_code == 200
    w.users["mrep"].is_active = False
    w.users["mrep"].save(update_fields=["is_active"])
    assert w.api("mrep").get(url).status_code == 401
    response = w.client("mrep").get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))

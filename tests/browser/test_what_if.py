"""The lead-definition what-if in a browser: a head follows a run's progress (htmx polling), reads
the numbers the hand-computed fixture gives, and runs it again with the button."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone

from alignment.models import LeadDefinition
from leads import tasks
from leads.models import WhatIfRun
from leads.what_if import what_if_run, what_if_start
from tests.conftest import World
from tests.leads.what_if_fixture import SUMMARY, build_definitions, build_leads

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("restore_base_data"),
]
SHOTS = Path(os.environ.get("TANDEM_WHAT_IF_SHOTS", "/tmp/shots_whatif"))


@pytest.fixture
def draft(
    heads: tuple[object, object], signed_definition: Callable[..., LeadDefinition]
) -> LeadDefinition:
    """The hand-computed leads (one transaction: one recompute), v1 signed, the draft v2."""
    with transaction.atomic():
        build_leads(World(), timezone.now())
    return build_definitions(signed_definition, heads[0], datetime(2026, 1, 1, tzinfo=UTC))[1]


def cell(page: object, group: str, column: str) -> str:
    return page.inner_text(f"tr[data-group={group}] td[data-col={column}]")


def test_a_head_follows_a_what_if_and_reads_the_hand_computed_numbers(
    page: object,
    login: Callable,
    live_server: object,
    draft: LeadDefinition,
    heads: tuple[object, object],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    marketing_head, sales_head = heads
    with monkeypatch.context() as patch:  # no worker yet: the run waits in the queue
        patch.setattr(tasks.what_if_task, "apply_async", lambda *args, **kwargs: None)
        queued = what_if_start(definition=draft, by=marketing_head)
    login(page, sales_head.username)
    page.goto(f"{live_server.url}/leads/what-if/{queued.pk}/")
    assert page.inner_text("[data-testid=what-if-progress]") == "0 of 8 leads"
    assert page.locator("progress").count() == 1
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "what_if_progress.png")

    what_if_run(run_id=str(queued.pk))  # the worker; the page polls every 2 s and swaps it in
    page.wait_for_selector("[data-testid=what-if-summary]", timeout=8_000)
    assert page.locator("progress").count() == 0
    assert page.inner_text("[data-testid=what-if-summary]").split("\n\n") == list(SUMMARY)
    assert cell(page, "draft", "leads") == "5"
    assert cell(page, "baseline", "leads") == "4"
    assert cell(page, "new", "accepted") == "1 of 3 (33.3 %)"
    assert cell(page, "dropped", "won") == "0 of 2 (0.0 %)"
    assert cell(page, "both", "won") == "1 of 2 (50.0 %)"

    with page.expect_navigation():  # run it again: the worker runs at once (Celery eager)
        page.click("text=Run the what-if again")
    again = WhatIfRun.objects.exclude(pk=queued.pk).get()
    assert page.url.endswith(f"/leads/what-if/{again.pk}/")
    assert again.requested_by == sales_head
    assert cell(page, "draft", "accepted") == "2 of 4 (50.0 %)"
    assert cell(page, "baseline", "won") == "1 of 4 (25.0 %)"
    assert page.inner_text("[data-testid=what-if-summary]").split("\n\n")[0] == SUMMARY[0]
    page.screenshot(path=SHOTS / "what_if_result.png", full_page=True)

"""The what-if pages (leads.what_if_views): start, progress, result, the button partial, and
who may do what."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.utils import timezone

from alignment.models import LeadDefinition
from alignment.roles import Role
from alignment.services.lead_definitions import lead_definition_update
from leads.models import WhatIfRun
from leads.what_if import what_if_fail, what_if_run, what_if_start
from tests.conftest import World
from tests.leads.what_if_fixture import SUMMARY, build_definitions, build_leads

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
SIGNED = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def draft(
    world: World,
    heads: tuple[object, object],
    signed_definition: Callable[..., LeadDefinition],
) -> LeadDefinition:
    build_leads(world, timezone.now())
    return build_definitions(signed_definition, heads[0], SIGNED)[1]


def start_url(definition: LeadDefinition | int) -> str:
    return f"/leads/what-if/start/{getattr(definition, 'pk', definition)}/"


def test_a_head_runs_the_what_if_and_reads_the_hand_computed_numbers(
    client: Client,
    draft: LeadDefinition,
    heads: tuple[object, object],
    django_capture_on_commit_callbacks: Callable[..., object],
) -> None:
    client.force_login(heads[1])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(start_url(draft))
    run = WhatIfRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/leads/what-if/{run.pk}/"
    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    for line in SUMMARY:
        assert line in html
    rows = {row.key: row for row in page.context["report"].rows}
    assert (rows["new"].accepted, rows["new"].decided) == (1, 3)
    assert '1 of 3 <span class="muted">(33.3 %)</span>' in html
    assert '0 of 2 <span class="muted">(0.0 %)</span>' in html  # the dropped ones' wins
    assert 'hx-trigger="every 2s"' not in html  # done: no more polling
    assert "<progress" not in html


def test_a_run_still_going_shows_its_progress_and_polls_every_two_seconds(
    client: Client, draft: LeadDefinition, heads: tuple[object, object]
) -> None:
    run = what_if_start(definition=draft, by=heads[0])  # queued: its task runs after commit
    WhatIfRun.objects.filter(pk=run.pk).update(status="running", done=3)
    client.force_login(heads[0])
    html = client.get(f"/leads/what-if/{run.pk}/").content.decode()
    assert 'hx-trigger="every 2s"' in html
    assert '<progress max="1" value="0.375">' in html
    assert "3 of 8 leads" in html
    partial = client.get(f"/leads/what-if/{run.pk}/", **HTMX)
    assert partial.status_code == 200
    assert "<html" not in partial.content.decode()
    assert 'id="what-if-status"' in partial.content.decode()
    WhatIfRun.objects.filter(pk=run.pk).update(done=0)  # (the 3 were for show)
    what_if_run(run_id=str(run.pk))
    done = client.get(f"/leads/what-if/{run.pk}/", **HTMX).content.decode()
    assert "hx-trigger" not in done
    assert SUMMARY[0] in done
    assert 'id="what-if-actions" hx-swap-oob="true"' in done  # the button: "run again" now
    assert "Latest what-if" in done


def test_a_failed_run_says_why(
    client: Client, draft: LeadDefinition, heads: tuple[object, object]
) -> None:
    run = what_if_start(definition=draft, by=heads[0])
    what_if_fail(run_id=run.pk, error="The worker ran out of memory.")
    client.force_login(heads[0])
    html = client.get(f"/leads/what-if/{run.pk}/").content.decode()
    assert "The what-if failed" in html and "The worker ran out of memory." in html
    assert "hx-trigger" not in html


def test_a_result_of_a_draft_edited_since_says_so(
    client: Client, draft: LeadDefinition, heads: tuple[object, object]
) -> None:
    run = what_if_run(run_id=str(what_if_start(definition=draft, by=heads[0]).pk))
    client.force_login(heads[0])
    assert (
        "was edited after this run" not in client.get(f"/leads/what-if/{run.pk}/").content.decode()
    )
    lead_definition_update(definition=draft, by=heads[0], mql_threshold=45)
    assert "was edited after this run" in client.get(f"/leads/what-if/{run.pk}/").content.decode()


# --- who may do what ------------------------------------------------------------------------

ROLES = [
    Role.MARKETING_REP, Role.SALES_REP, Role.MARKETING_MANAGER, Role.SALES_MANAGER, Role.ADMIN,
]  # fmt: skip
MAY_START = {Role.MARKETING_MANAGER, Role.SALES_MANAGER, Role.ADMIN}


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value)
def test_only_managers_and_the_admin_start_a_what_if_and_everyone_reads_it(
    client: Client,
    draft: LeadDefinition,
    heads: tuple[object, object],
    make_user: Callable[..., object],
    role: Role,
) -> None:
    run = what_if_run(run_id=str(what_if_start(definition=draft, by=heads[0]).pk))
    client.force_login(make_user("someone", role))  # a manager who heads no team, or a rep
    page = client.get(f"/leads/what-if/{run.pk}/")
    assert page.status_code == 200
    assert SUMMARY[0] in page.content.decode()
    assert (f'action="{start_url(draft)}"' in page.content.decode()) == (role in MAY_START)
    response = client.post(start_url(draft))
    if role in MAY_START:
        assert response.status_code == 302
        assert WhatIfRun.objects.count() == 2
    else:
        assert response.status_code == 403
        assert WhatIfRun.objects.count() == 1


def test_both_heads_start_a_what_if(
    client: Client, draft: LeadDefinition, heads: tuple[object, object]
) -> None:
    for head in heads:
        client.force_login(head)
        assert client.post(start_url(draft)).status_code == 302
    assert WhatIfRun.objects.count() == 1  # the second click found the first run under way


def test_anonymous_visitors_are_sent_to_log_in(
    client: Client, draft: LeadDefinition, heads: tuple[object, object]
) -> None:
    run = what_if_start(definition=draft, by=heads[0])
    for response in (client.post(start_url(draft)), client.get(f"/leads/what-if/{run.pk}/")):
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert WhatIfRun.objects.count() == 1


# --- bad input ------------------------------------------------------------------------------


def test_an_unknown_definition_is_404_and_starts_nothing(
    client: Client, draft: LeadDefinition, heads: tuple[object, object]
) -> None:
    client.force_login(heads[0])
    assert client.post(start_url(draft.pk + 100)).status_code == 404
    assert not WhatIfRun.objects.exists()


def test_start_takes_only_a_post(
    client: Client, draft: LeadDefinition, heads: tuple[object, object]
) -> None:
    client.force_login(heads[0])
    assert client.get(start_url(draft)).status_code == 405
    assert not WhatIfRun.objects.exists()


def test_an_unknown_run_is_404_and_the_result_page_is_read_only(
    client: Client, draft: LeadDefinition, heads: tuple[object, object]
) -> None:
    run = what_if_start(definition=draft, by=heads[0])
    client.force_login(heads[0])
    assert client.get(f"/leads/what-if/{uuid.uuid4()}/").status_code == 404
    assert client.get("/leads/what-if/not-a-uuid/").status_code == 404
    assert client.post(f"/leads/what-if/{run.pk}/").status_code == 405


# --- the button another page includes --------------------------------------------------------


def render_button(definition: LeadDefinition, user: object) -> str:
    request = RequestFactory().get("/")
    request.user = user
    return render_to_string(
        "leads/partials/what_if_button.html", {"definition": definition}, request=request
    )


def test_the_button_partial_runs_the_what_if_and_links_to_the_latest_result(
    draft: LeadDefinition, heads: tuple[object, object], make_user: Callable[..., object]
) -> None:
    rep = make_user("rep", Role.SALES_REP)
    html = render_button(draft, heads[0])
    assert f'action="{start_url(draft)}"' in html and "Run a what-if" in html
    assert "Latest what-if" not in html
    assert "No what-if run yet." in render_button(draft, rep)
    running = what_if_start(definition=draft, by=heads[0])
    assert f'href="/leads/what-if/{running.pk}/">What-if running (0 of 8' in render_button(
        draft, rep
    )
    assert "<form" not in render_button(draft, heads[0])  # not a second one while it runs
    done = what_if_run(run_id=str(running.pk))
    html = render_button(draft, heads[1])
    assert f'href="/leads/what-if/{done.pk}/">Latest what-if' in html
    assert "Run the what-if again" in html
    rep_html = render_button(draft, rep)
    assert "Latest what-if" in rep_html and "<form" not in rep_html

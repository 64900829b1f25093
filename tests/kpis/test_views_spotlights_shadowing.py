"""Joint wins on the dashboard and the meeting view, and this month's shadowing on the meeting
view: live, per request, never kept with the snapshots' fragments."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from alignment.models import Spotlight
from alignment.services.shadowing import shadowing_log, shadowing_schedule
from alignment.services.spotlights import spotlight_create, spotlight_thank
from core.periods import local_midnight, next_period, period_start
from kpis.pages import meeting
from leads.models import Deal, Lead
from tests.conftest import World

pytestmark = pytest.mark.django_db


@pytest.fixture
def won(world: World) -> Deal:
    lead = world.lead("2026-03-01T10:00", external_id="acme")
    Lead.objects.filter(external_id=lead).update(company="Acme GmbH")
    deal = world.deal(lead, 48000, "2026-03-10T10:00", status="won", closed_at="2026-04-02T10:00")
    return Deal.objects.get(external_id=deal)


def spotlights(by: object, deal: Deal, people: list, n: int) -> list[Spotlight]:
    now = timezone.now()
    return [
        spotlight_create(
            by=by,
            title=f"Win {i}",
            story=f"Story {i}.",
            deal=deal,
            people=people,
            created_at=now - timedelta(days=n - i),
        )
        for i in range(n)
    ]


def test_the_dashboard_shows_the_latest_three_wins_with_the_viewers_thanks(
    client: Client, won: Deal, marketing_rep: object, sales_rep: object, sales_manager: object
) -> None:
    made = spotlights(marketing_rep, won, [marketing_rep, sales_rep], 4)
    spotlight_thank(spotlight=made[3], by=sales_manager)
    client.force_login(sales_manager)
    response = client.get("/")
    assert [s.title for s in response.context["spotlights"]] == ["Win 3", "Win 2", "Win 1"]
    html = response.content.decode()
    assert "Win 0" not in html
    section = html[html.index('id="spotlights-h"') :]
    assert section.index("Win 3") < section.index("Win 2")
    assert f'action="/spotlights/{made[3].pk}/thanks/"' in section
    thanked = section[section.index(f'id="thanks-{made[3].pk}"') :]
    assert 'name="do" value="unthank"' in thanked[: thanked.index("</form>")]
    assert 'class="person person-marketing"' in section and "48,000" in section
    assert "/static/vendor/htmx.min.js" in html


def test_the_dashboards_wins_follow_each_request_not_the_kept_fragments(
    client: Client, won: Deal, marketing_rep: object, sales_rep: object
) -> None:
    client.force_login(sales_rep)
    assert "No joint wins in the spotlight yet" in client.get("/").content.decode()
    (made,) = spotlights(marketing_rep, won, [marketing_rep, sales_rep], 1)  # no recompute
    html = client.get("/").content.decode()
    assert "Win 0" in html and 'name="do" value="thank"' in html
    spotlight_thank(spotlight=made, by=sales_rep)
    assert 'name="do" value="unthank"' in client.get("/").content.decode()
    client.force_login(marketing_rep)  # another viewer, the same kept fragments
    assert 'name="do" value="thank"' in client.get("/").content.decode()


def test_the_meeting_view_ends_with_joint_wins_and_this_months_shadowing_live() -> None:
    slugs = [s.slug for s in meeting.SECTIONS]
    assert slugs[-2:] == ["spotlights", "shadowing"]
    assert all(s.live for s in meeting.SECTIONS[-2:])


def test_the_joint_wins_slide_shows_the_latest_in_big_type(
    client: Client, won: Deal, marketing_rep: object, sales_rep: object
) -> None:
    made = spotlights(marketing_rep, won, [marketing_rep, sales_rep], 4)
    spotlight_thank(spotlight=made[3], by=sales_rep)
    client.force_login(sales_rep)
    response = client.get("/meeting/section/spotlights/")
    assert [s.title for s in response.context["data"]] == ["Win 3", "Win 2", "Win 1"]
    html = response.content.decode()
    assert 'class="spot-meet-amount">48' in html and "Acme GmbH" in html
    assert "1 thanks" in html
    assert 'id="spotlights-h">Joint wins' in html
    page = client.get("/meeting/").content.decode()
    assert 'data-url="/meeting/section/spotlights/"' in page and "Win 3" in page


def test_the_shadowing_slide_lists_this_months_sessions_only(
    client: Client, marketing_rep: object, sales_rep: object, sales_manager: object
) -> None:
    tz = ZoneInfo(settings.TIME_ZONE)
    month = period_start("month", timezone.localdate())
    begin = local_midnight(month, tz)
    after = local_midnight(next_period("month", month), tz)

    def at(moment: datetime, focus: str, person: object, host: object) -> object:
        return shadowing_schedule(by=sales_manager, person=person, host=host, starts_at=moment,
                                  ends_at=moment + timedelta(hours=2), focus=focus)  # fmt: skip

    first = at(begin, "First morning", marketing_rep, sales_rep)
    last = at(after - timedelta(hours=2), "Last evening", sales_rep, marketing_rep)
    at(begin - timedelta(hours=3), "Last month", marketing_rep, sales_rep)
    at(after, "Next month", marketing_rep, sales_rep)
    shadowing_log(session=first, by=marketing_rep, learned="Sales opens with *pain*.", now=after)
    client.force_login(marketing_rep)
    response = client.get("/meeting/section/shadowing/")
    data = response.context["data"]
    assert [s.pk for s in data.sessions] == [first.pk, last.pk]
    assert (data.done, data.planned) == (1, 1)
    html = response.content.decode()
    assert "First morning" in html and "Last evening" in html
    assert "Last month" not in html and "Next month" not in html
    assert "Sales opens with pain." in html
    assert f"{month:%B %Y}" in html


def test_the_new_slides_say_what_to_do_when_empty(
    client: Client, make_user: Callable[..., object]
) -> None:
    client.force_login(make_user("viewer"))
    assert (
        "No joint wins in the spotlight yet"
        in client.get("/meeting/section/spotlights/").content.decode()
    )
    assert "No shadowing this month" in client.get("/meeting/section/shadowing/").content.decode()

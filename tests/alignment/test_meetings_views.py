"""The meetings pages (alignment/views_meetings.py): who changes and deletes what (403 and
nothing changed otherwise), the forms and their 400s, Markdown rendered inert, ticking items
off and where that leads back to."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.utils import timezone

from alignment.models import ActionItem, Meeting
from alignment.roles import Role
from alignment.services.meetings import action_item_add, action_item_done, meeting_create
from tests.conftest import csv_rows

pytestmark = pytest.mark.django_db


def at(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour))


def plan(by: object, *attendees: object, **fields: object) -> Meeting:
    start = at(date(2026, 5, 12), 10)
    values = {
        "kind": "weekly_alignment",
        "starts_at": start,
        "ends_at": start + timedelta(hours=1),
        "attendees": list(attendees),
        "notes": "Original notes",
        **fields,
    }
    return meeting_create(by=by, **values)


def item(m: Meeting, owner: object, due_on: date, text: str = "Call Acme back") -> ActionItem:
    return action_item_add(meeting=m, text=text, owner=owner, due_on=due_on, by=owner)


def form_post(m: Meeting | None = None, **extra: object) -> dict[str, object]:
    data: dict[str, object] = {
        "kind": "campaign_kickoff",
        "title": "Spring webinar kick-off",
        "starts_at": "2026-05-14T10:00",
        "ends_at": "2026-05-14T11:00",
        "campaign": "",
        "agenda": "- goals\r\n- channels",
        "notes": "",
        "decisions": "",
    }
    data.update(extra)
    return data


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split()).replace(" –", "–")


class Tags(HTMLParser):
    """Every tag of a page with its attributes."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


@pytest.fixture
def logged_in(client: Client) -> Callable[[object], Client]:
    def login(user: object) -> Client:
        client.force_login(user)
        return client

    return login


# --- reading ---------------------------------------------------------------------------------


def test_every_meetings_page_needs_a_login(client: Client, sales_rep: object) -> None:
    m = plan(sales_rep, sales_rep)
    for url in ["/meetings/", "/meetings/new/", f"/meetings/{m.pk}/", f"/meetings/{m.pk}/edit/"]:
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url


def test_the_list_shows_kind_time_campaign_presence_and_open_items(
    logged_in: Callable, world: object, sales_rep: object, marketing_rep: object
) -> None:
    world.campaign("Spring webinar", external_id="C-spring")
    Campaign = Meeting._meta.get_field("campaign").related_model
    joint = plan(sales_rep, sales_rep, marketing_rep, campaign=Campaign.objects.get())
    item(joint, sales_rep, date(2026, 5, 19))
    done = item(joint, sales_rep, date(2026, 5, 19), text="Done already")
    done.done_at = timezone.now()
    done.save()
    plan(marketing_rep, marketing_rep, kind="brainstorm", title="Ideas hour")
    html = logged_in(sales_rep).get("/meetings/").content.decode()
    assert "Spring webinar" in html and "Ideas hour" in html
    assert "Tue 12 May 2026, 10:00–11:00" in text_of(html)
    assert "no sales" in html  # the brainstorm had marketing only
    row = html[html.index(f'data-meeting="{joint.pk}"') :].split("</tr>")[0]
    assert '<span class="pill">1</span>' in row  # one open item of two
    assert "owner-marketing" in row and "owner-sales" in row
    assert 'href="/meetings/new/"' in html  # the "New meeting" button


def test_the_list_filters_by_kind_and_refuses_an_unknown_one(
    logged_in: Callable, sales_rep: object
) -> None:
    plan(sales_rep, sales_rep, title="Weekly one")
    plan(sales_rep, sales_rep, kind="brainstorm", title="Ideas hour")
    client = logged_in(sales_rep)
    html = client.get("/meetings/?kind=brainstorm").content.decode()
    assert "Ideas hour" in html and "Weekly one" not in html
    assert client.get("/meetings/?kind=party").status_code == 400


def test_the_detail_groups_attendees_by_team_and_marks_overdue_items(
    logged_in: Callable, sales_rep: object, marketing_rep: object
) -> None:
    m = plan(sales_rep, sales_rep, marketing_rep)
    today = timezone.localdate()
    late = item(m, sales_rep, today - timedelta(days=1), text="Late one")
    due = item(m, marketing_rep, today, text="Due one")
    html = logged_in(sales_rep).get(f"/meetings/{m.pk}/").content.decode()
    assert 'class="attendee-group team-marketing"' in html
    assert 'class="attendee-group team-sales"' in html
    late_row = html[html.index(f'data-item="{late.pk}"') :].split("</li>")[0]
    assert "is-overdue" in html[html.index(f'data-item="{late.pk}"') - 60 :][:80]
    assert "overdue" in late_row and "Sam Rep" in late_row
    due_row = html[html.index(f'data-item="{due.pk}"') :].split("</li>")[0]
    assert "due today" in due_row


MALICIOUS = """Agenda
<script>alert('agenda')</script>
[click me](javascript:alert('link'))
<img src=x onerror="alert('img')">
![pic](javascript:alert('pic'))
<a href="javascript:alert('raw')" onclick="alert('raw')">raw</a>
"""


def test_markdown_with_scripts_javascript_links_and_event_handlers_renders_inert(
    logged_in: Callable, sales_rep: object
) -> None:
    m = plan(sales_rep, sales_rep, agenda=MALICIOUS, notes=MALICIOUS, decisions=MALICIOUS)
    html = logged_in(sales_rep).get(f"/meetings/{m.pk}/").content.decode()
    body = html[html.index('<div class="grid grid-7-5 meeting-detail">') :]
    body = body[: body.index('<section class="card" id="action-items"')]
    tags = Tags(body).tags
    assert body.count("&lt;script&gt;alert(") == 3  # each text shows it as the text it is
    assert "script" not in {t for t, _ in tags} and "img" not in {t for t, _ in tags}
    attributes = [(name, value or "") for _, attrs in tags for name, value in attrs.items()]
    assert not [name for name, _ in attributes if name.startswith("on")]
    assert not [v for _, v in attributes if "javascript" in v.lower()]
    assert "click me" in body


# --- creating --------------------------------------------------------------------------------


def test_anyone_signed_in_plans_a_meeting_read_in_the_organisations_time_zone(
    logged_in: Callable, world: object, sales_rep: object, marketing_rep: object, settings: object
) -> None:
    world.campaign("Spring webinar", external_id="C-spring")
    client = logged_in(sales_rep)
    post = form_post(attendees=[sales_rep.pk, marketing_rep.pk], campaign="C-spring")
    response = client.post("/meetings/new/", post)
    m = Meeting.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/meetings/{m.pk}/"
    assert m.kind == "campaign_kickoff" and m.campaign.external_id == "C-spring"
    assert m.starts_at == timezone.make_aware(datetime(2026, 5, 14, 10))
    assert m.agenda == "- goals\n- channels"
    assert m.created_by == sales_rep
    assert set(m.attendance.values_list("team", flat=True)) == {"sales", "marketing"}


def test_the_new_meeting_form_is_filled_from_the_link(
    logged_in: Callable, world: object, sales_rep: object
) -> None:
    world.campaign("Spring webinar", external_id="C-spring")
    html = (
        logged_in(sales_rep)
        .get("/meetings/new/?kind=campaign_postmortem&campaign=C-spring&title=Post&agenda=Hello")
        .content.decode()
    )
    assert '<option value="campaign_postmortem" selected>' in html
    assert '<option value="C-spring" selected>' in html
    assert 'value="Post"' in html and "Hello</textarea>" in html
    assert f'value="{sales_rep.pk}"' in html and 'type="datetime-local"' in html


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("starts_at", "1899-12-31T10:00"),
        ("ends_at", "3000-01-01T10:00"),
        ("starts_at", "2026-13-45T10:00"),
        ("ends_at", "2026-05-14T09:00"),  # before it starts
        ("starts_at", ""),
    ],
)
def test_bad_dates_answer_400_and_plan_nothing(
    logged_in: Callable, sales_rep: object, field: str, value: str
) -> None:
    response = logged_in(sales_rep).post(
        "/meetings/new/", form_post(attendees=[sales_rep.pk], **{field: value})
    )
    assert response.status_code == 400
    assert response.context["form"].errors
    assert not Meeting.objects.exists()


def test_a_meeting_without_attendees_or_with_an_unknown_campaign_is_refused(
    logged_in: Callable, sales_rep: object
) -> None:
    client = logged_in(sales_rep)
    assert client.post("/meetings/new/", form_post()).status_code == 400
    response = client.post("/meetings/new/", form_post(attendees=[sales_rep.pk], campaign="no"))
    assert response.status_code == 400 and "campaign" in response.context["form"].errors
    assert not Meeting.objects.exists()


# --- editing: attendees and managers only ----------------------------------------------------


def test_only_attendees_or_managers_edit_a_meetings_notes(
    logged_in: Callable,
    make_user: Callable[..., object],
    sales_rep: object,
    marketing_rep: object,
    marketing_manager: object,
) -> None:
    outsider = make_user("otto", Role.SALES_REP)
    m = plan(marketing_rep, sales_rep)  # mia planned it, sam attends
    client = logged_in(outsider)
    assert client.get(f"/meetings/{m.pk}/edit/").status_code == 403
    post = form_post(attendees=[sales_rep.pk], notes="Outsider's notes")
    assert client.post(f"/meetings/{m.pk}/edit/", post).status_code == 403
    m.refresh_from_db()
    assert m.notes == "Original notes"
    assert "meeting-edit" not in client.get(f"/meetings/{m.pk}/").content.decode()
    client = logged_in(marketing_rep)  # created it but does not attend
    assert client.post(f"/meetings/{m.pk}/edit/", post).status_code == 403
    m.refresh_from_db()
    assert m.notes == "Original notes"

    for user, notes in [(sales_rep, "Attendee's notes"), (marketing_manager, "Manager's notes")]:
        client = logged_in(user)
        assert client.get(f"/meetings/{m.pk}/edit/").status_code == 200
        response = client.post(f"/meetings/{m.pk}/edit/", form_post(attendees=[sales_rep.pk],
                                                                     notes=notes))  # fmt: skip
        assert response.status_code == 302
        m.refresh_from_db()
        assert m.notes == notes


def test_an_edit_with_bad_times_answers_400_and_changes_nothing(
    logged_in: Callable, sales_rep: object
) -> None:
    m = plan(sales_rep, sales_rep)
    response = logged_in(sales_rep).post(
        f"/meetings/{m.pk}/edit/",
        form_post(attendees=[sales_rep.pk], starts_at="1800-01-01T10:00", notes="Changed"),
    )
    assert response.status_code == 400
    m.refresh_from_db()
    assert m.notes == "Original notes" and m.kind == "weekly_alignment"


def test_only_attendees_or_managers_add_action_items(
    logged_in: Callable, make_user: Callable[..., object], sales_rep: object, sales_manager: object
) -> None:
    outsider = make_user("otto", Role.MARKETING_REP)
    m = plan(sales_rep, sales_rep)
    post = {"text": "Send the deck", "owner": sales_rep.pk, "due_on": "2026-05-19"}
    assert logged_in(outsider).post(f"/meetings/{m.pk}/action-items/", post).status_code == 403
    assert not ActionItem.objects.exists()
    response = logged_in(sales_manager).post(f"/meetings/{m.pk}/action-items/", post)
    assert response.status_code == 302
    created = ActionItem.objects.get()
    assert (created.owner, created.due_on, created.created_by) == (
        sales_rep, date(2026, 5, 19), sales_manager
    )  # fmt: skip


@pytest.mark.parametrize(
    "post",
    [
        {"text": "", "due_on": "2026-05-19"},
        {"text": "Call", "due_on": "1899-01-01"},
        {"text": "Call", "due_on": "10000-01-01"},
        {"text": "Call", "due_on": ""},
    ],
)
def test_a_bad_action_item_answers_400_and_adds_nothing(
    logged_in: Callable, sales_rep: object, post: dict
) -> None:
    m = plan(sales_rep, sales_rep)
    response = logged_in(sales_rep).post(
        f"/meetings/{m.pk}/action-items/", {**post, "owner": sales_rep.pk}
    )
    assert response.status_code == 400
    assert response.context["item_form"].errors
    assert not ActionItem.objects.exists()


# --- deleting: the creator or managers -------------------------------------------------------


def test_reps_cant_delete_others_meetings(
    logged_in: Callable, sales_rep: object, marketing_rep: object
) -> None:
    m = plan(marketing_rep, sales_rep, marketing_rep)
    client = logged_in(sales_rep)  # attends, did not create it
    assert client.get(f"/meetings/{m.pk}/delete/").status_code == 403
    assert client.post(f"/meetings/{m.pk}/delete/").status_code == 403
    assert Meeting.objects.filter(pk=m.pk).exists()
    assert f"/meetings/{m.pk}/delete/" not in client.get(f"/meetings/{m.pk}/").content.decode()


def test_a_rep_deletes_their_own_meeting_after_confirming(
    logged_in: Callable, sales_rep: object
) -> None:
    m = plan(sales_rep, sales_rep)
    item(m, sales_rep, date(2026, 5, 19))
    client = logged_in(sales_rep)
    confirm = client.get(f"/meetings/{m.pk}/delete/")
    assert confirm.status_code == 200 and "1 action item" in confirm.content.decode()
    assert Meeting.objects.filter(pk=m.pk).exists()  # asking deletes nothing
    response = client.post(f"/meetings/{m.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == "/meetings/"
    assert not Meeting.objects.exists() and not ActionItem.objects.exists()


def test_a_manager_deletes_anyones_meeting(
    logged_in: Callable, sales_rep: object, marketing_manager: object
) -> None:
    m = plan(sales_rep, sales_rep)
    assert logged_in(marketing_manager).post(f"/meetings/{m.pk}/delete/").status_code == 302
    assert not Meeting.objects.exists()


# --- ticking off -----------------------------------------------------------------------------


def test_the_owner_ticks_an_item_off_and_goes_back_to_a_local_next(
    logged_in: Callable, make_user: Callable[..., object], sales_rep: object
) -> None:
    owner = make_user("olga", Role.MARKETING_REP)
    m = plan(sales_rep, sales_rep)
    i = item(m, owner, date(2026, 5, 19))
    client = logged_in(owner)
    response = client.post(f"/meetings/action-items/{i.pk}/done/", {"done": "1", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    i.refresh_from_db()
    assert i.is_done and i.done_by == owner
    response = client.post(
        f"/meetings/action-items/{i.pk}/done/", {"done": "0", "next": "https://evil.example/"}
    )
    assert response["Location"] == f"/meetings/{m.pk}/#action-items"
    i.refresh_from_db()
    assert not i.is_done
    response = client.post(f"/meetings/action-items/{i.pk}/done/", {"next": "//evil.example/x"})
    assert response["Location"] == f"/meetings/{m.pk}/#action-items"


def test_someone_neither_owner_attendee_nor_manager_cannot_tick_an_item(
    logged_in: Callable, make_user: Callable[..., object], sales_rep: object
) -> None:
    stranger = make_user("stan", Role.MARKETING_REP)
    m = plan(sales_rep, sales_rep)
    i = item(m, sales_rep, date(2026, 5, 19))
    client = logged_in(stranger)
    assert client.post(f"/meetings/action-items/{i.pk}/done/", {"done": "1"}).status_code == 403
    i.refresh_from_db()
    assert not i.is_done
    assert client.get(f"/meetings/action-items/{i.pk}/done/").status_code == 405


def test_only_attendees_or_managers_edit_or_delete_an_item(
    logged_in: Callable, make_user: Callable[..., object], sales_rep: object
) -> None:
    owner = make_user("olga", Role.MARKETING_REP)  # owns it, does not attend
    m = plan(sales_rep, sales_rep)
    i = item(m, owner, date(2026, 5, 19))
    client = logged_in(owner)
    post = {"text": "Changed", "owner": owner.pk, "due_on": "2026-05-20"}
    assert client.post(f"/meetings/action-items/{i.pk}/edit/", post).status_code == 403
    assert client.post(f"/meetings/action-items/{i.pk}/delete/").status_code == 403
    i.refresh_from_db()
    assert i.text == "Call Acme back"
    client = logged_in(sales_rep)
    assert client.post(f"/meetings/action-items/{i.pk}/edit/", post).status_code == 302
    i.refresh_from_db()
    assert (i.text, i.due_on) == ("Changed", date(2026, 5, 20))
    assert client.post(f"/meetings/action-items/{i.pk}/delete/").status_code == 302
    assert not ActionItem.objects.exists()


def test_saving_a_meeting_with_its_times_untouched_keeps_them_to_the_second(
    logged_in: Callable, sales_rep: object
) -> None:
    from leads.models import FunnelChange

    start = timezone.make_aware(datetime(2026, 5, 12, 10, 0, 42))
    m = plan(sales_rep, sales_rep, starts_at=start, ends_at=start + timedelta(hours=1))
    FunnelChange.objects.all().delete()
    post = form_post(attendees=[sales_rep.pk], kind="weekly_alignment", notes="More notes",
                     starts_at="2026-05-12T10:00", ends_at="2026-05-12T11:00")  # fmt: skip
    assert logged_in(sales_rep).post(f"/meetings/{m.pk}/edit/", post).status_code == 302
    m.refresh_from_db()
    assert (m.starts_at, m.notes) == (start, "More notes")
    assert not FunnelChange.objects.filter(part="meetings").exists()


# --- CSV -------------------------------------------------------------------------------------


def test_the_list_downloads_as_csv_with_its_kind_and_every_page(
    logged_in: Callable, world: object, sales_rep: object, marketing_rep: object
) -> None:
    world.campaign("Spring webinar", external_id="C-spring")
    Campaign = Meeting._meta.get_field("campaign").related_model
    joint = plan(sales_rep, sales_rep, marketing_rep, campaign=Campaign.objects.get())
    item(joint, sales_rep, date(2026, 5, 19))
    for n in range(31):  # more than a page
        plan(marketing_rep, marketing_rep, kind="brainstorm", title=f"@idea {n}",
             starts_at=at(date(2026, 4, 1), 9) + timedelta(days=n),
             ends_at=at(date(2026, 4, 1), 10) + timedelta(days=n))  # fmt: skip
    client = logged_in(sales_rep)
    assert 'class="csv" href="?format=csv"' in client.get("/meetings/").content.decode()
    rows = csv_rows(client.get("/meetings/?format=csv"))
    assert rows[0] == ["Meeting", "Kind", "Starts", "Ends", "Campaign", "Marketing attended",
                       "Sales attended", "Attendees", "Open action items"]  # fmt: skip
    assert len(rows) == 1 + 32
    first = rows[1]  # the latest first: 12 May
    assert first[1:3] == ["Weekly alignment", "2026-05-12 10:00:00"]
    assert first[4:7] == ["Spring webinar", "yes", "yes"]
    assert first[8] == "1"
    assert rows[2][0] == "'@idea 30" and rows[2][5:7] == ["yes", "no"]
    brainstorms = csv_rows(client.get("/meetings/?kind=brainstorm&format=csv"))
    assert len(brainstorms) == 32 and "Weekly alignment" not in {r[1] for r in brainstorms}
    assert client.get("/meetings/?kind=party&format=csv").status_code == 400


def test_a_meetings_action_items_download_as_csv_under_a_safe_name(
    logged_in: Callable, sales_rep: object, marketing_rep: object
) -> None:
    m = plan(sales_rep, sales_rep, marketing_rep, title='Q2 "review" / wrap-up\r\nnow')
    today = timezone.localdate()
    item(m, sales_rep, today - timedelta(days=1), text="+ send the deck")
    done = item(m, marketing_rep, today + timedelta(days=3), text="Book the room")
    action_item_done(item=done, by=marketing_rep)
    client = logged_in(sales_rep)
    html = client.get(f"/meetings/{m.pk}/").content.decode()
    assert 'class="csv" href="?format=csv"' in html
    response = client.get(f"/meetings/{m.pk}/?format=csv")
    assert response["Content-Disposition"] == (
        'attachment; filename="tandem-action-items-Q2-review-wrap-up-now-2026-05-12.csv"'
    )
    rows = csv_rows(response)
    assert rows[0] == ["Action item", "Owner", "Due on", "State", "Done at", "Done by"]
    assert [r[:4] for r in rows[1:]] == [
        ["'+ send the deck", "Sam Rep", (today - timedelta(days=1)).isoformat(), "Overdue"],
        ["Book the room", "mia", (today + timedelta(days=3)).isoformat(), "Done"],
    ]
    assert rows[2][5] == "mia"

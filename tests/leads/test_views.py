from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from alignment.roles import Role
from leads.models import ContactAttempt, Handoff, Lead, RejectionReason
from tests.conftest import World

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://testserver/leads/inbox/"}


def ago(**delta: float) -> str:
    return (timezone.now() - timedelta(**delta)).isoformat()


def handoff(lead: str) -> Handoff:
    return Handoff.objects.get(lead__external_id=lead)


@pytest.fixture
def inbox(world: World, sales_rep: object, make_user: Callable[..., object]) -> World:
    """Sam has three pending handoffs (due in various orders), Rita one."""
    make_user("rita", Role.SALES_REP, first_name="Rita")
    world.campaign("Webinar", external_id="web")
    for name, owner, handed in [
        ("soon", "sam", ago(hours=3)),  # due in 1 h (SLA: 4 h)
        ("overdue", "sam", ago(hours=30)),
        ("later", "sam", ago(minutes=10)),
        ("ritas", "rita", ago(hours=1)),
    ]:
        world.lead(ago(days=2), external_id=name, owner=owner, campaign="web")
        world.touch(name, "web", ago(days=1), kind="webinar")
        world.stage(name, "mql", handed)
    Handoff.objects.filter(lead__external_id="soon").update(
        matched_rules=[
            {"field": "segment", "operator": "equals", "value": "enterprise", "points": 30}
        ]
    )
    return world


def test_a_rep_sees_their_own_pending_handoffs_nearest_deadline_first(
    client: Client, sales_rep: object, inbox: World
) -> None:
    client.force_login(sales_rep)
    response = client.get("/leads/inbox/")
    assert [h.lead.external_id for h in response.context["page"]] == ["overdue", "soon", "later"]
    html = response.content.decode()
    assert "First contact overdue by 1 d 2 h" in html
    assert "First contact due in 1 h" in html or "First contact due in 59 min" in html
    assert "Segment is enterprise: +30" in html  # why it is an MQL, in words
    assert "Webinar" in html and "· webinar" in html  # its touches, with campaign names
    assert response.context["counts"] == {"pending": 3, "overdue": 1}


def test_a_sales_manager_sees_every_pending_handoff_and_filters_by_owner(
    client: Client, sales_manager: object, inbox: World
) -> None:
    client.force_login(sales_manager)
    assert len(client.get("/leads/inbox/").context["page"].object_list) == 4
    ritas = client.get("/leads/inbox/?owner=rita").context["page"].object_list
    assert [h.lead.external_id for h in ritas] == ["ritas"]


@pytest.mark.parametrize("role", [Role.MARKETING_REP, Role.MARKETING_MANAGER, None])
def test_the_inbox_turns_away_everyone_outside_sales_with_an_explanation(
    client: Client, make_user: Callable[..., object], inbox: World, role: Role | None
) -> None:
    client.force_login(make_user("someone", role))
    response = client.get("/leads/inbox/")
    assert response.status_code == 403
    assert "The inbox is sales' workbench" in response.content.decode()
    assert client.post(f"/leads/inbox/{handoff('soon').pk}/accept/").status_code == 403
    assert handoff("soon").status == Handoff.Status.PENDING


def test_a_rep_accepts_a_lead_in_one_click(client: Client, sales_rep: object, inbox: World) -> None:
    client.force_login(sales_rep)
    response = client.post(f"/leads/inbox/{handoff('soon').pk}/accept/", {"next": "/leads/inbox/"})
    assert response.status_code == 302
    assert response["Location"] == "/leads/inbox/"
    accepted = handoff("soon")
    assert (accepted.status, accepted.decided_by) == (Handoff.Status.ACCEPTED, sales_rep)
    assert "Accepted" in client.get("/leads/inbox/").content.decode()


def test_with_htmx_an_accepted_card_is_replaced_in_place_with_fresh_counts(
    client: Client, sales_rep: object, inbox: World
) -> None:
    client.force_login(sales_rep)
    response = client.post(f"/leads/inbox/{handoff('later').pk}/accept/", **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="handoff-{handoff("later").pk}"' in html
    assert "Accepted" in html
    assert 'id="inbox-counts" hx-swap-oob="true"' in html
    assert "2 pending" in html


def test_a_rep_rejects_a_lead_with_a_reason_feedback_and_a_rating(
    client: Client, sales_rep: object, inbox: World
) -> None:
    client.force_login(sales_rep)
    response = client.post(
        f"/leads/inbox/{handoff('overdue').pk}/reject/",
        {"reason": "wrong_contact", "feedback": "Intern, not the buyer", "rating": "2"},
        **HTMX,
    )
    assert "Rejected" in response.content.decode()
    rejected = handoff("overdue")
    assert (rejected.status, rejected.reason.code, rejected.feedback, rejected.rating) == (
        Handoff.Status.REJECTED,
        "wrong_contact",
        "Intern, not the buyer",
        2,
    )


def test_a_rejection_without_a_reason_is_refused_and_the_form_keeps_the_feedback(
    client: Client, sales_rep: object, inbox: World
) -> None:
    client.force_login(sales_rep)
    pk = handoff("soon").pk
    response = client.post(
        f"/leads/inbox/{pk}/reject/", {"reason": "", "feedback": "Too small"}, **HTMX
    )
    html = response.content.decode()
    assert "Choose why you reject this lead." in html
    assert "Too small</textarea>" in html
    assert "<details open>" in html
    assert handoff("soon").status == Handoff.Status.PENDING
    # Without JavaScript the same form is a page of its own.
    page = client.post(f"/leads/inbox/{pk}/reject/", {"reason": ""})
    assert page.status_code == 200
    assert "Choose why you reject this lead." in page.content.decode()


def test_an_inactive_reason_is_not_offered_nor_accepted(
    client: Client, sales_rep: object, inbox: World
) -> None:
    RejectionReason.objects.filter(code="duplicate").update(active=False)
    client.force_login(sales_rep)
    assert 'value="duplicate"' not in client.get("/leads/inbox/").content.decode()
    client.post(f"/leads/inbox/{handoff('soon').pk}/reject/", {"reason": "duplicate"})
    assert handoff("soon").status == Handoff.Status.PENDING


def test_a_rep_cannot_decide_another_reps_handoff(
    client: Client, sales_rep: object, inbox: World
) -> None:
    client.force_login(sales_rep)
    pk = handoff("ritas").pk
    assert client.post(f"/leads/inbox/{pk}/accept/").status_code == 403
    assert client.post(f"/leads/inbox/{pk}/reject/", {"reason": "bad_fit"}).status_code == 403
    assert client.post(f"/leads/inbox/{pk}/attempt/", {"channel": "call"}).status_code == 403
    assert handoff("ritas").status == Handoff.Status.PENDING


def test_a_sales_manager_decides_any_handoff(
    client: Client, sales_manager: object, inbox: World
) -> None:
    client.force_login(sales_manager)
    client.post(f"/leads/inbox/{handoff('ritas').pk}/accept/")
    assert handoff("ritas").status == Handoff.Status.ACCEPTED


def test_deciding_a_handoff_twice_says_it_was_already_decided(
    client: Client, sales_rep: object, inbox: World
) -> None:
    client.force_login(sales_rep)
    pk = handoff("soon").pk
    client.post(f"/leads/inbox/{pk}/accept/")
    response = client.post(f"/leads/inbox/{pk}/accept/", **HTMX)
    assert "already decided" in response.content.decode()


def test_a_rep_logs_a_contact_attempt_and_the_sla_facts_follow(
    client: Client, sales_rep: object, inbox: World
) -> None:
    client.force_login(sales_rep)
    pk = handoff("soon").pk
    response = client.post(
        f"/leads/inbox/{pk}/attempt/",
        {"channel": "email", "outcome": "replied", "note": "Asked for a demo"},
        **HTMX,
    )
    html = response.content.decode()
    assert "Attempt logged." in html
    assert "Next attempt due in 1 d 23 h" in html or "Next attempt due in 2 d" in html
    attempt = ContactAttempt.objects.get(lead__external_id="soon")
    assert (attempt.channel, attempt.outcome, attempt.actor, attempt.note) == (
        "email",
        "replied",
        sales_rep,
        "Asked for a demo",
    )
    assert handoff("soon").first_attempt_at == attempt.occurred_at
    assert handoff("soon").status == Handoff.Status.PENDING


def test_an_attempt_without_a_known_channel_is_refused(
    client: Client, sales_rep: object, inbox: World
) -> None:
    client.force_login(sales_rep)
    response = client.post(
        f"/leads/inbox/{handoff('soon').pk}/attempt/", {"channel": "pigeon", "outcome": "replied"}
    )
    assert response.status_code == 302
    assert not ContactAttempt.objects.exists()


def test_a_rep_with_nothing_pending_sees_inbox_zero(client: Client, sales_rep: object) -> None:
    client.force_login(sales_rep)
    assert "Inbox zero" in client.get("/leads/inbox/").content.decode()


def test_the_inbox_reads_a_bounded_number_of_queries(
    client: Client,
    world: World,
    sales_rep: object,
    sales_manager: object,
    django_assert_max_num_queries: Callable,
) -> None:
    world.campaign("c1")
    world.campaign("c2")
    for n in range(30):
        lead = world.lead(ago(days=1), owner="sam", campaign="c1")
        world.touch(lead, "c1", ago(hours=20))
        world.touch(lead, "c2", ago(hours=10))
        world.attempt(lead, ago(hours=1), actor="sam")
        world.stage(lead, "mql", ago(hours=n + 2))
    for user in (sales_rep, sales_manager):
        client.force_login(user)
        with django_assert_max_num_queries(12):
            response = client.get("/leads/inbox/")
        assert len(response.context["page"].object_list) == 30


def _badges(html: str) -> dict[str, str]:
    """Each card's lead (its external id) and the SLA badge beside it."""
    import re

    name = r'class="handoff-name"[^>]*><a [^>]*>([^<]+)</a></h2>'
    pattern = name + r'.*?<span class="due"[^>]*>([^<]+)</span>'
    return dict(re.findall(pattern, html, re.S))


def test_the_badge_shows_the_sla_step_due_next_and_the_inbox_is_ordered_by_it(
    client: Client, sales_rep: object, world: World
) -> None:
    """The default SLA: first contact within 4 h, then 6 attempts 2 days apart."""
    world.campaign("Webinar", external_id="web")
    for name, handed in [("late", ago(days=12)), ("kept", ago(days=2)),
                         ("in_time", ago(days=1)), ("overdue", ago(hours=5)),
                         ("new", ago(minutes=30))]:  # fmt: skip
        world.lead(ago(days=13), external_id=name, owner="sam", campaign="web")
        world.stage(name, "mql", handed)
    world.attempt("late", ago(days=11, hours=1), actor="sam")  # 23 h after the handoff
    world.attempt("kept", ago(days=1, hours=23), outcome="connected", actor="sam")
    world.attempt("in_time", ago(hours=22, minutes=30), actor="sam")  # next due in 1 d 1 h 30
    client.force_login(sales_rep)

    response = client.get("/leads/inbox/")
    assert [h.lead.external_id for h in response.context["page"]] == [
        "late", "overdue", "new", "in_time", "kept"
    ]  # fmt: skip
    assert _badges(response.content.decode()) == {
        "late": "Next attempt overdue by 9 d",
        "overdue": "First contact overdue by 1 h",
        "new": "First contact due in 3 h 29 min",
        "in_time": "Next attempt due in 1 d 1 h",
        "kept": "Cadence kept",
    }
    pk = Handoff.objects.get(lead__external_id="late").pk
    html = client.post(
        f"/leads/inbox/{pk}/attempt/", {"channel": "call", "outcome": "no_answer"}, **HTMX
    ).content.decode()
    assert _badges(html)["late"] in {"Next attempt due in 1 d 23 h", "Next attempt due in 2 d"}


def test_the_inbox_header_counts_the_handoffs_whose_badge_says_overdue(
    client: Client, sales_rep: object, world: World
) -> None:
    """Overdue now: the next deadline passed (first contact, or the next attempt), not a first
    contact that was late once and has been followed up since."""
    world.campaign("Webinar", external_id="web")
    for name, handed in [("never", ago(hours=5)), ("late", ago(hours=10)),
                         ("lapsed", ago(days=5)), ("kept_late", ago(days=1)),
                         ("fresh", ago(hours=1))]:  # fmt: skip
        world.lead(ago(days=6), external_id=name, owner="sam", campaign="web")
        world.stage(name, "mql", handed)
    world.attempt("late", ago(hours=6), actor="sam")  # 4 h late; the next is due in 1 d 18 h
    world.attempt("lapsed", ago(days=4, hours=23), actor="sam")  # in time; the next was not
    world.attempt("kept_late", ago(hours=12), outcome="connected", actor="sam")
    client.force_login(sales_rep)

    response = client.get("/leads/inbox/")
    html = response.content.decode()
    overdue = sorted(k for k, badge in _badges(html).items() if "overdue" in badge)
    assert overdue == ["lapsed", "never"]
    assert response.context["counts"] == {"pending": 5, "overdue": 2}
    assert '<span class="pill pill-bad">2 overdue now</span>' in html
    # logging the missing attempt brings the header along with the card
    pk = Handoff.objects.get(lead__external_id="lapsed").pk
    html = client.post(
        f"/leads/inbox/{pk}/attempt/", {"channel": "call", "outcome": "no_answer"}, **HTMX
    ).content.decode()
    assert 'id="inbox-counts" hx-swap-oob="true"' in html
    assert '<span class="pill pill-bad">1 overdue now</span>' in html


# --- the inbox at size: no work that grows with the cards ----------------------------------


def _pending_with_touches(world: World, n: int, owner: str = "sam") -> None:
    world.campaign("c1")
    world.campaign("c2")
    for i in range(n):
        lead = world.lead(ago(days=1), owner=owner, campaign="c1")
        world.touch(lead, "c1", ago(hours=20))
        world.touch(lead, "c2", ago(hours=10), kind="ad")
        world.attempt(lead, ago(hours=1), actor=owner)
        world.stage(lead, "mql", ago(hours=i + 2))


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.SALES_MANAGER])
def test_the_inbox_reads_as_many_queries_for_fifty_cards_as_for_one(
    client: Client, world: World, sales_rep: object, sales_manager: object, role: Role
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(sales_rep if role == Role.SALES_REP else sales_manager)
    _pending_with_touches(world, 1)
    with CaptureQueriesContext(connection) as one:
        assert len(client.get("/leads/inbox/").context["page"].object_list) == 1
    _pending_with_touches(world, 60)
    with CaptureQueriesContext(connection) as fifty:
        assert len(client.get("/leads/inbox/").context["page"].object_list) == 50
    assert len(fifty) == len(one)


def test_every_card_posts_its_own_handoff_with_the_pages_token_and_way_back(
    client: Client, sales_rep: object, world: World
) -> None:
    import re

    _pending_with_touches(world, 3)
    client.force_login(sales_rep)
    html = client.get("/leads/inbox/?page=1").content.decode()
    cards = re.findall(
        r'<article class="card handoff[^"]*" id="handoff-(\d+)".*?</article>', html, re.S
    )
    assert sorted(map(int, cards)) == sorted(Handoff.objects.values_list("pk", flat=True))
    for pk in cards:
        card = html[html.index(f'id="handoff-{pk}"') :]
        card = card[: card.index("</article>")]
        for action in ("accept", "reject", "attempt"):
            assert card.count(f'action="/leads/inbox/{pk}/{action}/"') == 1, action
            assert card.count(f'hx-post="/leads/inbox/{pk}/{action}/"') == 1, action
        for field in ("reason", "feedback", "outcome", "note"):
            assert f'id="{field}-{pk}"' in card and f'for="{field}-{pk}"' in card
        assert card.count('name="next" value="/leads/inbox/?page=1"') == 3
        assert card.count('name="csrfmiddlewaretoken"') == 3
    assert "918273645546372819" not in html  # the stand-in pk is always written over


def test_a_card_shows_the_lead_its_touches_and_attempts_as_the_rep_reads_them(
    client: Client, sales_rep: object, sales_manager: object, world: World
) -> None:
    world.campaign("Spring <launch>", external_id="spring")
    world.lead(ago(days=3), external_id="L-1", owner="sam", campaign="spring")
    Lead.objects.filter(external_id="L-1").update(name="Ann & Co", email="ann@example.com")
    for hours in range(6, 0, -1):
        world.touch("L-1", "spring", ago(hours=hours + 30), kind="visit" if hours % 2 else "")
    world.stage("L-1", "mql", ago(hours=3))
    world.attempt("L-1", ago(hours=2), channel="email", outcome="replied", actor="sam")
    client.force_login(sales_rep)
    html = client.get("/leads/inbox/").content.decode()
    lead_page = f'<a href="/leads/{Lead.objects.get(external_id="L-1").pk}/">Ann &amp; Co</a></h2>'
    assert lead_page in html  # the name opens the lead page
    assert '<a href="mailto:ann@example.com">ann@example.com</a> · handed 3 h ago' in html
    assert "Spring &lt;launch&gt;" in html and "<launch>" not in html
    assert html.count('<time class="when"') == 4
    assert '<li class="faint">and 2 earlier touches</li>' in html
    assert "1 attempt · last: E-mail, replied, 2 h ago" in html
    assert "<strong>" not in html.split("handed")[1].split("</p>")[0]  # sam's own card
    client.force_login(sales_manager)
    assert "· <strong>Sam Rep</strong>" in client.get("/leads/inbox/").content.decode()


def test_a_rejection_without_a_reason_comes_back_in_its_card_with_the_error(
    client: Client, sales_rep: object, inbox: World
) -> None:
    client.force_login(sales_rep)
    pk = handoff("soon").pk
    response = client.post(f"/leads/inbox/{pk}/reject/", {"feedback": "meh"}, **HTMX)
    html = response.content.decode()
    assert f'id="handoff-{pk}"' in html
    assert "Choose why you reject this lead." in html
    assert "<details open>" in html
    assert ">meh</textarea>" in html
    assert handoff("soon").status == Handoff.Status.PENDING

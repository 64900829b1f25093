from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from alignment.roles import Role
from leads.models import ContactAttempt, Handoff, Lead, RejectionReason
from tests.conftest import World, ago, csv_rows

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://testserver/leads/inbox/"}


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
    assert page.status_code == 400  # bad input: the form again, with what was wrong
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


# --- why it is an MQL, in words -------------------------------------------------------------


def test_a_scored_leads_card_says_its_score_threshold_and_rules_in_words(
    client: Client, sales_rep: object, world: World, signed_definition: Callable
) -> None:
    signed_definition(
        [
            {"field": "segment", "operator": "equals", "value": "enterprise", "points": 30},
            {"field": "employees", "operator": "gte", "value": 200, "points": 20},
        ],
        threshold=50,
    )
    world.lead(ago(days=1), external_id="big", owner="sam", segment="enterprise", employees=250)
    world.lead(ago(days=1), external_id="told", owner="sam", segment="enterprise")
    world.stage("told", "mql", "2026-03-02T09:00:00+00:00")
    client.force_login(sales_rep)
    html = client.get("/leads/inbox/").content.decode()
    assert "<strong>Score 50</strong> · threshold 50 · lead definition v1" in html
    assert "<li>Segment is enterprise: +30</li><li>Employees ≥ 200 (has 250): +20</li>" in html
    assert "Marked MQL by the API on 2 Mar 2026." in html
    assert "Score now 30 of threshold 50 (lead definition v1): below it." in html


# --- "Other" needs feedback -----------------------------------------------------------------


def test_other_without_feedback_comes_back_in_its_card_with_the_error_on_the_feedback(
    client: Client, sales_rep: object, inbox: World
) -> None:
    client.force_login(sales_rep)
    pk = handoff("soon").pk
    html = client.get("/leads/inbox/").content.decode()
    assert '<option value="other" data-requires-feedback' in html
    assert "(required for Other)" in html
    response = client.post(
        f"/leads/inbox/{pk}/reject/", {"reason": "other", "feedback": " "}, **HTMX
    )
    html = response.content.decode()
    assert f'id="feedback-{pk}-error"' in html
    assert "Say what is wrong: &#x27;Other&#x27; needs feedback for marketing." in html
    assert '<option value="other" data-requires-feedback selected>' in html
    assert handoff("soon").status == Handoff.Status.PENDING
    # without JavaScript: the reject page, the error under its feedback box
    page = client.post(f"/leads/inbox/{pk}/reject/", {"reason": "other"})
    assert page.context["form"].errors == {
        "feedback": ["Say what is wrong: 'Other' needs feedback for marketing."]
    }
    assert 'data-feedback-required-for="other"' in page.content.decode()
    client.post(f"/leads/inbox/{pk}/reject/", {"reason": "other", "feedback": "A reseller"})
    assert handoff("soon").status == Handoff.Status.REJECTED


# --- reassigning ----------------------------------------------------------------------------


def test_only_managers_cards_offer_to_reassign(
    client: Client, sales_rep: object, sales_manager: object, admin_user: object, inbox: World
) -> None:
    client.force_login(sales_rep)
    assert 'data-action="reassign"' not in client.get("/leads/inbox/").content.decode()
    for manager in (sales_manager, admin_user):
        client.force_login(manager)
        html = client.get("/leads/inbox/").content.decode()
        pk = handoff("ritas").pk
        assert f'action="/leads/inbox/{pk}/reassign/"' in html
        assert '<option value="rita">Rita</option>' in html


def test_a_manager_reassigns_a_pending_handoff_without_javascript(
    client: Client,
    sales_manager: object,
    inbox: World,
    django_capture_on_commit_callbacks: Callable,
) -> None:
    from django.core import mail

    from leads.models import HandoffReassignment

    Lead.objects.filter(external_id="soon").update(name="Soon Ltd")
    type(sales_manager).objects.filter(username="rita").update(email="rita@example.com")
    client.force_login(sales_manager)
    pk = handoff("soon").pk
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/leads/inbox/{pk}/reassign/", {"owner": "rita", "next": "/leads/inbox/?owner=sam"}
        )
    assert response.status_code == 302 and response["Location"] == "/leads/inbox/?owner=sam"
    assert handoff("soon").owner.username == "rita"
    assert Lead.objects.get(external_id="soon").owner.username == "rita"
    assert [m.to for m in mail.outbox] == [["rita@example.com"]]
    assert HandoffReassignment.objects.get().by == sales_manager
    html = client.get("/leads/inbox/?owner=rita").content.decode()
    assert "Reassigned Soon Ltd to Rita. They get an e-mail." in html
    assert "Soon Ltd</a></h2>" in html


def test_with_htmx_a_reassigned_card_leaves_the_owners_list_it_was_in(
    client: Client, sales_manager: object, inbox: World
) -> None:
    client.force_login(sales_manager)
    pk = handoff("soon").pk
    filtered = {**HTMX, "HTTP_HX_CURRENT_URL": "http://testserver/leads/inbox/?owner=sam"}
    html = client.post(f"/leads/inbox/{pk}/reassign/", {"owner": "rita"}, **filtered).content
    html = html.decode()
    assert "is-done" in html and "Reassigned soon to Rita. Rita has no e-mail address" in html
    assert "2 pending" in html  # sam's count, swapped in out of band
    # on the unfiltered list the card stays, with its new owner
    html = client.post(f"/leads/inbox/{pk}/reassign/", {"owner": "sam"}, **HTMX).content.decode()
    assert f'id="handoff-{pk}"' in html and "· <strong>Sam Rep</strong>" in html


def test_a_refused_reassignment_says_why_and_changes_nothing(
    client: Client, sales_manager: object, inbox: World
) -> None:
    client.force_login(sales_manager)
    pk = handoff("soon").pk
    html = client.post(f"/leads/inbox/{pk}/reassign/", {"owner": "sam"}, **HTMX).content.decode()
    assert "The handoff is already Sam Rep&#x27;s." in html
    html = client.post(f"/leads/inbox/{pk}/reassign/", {"owner": ""}, **HTMX).content.decode()
    assert "Choose whom to give the handoff to." in html
    response = client.post(f"/leads/inbox/{pk}/reassign/", {"owner": "nobody-such"}, follow=True)
    assert "Reassign to an active sales rep or sales manager." in response.content.decode()
    assert handoff("soon").owner.username == "sam"


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.MARKETING_REP, Role.MARKETING_MANAGER, None])
def test_nobody_but_managers_reassigns(
    client: Client, make_user: Callable[..., object], inbox: World, role: Role | None
) -> None:
    client.force_login(make_user("someone", role))
    pk = handoff("soon").pk
    response = client.post(f"/leads/inbox/{pk}/reassign/", {"owner": "rita"})
    assert response.status_code == 403
    assert "Only a sales manager can reassign a handoff." in response.content.decode()
    assert handoff("soon").owner.username == "sam"


def test_reassigning_is_a_post(client: Client, sales_manager: object, inbox: World) -> None:
    client.force_login(sales_manager)
    assert client.get(f"/leads/inbox/{handoff('soon').pk}/reassign/").status_code == 405


# --- my leads -------------------------------------------------------------------------------


@pytest.fixture
def accepted(world: World, sales_rep: object, make_user: Callable[..., object]) -> World:
    """Sam accepted two leads (one with an open deal), Rita one; Sam has one pending."""
    make_user("rita", Role.SALES_REP, first_name="Rita")
    for name, owner in [("fresh", "sam"), ("dealt", "sam"), ("ritas", "rita"), ("wait", "sam")]:
        world.lead(ago(days=3), external_id=name, owner=owner)
        world.stage(name, "mql", ago(days=2))
        if name != "wait":
            world.stage(name, "sal", ago(days=1, hours=23), actor=owner)
    world.attempt("dealt", ago(days=1), actor="sam")
    world.stage("dealt", "sql", ago(hours=20), actor="sam")
    world.deal("dealt", 4200, ago(hours=10))
    return world


def test_a_rep_sees_their_accepted_leads_with_the_next_step(
    client: Client, sales_rep: object, accepted: World
) -> None:
    import re

    client.force_login(sales_rep)
    response = client.get("/leads/mine/")
    assert response.status_code == 200
    assert [h.lead.external_id for h in response.context["page"]] == ["fresh", "dealt"]
    html = response.content.decode()
    assert "First contact overdue by 1 d 20 h" in html  # 4 h after the handoff, two days ago
    assert re.search(r"Attempt 2 of 6 due in (23 h|1 d)<", html)  # Z = 2 days after it
    assert "4,200" in html and ">SQL</span>" in html and ">SAL</span>" in html
    assert html.count('action="/leads/inbox/') == 2  # each row logs an attempt
    assert f'href="/leads/{Lead.objects.get(external_id="fresh").pk}/"' in html
    assert 'aria-current="page">My leads</a>' in html


def test_a_sales_manager_sees_everyones_accepted_leads_and_filters_by_owner(
    client: Client, sales_manager: object, accepted: World
) -> None:
    client.force_login(sales_manager)
    assert len(client.get("/leads/mine/").context["page"].object_list) == 3
    ritas = client.get("/leads/mine/?owner=rita").context["page"].object_list
    assert [h.lead.external_id for h in ritas] == ["ritas"]


def test_a_rep_logs_an_attempt_from_my_leads_and_comes_back_to_it(
    client: Client, sales_rep: object, accepted: World
) -> None:
    client.force_login(sales_rep)
    pk = Handoff.objects.get(lead__external_id="fresh").pk
    response = client.post(
        f"/leads/inbox/{pk}/attempt/",
        {"channel": "call", "outcome": "no_answer", "next": "/leads/mine/"},
        follow=True,
    )
    assert response.redirect_chain == [("/leads/mine/", 302)]
    assert "Attempt logged for fresh." in response.content.decode()
    row = next(h for h in response.context["page"] if h.lead.external_id == "fresh")
    assert row.attempts_made == 1


@pytest.mark.parametrize("role", [Role.MARKETING_REP, Role.MARKETING_MANAGER, None])
def test_my_leads_turns_away_everyone_outside_sales_in_the_sites_layout(
    client: Client, make_user: Callable[..., object], accepted: World, role: Role | None
) -> None:
    client.force_login(make_user("someone", role))
    response = client.get("/leads/mine/")
    assert response.status_code == 403
    html = response.content.decode()
    assert 'class="topbar"' in html and "My leads lists the leads sales accepted" in html


def test_admin_sees_my_leads_and_anonymous_logs_in_first(
    client: Client, admin_user: object, accepted: World
) -> None:
    assert client.get("/leads/mine/")["Location"].startswith("/login/")
    client.force_login(admin_user)
    assert client.get("/leads/mine/").status_code == 200


def test_only_sales_people_have_the_my_leads_link(
    client: Client, sales_rep: object, marketing_rep: object, accepted: World
) -> None:
    client.force_login(sales_rep)
    assert 'href="/leads/mine/"' in client.get("/profile/").content.decode()
    client.force_login(marketing_rep)
    assert 'href="/leads/mine/"' not in client.get("/profile/").content.decode()


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.SALES_MANAGER])
def test_my_leads_reads_a_bounded_number_of_queries(
    client: Client,
    world: World,
    sales_rep: object,
    sales_manager: object,
    django_assert_max_num_queries: Callable,
    role: Role,
) -> None:
    for n in range(30):
        lead = world.lead(ago(days=5), owner="sam")
        world.stage(lead, "mql", ago(days=4, hours=n))
        world.stage(lead, "sal", ago(days=3, hours=n), actor="sam")
        world.attempt(lead, ago(days=2, hours=n), actor="sam")
        world.deal(lead, 100 + n, ago(days=1))
    client.force_login(sales_rep if role == Role.SALES_REP else sales_manager)
    with django_assert_max_num_queries(9):
        response = client.get("/leads/mine/")
    assert len(response.context["page"].object_list) == 25


# --- the lead page --------------------------------------------------------------------------


@pytest.fixture
def ninas_lead(world: World, make_user: Callable[..., object]) -> int:
    make_user("nina", Role.SALES_REP, first_name="Nina", last_name="Kowalski")
    world.campaign("Webinar", external_id="web")
    world.lead(ago(days=3), external_id="N-1", owner="nina", campaign="web")
    Lead.objects.filter(external_id="N-1").update(name="Petra Novak", company="Novak GmbH")
    world.touch("N-1", "web", ago(days=2), kind="webinar")
    world.stage("N-1", "mql", ago(days=2))
    world.stage("N-1", "rejected", ago(days=1), reason="other", note="Reseller", actor="nina")
    world.stage("N-1", "mql", ago(hours=2))
    world.attempt("N-1", ago(hours=1), actor="nina", outcome="voicemail")
    world.deal("N-1", 900, ago(hours=1))
    return Lead.objects.get(external_id="N-1").pk


@pytest.mark.parametrize(
    "role", [Role.MARKETING_REP, Role.MARKETING_MANAGER, Role.SALES_MANAGER, Role.ADMIN]
)
def test_marketing_managers_and_admins_read_any_lead_with_its_whole_story(
    client: Client, make_user: Callable[..., object], ninas_lead: int, role: Role
) -> None:
    client.force_login(make_user("someone", role))
    response = client.get(f"/leads/{ninas_lead}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Petra Novak</h1>" in html and "Novak GmbH" in html
    assert html.count('class="card lead-handoff') == 2
    assert "Rejected by Nina Kowalski" in html and "“Reseller”" in html
    assert "Marked MQL by the API on" in html
    assert "Voicemail" in html and "webinar" in html and "900" in html
    assert ("Reassign to…" in html) is (role in {Role.SALES_MANAGER, Role.ADMIN})


def test_the_owner_reads_their_lead(client: Client, ninas_lead: int) -> None:
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username="nina"))
    html = client.get(f"/leads/{ninas_lead}/").content.decode()
    assert "Petra Novak" in html and "Reassign to…" not in html
    assert "Decide in the inbox" in html


def test_another_rep_gets_the_styled_403_saying_whose_lead_it_is(
    client: Client, sales_rep: object, ninas_lead: int
) -> None:
    client.force_login(sales_rep)
    response = client.get(f"/leads/{ninas_lead}/")
    assert response.status_code == 403
    html = response.content.decode()
    assert 'class="topbar"' in html and 'class="card refusal"' in html
    assert "This lead belongs to Nina Kowalski. Ask a sales manager to reassign it." in html
    assert 'href="/leads/inbox/"' in html and "Petra" not in html


def test_a_user_without_a_role_cannot_read_a_lead_and_anonymous_logs_in(
    client: Client, make_user: Callable[..., object], ninas_lead: int
) -> None:
    assert client.get(f"/leads/{ninas_lead}/")["Location"].startswith("/login/")
    client.force_login(make_user("nobody"))
    assert client.get(f"/leads/{ninas_lead}/").status_code == 403


def test_a_manager_reassigns_from_the_lead_page(
    client: Client, sales_manager: object, sales_rep: object, ninas_lead: int
) -> None:
    client.force_login(sales_manager)
    url = f"/leads/{ninas_lead}/"
    response = client.post(
        f"/leads/inbox/{Handoff.objects.get(status='pending').pk}/reassign/",
        {"owner": "sam", "note": "Sam covers DACH", "next": url},
        follow=True,
    )
    assert response.redirect_chain == [(url, 302)]
    html = response.content.decode()
    assert "gave it from Nina Kowalski to Sam Rep — “Sam covers DACH”" in html
    assert Lead.objects.get(pk=ninas_lead).owner == sales_rep


def test_an_unknown_lead_is_a_styled_404(client: Client, sales_manager: object) -> None:
    client.force_login(sales_manager)
    response = client.get("/leads/999999/")
    assert response.status_code == 404
    html = response.content.decode()
    assert 'class="card refusal"' in html and "No lead has this number." in html


# --- refusals and missing pages in the site's layout (DEBUG is off in tests) ----------------


def test_forbidden_and_missing_pages_render_in_the_sites_layout(
    client: Client, sales_rep: object, inbox: World
) -> None:
    from django.conf import settings

    assert settings.DEBUG is False
    client.raise_request_exception = False
    client.force_login(sales_rep)
    refused = client.post(f"/leads/inbox/{handoff('ritas').pk}/accept/")
    assert refused.status_code == 403
    html = refused.content.decode()
    assert "<title>Not yours to open · Tandem</title>" in html
    assert "This handoff belongs to Rita. Ask a sales manager to reassign it." in html
    missing = client.get("/no/such/page/")
    assert missing.status_code == 404
    html = missing.content.decode()
    assert 'class="topbar"' in html and "No page lives at <code>/no/such/page/</code>" in html
    assert "Resolver404" not in html


def test_a_rep_cannot_log_an_attempt_through_an_old_handoff_of_a_lead_handed_to_another(
    client: Client, world: World, sales_rep: object, make_user: Callable[..., object]
) -> None:
    make_user("nina", Role.SALES_REP)
    world.campaign("Webinar", external_id="web")
    world.lead("2026-03-01T09:00:00+00:00", external_id="L-9", owner="sam", campaign="web")
    world.stage("L-9", "mql", "2026-03-02T09:00:00+00:00")
    world.stage("L-9", "sal", "2026-03-02T10:00:00+00:00", actor="sam")
    old = Handoff.objects.get(lead__external_id="L-9")
    world.lead("2026-03-01T09:00:00+00:00", external_id="L-9", owner="nina", campaign="web")
    world.stage("L-9", "recycled", "2026-04-01T09:00:00+00:00")
    world.stage("L-9", "mql", "2026-04-02T09:00:00+00:00")
    assert Handoff.objects.filter(lead__external_id="L-9").count() == 2

    client.force_login(sales_rep)
    response = client.post(
        f"/leads/inbox/{old.pk}/attempt/", {"channel": "call", "outcome": "no_answer"}
    )
    assert response.status_code == 403
    assert "handed over again" in response.content.decode()
    assert not ContactAttempt.objects.exists()


# --- a handoff withdrawn while its card was open --------------------------------------------


def test_a_card_whose_lead_the_crm_recycled_meanwhile_says_withdrawn_with_its_cause(
    client: Client, sales_rep: object, inbox: World
) -> None:
    pk = handoff("soon").pk
    inbox.stage("soon", "recycled", ago(minutes=5))  # the CRM takes it back: withdrawn
    client.force_login(sales_rep)
    response = client.post(
        f"/leads/inbox/{pk}/attempt/", {"channel": "call", "outcome": "no_answer"}, **HTMX
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Withdrawn" in html and "recycled" in html
    assert "Rejected" not in html and "marketing sees your reason" not in html
    rejected = client.post(f"/leads/inbox/{pk}/reject/", {"reason": "bad_fit"}, **HTMX)
    assert "Withdrawn" in rejected.content.decode()
    assert "Rejected" not in rejected.content.decode()
    assert handoff("soon").status == Handoff.Status.WITHDRAWN


def test_deciding_a_withdrawn_handoff_says_it_was_withdrawn_and_why_not_decided(
    client: Client, sales_rep: object, inbox: World
) -> None:
    pk = handoff("soon").pk
    inbox.stage("soon", "disqualified", ago(minutes=5))
    client.force_login(sales_rep)
    response = client.post(f"/leads/inbox/{pk}/accept/", {"next": "/leads/inbox/"}, follow=True)
    html = response.content.decode()
    assert "withdrawn" in html and "disqualified" in html
    assert "already decided" not in html
    assert handoff("soon").status == Handoff.Status.WITHDRAWN


def test_the_lead_page_reads_a_withdrawn_handoff_as_withdrawn_with_its_cause(
    client: Client, sales_manager: object, world: World
) -> None:
    world.lead(ago(days=3), external_id="W-1")
    world.stage("W-1", "mql", ago(days=2))
    world.stage("W-1", "lost", ago(days=1))
    client.force_login(sales_manager)
    html = client.get(f"/leads/{Lead.objects.get(external_id='W-1').pk}/").content.decode()
    assert "<dt>Withdrawn</dt>" in html and "The lead was lost" in html
    assert "<dt>Decision</dt>" not in html


# --- the inbox and My leads as CSV ------------------------------------------------------------


def test_a_reps_inbox_csv_holds_their_own_pending_handoffs_in_the_inbox_order(
    client: Client, sales_rep: object, inbox: World
) -> None:
    client.force_login(sales_rep)
    assert 'class="csv" href="?format=csv"' in client.get("/leads/inbox/").content.decode()
    response = client.get("/leads/inbox/?owner=rita&format=csv")  # a rep sees their own only
    assert response["Content-Disposition"].startswith('attachment; filename="tandem-inbox-sam-')
    rows = csv_rows(response)
    header = rows[0]
    assert header[:7] == ["Lead", "Lead id", "Company", "E-mail", "Campaign", "Owner",
                          "Handed over"]  # fmt: skip
    assert [r[1] for r in rows[1:]] == ["overdue", "soon", "later"]
    overdue, soon = rows[1], rows[2]
    step, due = header.index("SLA step"), header.index("Overdue")
    assert (overdue[step], overdue[due]) == ("First contact", "yes")
    assert (soon[step], soon[due]) == ("First contact", "no")
    assert soon[header.index("Rules matched")] == "Segment is enterprise: +30"
    assert soon[header.index("Score")] == "30"
    assert (soon[4], soon[5], soon[header.index("Touches")]) == ("Webinar", "Sam Rep", "1")


def test_a_managers_inbox_csv_holds_everyones_or_one_owners_and_refuses_a_stranger(
    client: Client, sales_manager: object, inbox: World
) -> None:
    client.force_login(sales_manager)
    assert len(csv_rows(client.get("/leads/inbox/?format=csv"))) == 1 + 4
    assert [r[1] for r in csv_rows(client.get("/leads/inbox/?owner=rita&format=csv"))[1:]] == [
        "ritas"
    ]
    assert client.get("/leads/inbox/?owner=ghost&format=csv").status_code == 400


def test_the_inbox_csv_is_turned_away_outside_sales(
    client: Client, marketing_rep: object, inbox: World
) -> None:
    client.force_login(marketing_rep)
    assert client.get("/leads/inbox/?format=csv").status_code == 403
    assert client.get("/leads/mine/?format=csv").status_code == 403


def test_the_inbox_csv_holds_every_handoff_past_the_first_page_in_as_many_queries(
    client: Client, world: World, sales_rep: object
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(sales_rep)
    _pending_with_touches(world, 1)
    with CaptureQueriesContext(connection) as one:
        assert len(csv_rows(client.get("/leads/inbox/?format=csv"))) == 1 + 1
    _pending_with_touches(world, 60)
    with CaptureQueriesContext(connection) as sixty:
        rows = csv_rows(client.get("/leads/inbox/?format=csv"))
    assert len(rows) == 1 + 61  # not the 50 of a page
    assert len(sixty) == len(one)
    header = rows[0]
    assert {r[header.index("Touches")] for r in rows[1:]} == {"2"}
    assert {r[header.index("Attempts")] for r in rows[1:]} == {"1"}


def test_my_leads_csv_holds_the_owners_accepted_leads_with_their_next_step(
    client: Client, sales_rep: object, sales_manager: object, accepted: World
) -> None:
    client.force_login(sales_rep)
    assert 'class="csv" href="?format=csv"' in client.get("/leads/mine/").content.decode()
    rows = csv_rows(client.get("/leads/mine/?format=csv"))
    header = rows[0]
    assert header[:7] == ["Lead", "Lead id", "Company", "Owner", "Accepted", "Stage",
                          "Next step"]  # fmt: skip
    assert [r[1] for r in rows[1:]] == ["fresh", "dealt"]
    fresh, dealt = rows[1], rows[2]
    assert (fresh[6], fresh[header.index("Overdue")]) == ("First contact", "yes")
    assert (dealt[5], dealt[6]) == ("SQL", "Attempt 2 of 6")
    assert dealt[header.index("Open deals")] == "4200"
    client.force_login(sales_manager)
    assert len(csv_rows(client.get("/leads/mine/?format=csv"))) == 1 + 3
    ritas = csv_rows(client.get("/leads/mine/?owner=rita&format=csv"))
    assert [(r[1], r[3]) for r in ritas[1:]] == [("ritas", "Rita")]

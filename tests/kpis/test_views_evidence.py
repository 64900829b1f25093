"""The evidence panel (dashboard and meeting view) and the drill-downs behind its numbers: the
same handoffs the engine counts, the same range and slice, a sales rep's own only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from alignment.roles import Role
from core.periods import period_start, periods_between, previous_period
from kpis.pages.evidence import FACTS
from kpis.services import kpis_recompute
from leads.models import Handoff, Lead
from leads.selectors import EVIDENCE_FACTS, evidence_handoffs
from leads.services_disputes import dispute_confirm, dispute_record_outcome
from tests.conftest import World, csv_rows

pytestmark = pytest.mark.django_db


def last_four_weeks(today: date | None = None) -> list[date]:
    """The four complete weeks before this one (what the meeting view's evidence shows)."""
    last = previous_period("week", period_start("week", today or timezone.localdate()))
    weeks = [last]
    for _ in range(3):
        weeks.insert(0, previous_period("week", weeks[0]))
    return weeks


WEEKS = last_four_weeks()
FIRST, LAST = WEEKS[0], WEEKS[-1] + timedelta(days=6)
RANGE = f"period=week&start={FIRST}&end={LAST}"


def at(day: int, hour: int = 10) -> str:
    """Local time `day` days into the four weeks (naive: the organisation's time zone)."""
    return (
        datetime.combine(FIRST + timedelta(days=day), datetime.min.time())
        .replace(hour=hour)
        .isoformat()
    )


def at_(day: int, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.fromisoformat(at(day, hour)))


def recompute() -> None:
    kpis_recompute(kind="week", periods=WEEKS)


@pytest.fixture
def ledger(
    world: World,
    sales_rep: object,
    make_user: Callable[..., object],
    marketing_rep: object,
    heads: tuple[object, object],
) -> World:
    """Seven handoffs made in the four weeks, each a fact of the ledger:

    - L1 (sam, web): rejected without contact; disputed, upheld.
    - L2 (rita, search): called, then rejected; its lead won a deal later.
    - L3 (sam, web): called, accepted, then disqualified.
    - L4 (sam, web): recycled before sales decided: withdrawn.
    - L5 (sam, search): rejected without contact; disputed, still open.
    - L6 (rita, web): rejected without contact; disputed, overturned a week later: handed off
      again, to sam by the round robin (a seventh handoff, pending, not called yet).
    """
    make_user("rita", Role.SALES_REP, first_name="Rita", last_name="Rep")
    world.campaign("web", channel="webinar", starts_on=str(FIRST), ends_on=str(LAST))
    world.campaign("search", channel="paid_search", starts_on=str(FIRST), ends_on=str(LAST))

    world.lead(at(0, 8), campaign="web", owner="sam", external_id="L1")
    Lead.objects.filter(external_id="L1").update(company="Acme")
    world.stage("L1", "mql", at(0))
    world.stage("L1", "rejected", at(1), reason="bad_fit", actor="sam")
    world.dispute("L1", by=marketing_rep, at=at(2), outcome="upheld", heads=heads)

    world.lead(at(2, 8), campaign="search", owner="rita", external_id="L2")
    world.stage("L2", "mql", at(2))
    world.attempt("L2", at(2, 12), actor="rita")
    world.stage("L2", "rejected", at(3), reason="no_budget", actor="rita")
    world.deal("L2", 5000, at(6), status="won", closed_at=at(9))

    world.lead(at(3, 8), campaign="web", owner="sam", external_id="L3")
    world.stage("L3", "mql", at(3))
    world.attempt("L3", at(3, 12), actor="sam", outcome="connected")
    world.stage("L3", "sal", at(4), actor="sam")
    world.stage("L3", "disqualified", at(8), actor="sam")

    world.lead(at(4, 8), campaign="web", owner="sam", external_id="L4")
    world.stage("L4", "mql", at(4))
    world.stage("L4", "recycled", at(5))

    world.lead(at(5, 8), campaign="search", owner="sam", external_id="L5")
    world.stage("L5", "mql", at(5))
    world.stage("L5", "rejected", at(6), reason="not_ready", actor="sam")
    world.dispute("L5", by=marketing_rep, at=at(7), comment="They asked for a demo yesterday")

    world.lead(at(6, 8), campaign="web", owner="rita", external_id="L6")
    world.stage("L6", "mql", at(6))
    world.stage("L6", "rejected", at(7), reason="bad_fit", actor="rita")
    # Disputed in the second week, settled in the third.
    raised = world.dispute("L6", by=marketing_rep, at=at(8))
    outcome = dispute_record_outcome(
        dispute=raised, by=heads[0], outcome="overturned", note="Nobody called", now=at_(14)
    )
    dispute_confirm(dispute=outcome, by=heads[1], now=at_(14, 11))
    recompute()
    return world


def handoffs(*leads: str, status: str | None = None) -> set[int]:
    qs = Handoff.objects.filter(lead__external_id__in=leads)
    if status:
        qs = qs.filter(status=status)
    return set(qs.values_list("pk", flat=True))


#: What each drill-down lists of the ledger, by hand.
EXPECTED = {
    "not_followed_up": lambda: handoffs("L1", "L4", "L5", "L6"),  # L6: both its handoffs
    "rejected_without_contact": lambda: handoffs("L1", "L5", "L6", status="rejected"),
    "rejected_then_won": lambda: handoffs("L2"),
    "accepted_then_disqualified": lambda: handoffs("L3"),
    "withdrawn": lambda: handoffs("L4"),
    "disputed": lambda: handoffs("L1", "L5", "L6", status="rejected"),
    "disputes_upheld": lambda: handoffs("L1"),
    "disputes_overturned": lambda: handoffs("L6", status="rejected"),
    "disputes_open": lambda: handoffs("L5"),
}


def _listed(client: Client, fact: str, query: str = RANGE) -> set[int]:
    rows = csv_rows(client.get(f"/evidence/{fact}/?{query}&format=csv"))
    external = {r[1] for r in rows[1:]}
    html = client.get(f"/evidence/{fact}/?{query}")
    assert html.status_code == 200, fact
    shown = {r.handoff.pk for r in html.context["e"].rows}
    assert {Handoff.objects.get(pk=pk).lead.external_id for pk in shown} == external
    return shown


def test_the_world_holds_one_handoff_for_each_fact_and_the_overturn_went_to_sam(
    ledger: World,
) -> None:
    reopened = Handoff.objects.get(lead__external_id="L6", status="pending")
    assert reopened.owner.username == "sam"
    assert Handoff.objects.filter(handed_at__date__gte=FIRST).count() == 7


def test_the_dashboard_panel_shows_the_hand_counted_numbers_from_the_snapshots(
    client: Client, ledger: World, marketing_rep: object
) -> None:
    client.force_login(marketing_rep)
    response = client.get(f"/?{RANGE}")
    d = response.context["d"]
    numbers = {slug: (n.count, n.of) for slug, n in d.evidence.numbers.items()}
    assert numbers == {
        "not_followed_up": (5, 7),  # L1, L4, L5 and both of L6's; L2 and L3 were called
        "rejected_without_contact": (3, 4),
        "accepted_then_disqualified": (1, 1),
        "rejected_then_won": (1, 4),
        "withdrawn": (1, None),
        "disputed": (3, 4),
        "disputes_upheld": (1, 2),
        "disputes_overturned": (1, 2),
    }
    assert d.disputes_open == 1
    html = response.content.decode()
    assert "Sales' side" in html and "Marketing's side" in html
    assert "71.4 % · 5 of 7 handoffs due for contact" in html
    assert "75.0 % · 3 of 4 rejections" in html
    assert f'href="/evidence/not_followed_up/?{RANGE.replace("&", "&amp;")}"' in html
    assert 'href="/evidence/disputes_open/?' in html


@pytest.mark.parametrize("fact", list(FACTS))
def test_every_drill_down_lists_exactly_the_handoffs_the_engine_counts(
    client: Client, ledger: World, marketing_manager: object, fact: str
) -> None:
    client.force_login(marketing_manager)
    listed = _listed(client, fact)
    assert listed == EXPECTED[fact]()
    panel = client.get(f"/?{RANGE}").context["d"]
    counted = panel.disputes_open if fact == "disputes_open" else panel.evidence.numbers[fact].count
    assert len(listed) == counted


def test_the_facts_of_the_page_are_the_facts_of_the_selector() -> None:
    assert set(FACTS) == set(EVIDENCE_FACTS)


def test_a_sales_rep_sees_only_their_own_of_the_number(
    client: Client, ledger: World, sales_rep: object
) -> None:
    client.force_login(sales_rep)
    response = client.get(f"/evidence/not_followed_up/?{RANGE}")
    e = response.context["e"]
    own = {h for h in EXPECTED["not_followed_up"]() if Handoff.objects.get(pk=h).owner == sales_rep}
    assert {r.handoff.pk for r in e.rows} == own and len(own) == 4  # L1, L4, L5, L6 reopened
    assert (e.mine, e.total) == (4, 5)
    assert "Your 4 of 5" in response.content.decode()
    assert _listed(client, "rejected_then_won") == set()  # L2 is rita's
    assert (
        "None of the 1 handoff it counts is yours."
        in client.get(f"/evidence/rejected_then_won/?{RANGE}").content.decode()
    )


def test_a_slice_of_the_dashboard_reaches_its_drill_downs(
    client: Client, ledger: World, marketing_rep: object
) -> None:
    client.force_login(marketing_rep)
    d = client.get(f"/?{RANGE}&campaign=search").context["d"]
    assert d.evidence.numbers["rejected_without_contact"].count == 1  # L5
    assert d.evidence.query.endswith("&campaign=search")
    assert _listed(client, "rejected_without_contact", d.evidence.query) == handoffs("L5")
    assert _listed(client, "not_followed_up", f"{RANGE}&owner=rita") == handoffs(
        "L6", status="rejected"
    )
    assert d.disputes_open == 1
    assert client.get(f"/?{RANGE}&channel=webinar").context["d"].disputes_open == 0


def test_the_drill_down_days_are_the_organisations_local_days(
    client: Client,
    world: World,
    sales_rep: object,
    marketing_rep: object,
    settings: object,
) -> None:
    """Half an hour after midnight in Berlin is the evening before in UTC: the engine counts it
    in the Berlin week, and so does the list."""
    settings.TIME_ZONE = "Europe/Berlin"
    week = WEEKS[1]
    inside = world.lead(f"{week - timedelta(days=1)}T22:00:00+00:00", owner="sam")
    world.stage(inside, "mql", f"{week - timedelta(days=1)}T23:30:00+00:00")  # 00:30 local
    before = world.lead(f"{week - timedelta(days=1)}T21:00:00+00:00", owner="sam")
    world.stage(before, "mql", f"{week - timedelta(days=1)}T22:30:00+00:00")  # 23:30 local
    kpis_recompute(kind="week", periods=[previous_period("week", week), week])
    client.force_login(marketing_rep)
    query = f"period=week&start={week}&end={week + timedelta(days=6)}"
    response = client.get(f"/evidence/not_followed_up/?{query}")
    assert {r.handoff.pk for r in response.context["e"].rows} == handoffs(inside)
    assert response.context["e"].counted.count == 1


def test_the_list_is_as_of_now_and_says_so_when_the_snapshots_lag(
    client: Client, ledger: World, marketing_rep: object
) -> None:
    ledger.attempt("L4", at(4, 11), actor="sam")  # L4 was called after all (no recompute yet)
    client.force_login(marketing_rep)
    response = client.get(f"/evidence/not_followed_up/?{RANGE}")
    assert response.context["e"].total == 4
    assert "the dashboard counts 5 of 7" in response.content.decode()
    assert "differ until the next recompute" in response.content.decode()


def test_the_selector_filters_a_fact_by_its_own_moment(ledger: World) -> None:
    """A rejection counts in the cohort of its handoff, a dispute's outcome on its settling day:
    a range holding only L6's settling day lists its overturn, not its rejection."""
    day = FIRST + timedelta(days=14)
    now = timezone.now()
    overturned = evidence_handoffs(
        fact="disputes_overturned", start=day, end=day, user=None, now=now
    )
    rejected = evidence_handoffs(
        fact="rejected_without_contact", start=day, end=day, user=None, now=now
    )
    assert set(overturned.values_list("pk", flat=True)) == EXPECTED["disputes_overturned"]()
    assert not rejected.exists()
    with pytest.raises(KeyError):
        evidence_handoffs(fact="blame", start=day, end=day, user=None, now=now)


def test_the_drill_down_is_paginated_and_its_csv_holds_every_row(
    client: Client, world: World, marketing_rep: object, sales_rep: object
) -> None:
    for n in range(55):
        lead = world.lead(at(n % 14, 8), owner="sam", external_id=f"W{n}")
        world.stage(lead, "mql", at(n % 14))
        world.stage(lead, "recycled", at(n % 14, 11))
    client.force_login(marketing_rep)
    first = client.get(f"/evidence/withdrawn/?{RANGE}").context["e"]
    second = client.get(f"/evidence/withdrawn/?{RANGE}&page=2").context["e"]
    assert (len(first.rows), len(second.rows), first.total) == (50, 5, 55)
    assert not {r.handoff.pk for r in first.rows} & {r.handoff.pk for r in second.rows}
    rows = csv_rows(client.get(f"/evidence/withdrawn/?{RANGE}&format=csv"))
    assert rows[0][:4] == ["Lead", "Lead id", "Company", "Campaign"]
    assert len(rows) == 56


def test_a_bad_range_is_refused_in_words_and_an_unknown_fact_is_not_found(
    client: Client, ledger: World, marketing_rep: object
) -> None:
    client.force_login(marketing_rep)
    backwards = client.get("/evidence/withdrawn/?start=2026-05-01&end=2026-01-01")
    assert backwards.status_code == 400
    assert "From: The range starts after it ends." in backwards.content.decode()
    garbled = client.get("/evidence/withdrawn/?end=2026-13-45")
    assert garbled.status_code == 400 and "To: Enter a valid date." in garbled.content.decode()
    two = client.get("/evidence/withdrawn/?channel=webinar&owner=sam")
    assert two.status_code == 400
    assert "one of channel, campaign or owner at a time" in two.content.decode()
    assert (
        client.get("/evidence/withdrawn/?start=2026-05-01&end=2026-01-01&format=csv").status_code
        == 400
    )
    assert client.get(f"/evidence/blame/?{RANGE}").status_code == 404


def test_the_drill_down_needs_a_login(client: Client, ledger: World) -> None:
    response = client.get(f"/evidence/withdrawn/?{RANGE}")
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=")


def test_the_drill_down_says_what_it_counts_in_the_catalogs_words(
    client: Client, ledger: World, marketing_rep: object
) -> None:
    from core.catalog import METRICS

    client.force_login(marketing_rep)
    html = client.get(f"/evidence/rejected_then_won/?{RANGE}").content.decode()
    assert FACTS["rejected_then_won"].words in html
    assert METRICS["rejected_then_won_rate"].definition in html
    assert 'href="/definitions/#rejected_then_won_rate"' in html


def test_a_dispute_drill_down_shows_its_state_but_no_comment_or_who_raised_it(
    client: Client, ledger: World, sales_manager: object, marketing_rep: object
) -> None:
    type(marketing_rep).objects.filter(pk=marketing_rep.pk).update(first_name="Mia")
    client.force_login(sales_manager)
    html = client.get(f"/evidence/disputed/?{RANGE}").content.decode()
    assert "Rejection upheld on" in html and "Rejection overturned on" in html
    assert "Waiting for an outcome" in html
    assert "They asked for a demo yesterday" not in html and "Mia" not in html


def test_a_withdrawn_handoff_is_listed_as_withdrawn_with_the_stage_that_closed_it(
    client: Client, ledger: World, marketing_rep: object
) -> None:
    client.force_login(marketing_rep)
    rows = client.get(f"/evidence/withdrawn/?{RANGE}").context["e"].rows
    assert [r.status for r in rows] == ["Withdrawn: recycled"]
    listed_csv = csv_rows(client.get(f"/evidence/withdrawn/?{RANGE}&format=csv"))
    status = listed_csv[0].index("Status")
    assert [r[status] for r in listed_csv[1:]] == ["Withdrawn: recycled"]
    # The other statuses read as they did.
    listed = client.get(f"/evidence/not_followed_up/?{RANGE}").context["e"].rows
    assert sorted(r.status for r in listed) == ["Pending", "Rejected", "Rejected", "Rejected",
                                                "Withdrawn: recycled"]  # fmt: skip


def test_the_meeting_view_shows_the_same_counts_and_never_a_name(
    client: Client, ledger: World, sales_manager: object, marketing_rep: object
) -> None:
    type(marketing_rep).objects.filter(pk=marketing_rep.pk).update(first_name="Mia")
    client.force_login(sales_manager)
    response = client.get("/meeting/section/evidence/")
    data = response.context["data"]
    assert {slug: n.count for slug, n in data.panel.numbers.items()} == {
        "not_followed_up": 5, "rejected_without_contact": 3, "accepted_then_disqualified": 1,
        "rejected_then_won": 1, "withdrawn": 1, "disputed": 3, "disputes_upheld": 1,
        "disputes_overturned": 1,
    }  # fmt: skip
    assert data.disputes_open == 1
    html = response.content.decode()
    names = ["Sam", "Rita", "Mia", "Acme", "L1", "demo yesterday"]
    assert [n for n in names if n in html] == []
    assert "<a " not in html
    page = client.get("/meeting/").content.decode()
    assert 'data-section="evidence"' in page and 'data-goto="evidence"' in page


def test_the_evidence_csv_of_the_dashboard_holds_the_rates_per_period(
    client: Client, ledger: World, marketing_rep: object
) -> None:
    client.force_login(marketing_rep)
    rows = csv_rows(client.get(f"/csv/evidence/?{RANGE}"))
    rates = ["Leads followed up", "Rejected without contact", "Accepted, then disqualified",
             "Rejected, then won"]  # fmt: skip
    assert rows[0] == ["Period"] + [
        f"{rate}{part}" for rate in rates for part in (" (%)", " numerator", " denominator")
    ]
    assert len(rows) == 5  # the four weeks
    # Each rate rounded as the panel shows it, beside the handoffs it divides.
    cells = [row[i : i + 3] for row in rows[1:] for i in range(1, len(row), 3)]
    divided = [(v, n, d) for v, n, d in cells if d not in ("", "0")]
    assert divided
    for value, numerator, denominator in divided:
        assert value == f"{float(numerator) / float(denominator) * 100:.1f}".removesuffix(".0")


def test_the_definitions_page_says_how_the_panel_reads_the_evidence_family(
    client: Client, marketing_rep: object
) -> None:
    client.force_login(marketing_rep)
    html = client.get("/definitions/").content.decode()
    assert 'id="family-evidence"' in html
    assert "Leads not followed up are the handoffs Leads followed up counts" in html


def test_a_pending_handoff_still_in_time_is_no_lead_not_followed_up(
    client: Client, world: World, sales_rep: object, marketing_rep: object, signed_sla: Callable
) -> None:
    """Handed over a minute ago, its first contact is due in hours: it is left out of the
    number and of the list, as the engine leaves it out; one a month old is in both."""
    signed_sla()
    now = timezone.now()
    fresh = world.lead((now - timedelta(minutes=5)).isoformat(), owner="sam")
    world.stage(fresh, "mql", (now - timedelta(minutes=1)).isoformat())
    old = world.lead((now - timedelta(days=30, hours=1)).isoformat(), owner="sam")
    world.stage(old, "mql", (now - timedelta(days=30)).isoformat())
    start = timezone.localdate() - timedelta(days=40)
    kpis_recompute(
        kind="month",
        periods=periods_between("month", period_start("month", start), timezone.localdate()),
    )
    client.force_login(marketing_rep)
    query = f"period=month&start={start}&end={timezone.localdate()}"
    assert Handoff.objects.get(lead__external_id=fresh).first_contact_due_at > now
    assert _listed(client, "not_followed_up", query) == handoffs(old)
    panel = client.get(f"/?{query}").context["d"].evidence.numbers["not_followed_up"]
    assert (panel.count, panel.of) == (1, 1)


def test_each_week_of_the_range_lists_what_that_weeks_snapshots_count(
    client: Client, ledger: World, marketing_manager: object
) -> None:
    """Each fact on its own moment: L6 was handed over in the first week, rejected in the
    second, its dispute settled in the third; L5's rejection and L1's are the first week's."""
    client.force_login(marketing_manager)
    for week in WEEKS:
        query = f"period=week&start={week}&end={week + timedelta(days=6)}"
        d = client.get(f"/?{query}").context["d"]
        for fact in FACTS:
            if fact == "disputes_open":
                continue
            listed = _listed(client, fact, query)
            assert len(listed) == d.evidence.numbers[fact].count, (week, fact)
    first = f"period=week&start={FIRST}&end={FIRST + timedelta(days=6)}"
    second = f"period=week&start={WEEKS[1]}&end={WEEKS[1] + timedelta(days=6)}"
    third = f"period=week&start={WEEKS[2]}&end={WEEKS[2] + timedelta(days=6)}"
    assert _listed(client, "disputed", first) == handoffs("L1", "L5")
    assert _listed(client, "disputed", second) == handoffs("L6", status="rejected")
    assert _listed(client, "rejected_without_contact", first) == handoffs(
        "L1", "L5", "L6", status="rejected"
    )
    assert _listed(client, "disputes_overturned", second) == set()
    assert _listed(client, "disputes_overturned", third) == handoffs("L6", status="rejected")


def test_a_long_drill_down_reads_a_bounded_number_of_queries_for_a_rep_too(
    client: Client,
    world: World,
    sales_rep: object,
    make_user: Callable[..., object],
    django_assert_max_num_queries: Callable,
) -> None:
    make_user("rita", Role.SALES_REP)
    world.campaign("web", channel="webinar", starts_on=str(FIRST), ends_on=str(LAST))
    for n in range(40):
        lead = world.lead(at(n % 14, 8), campaign="web", owner="sam" if n % 2 else "rita")
        world.stage(lead, "mql", at(n % 14))
        world.stage(lead, "rejected", at(n % 14, 11), reason="bad_fit", actor="sam")
    recompute()
    client.force_login(sales_rep)
    # session, user, role, the filter's campaigns and owners, own and all counted, a page, the
    # snapshots
    with django_assert_max_num_queries(10):
        response = client.get(f"/evidence/rejected_without_contact/?{RANGE}")
    e = response.context["e"]
    assert (e.mine, e.total, len(e.rows)) == (20, 40, 20)
    assert e.counted.count == 40

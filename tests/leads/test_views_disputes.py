"""The dispute pages through real HTTP: marketing disputes from the lead page, the heads settle
on the dispute's page, what every role reads of it, the reopened marker, and bad input
refused with nothing changed."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from leads.models import Dispute, Handoff
from leads.services_disputes import dispute_confirm, dispute_record_outcome
from tests.conftest import World, ago, csv_rows
from tests.leads.disputes_fixture import COMMENT, FEEDBACK, READERS

pytestmark = pytest.mark.django_db
NOTE = "One call and no voicemail is no follow-up."
#: What a dispute says that only its readers read (its words and the people in it).
PRIVATE_WORDS = [COMMENT, FEEDBACK, NOTE, "Mia Lang", "Sam Rep", "Max Weber", "Sally Stone"]


def as_(client: Client, cast: dict, who: str) -> Client:
    client.force_login(cast[who])
    return client


def _state(pk: int) -> tuple:
    d = Dispute.objects.get(pk=pk)
    return (d.status, d.outcome, d.outcome_note, d.awaiting_team, d.resolved_at, d.reopen_event_id)


@pytest.fixture
def settled(disputed: Dispute, cast: dict) -> Dispute:
    """max records the overturn with a note, sally confirms it: the lead goes to rita."""
    dispute = dispute_record_outcome(
        dispute=disputed, by=cast["head_of_marketing"], outcome="overturned", note=NOTE
    )
    return dispute_confirm(dispute=dispute, by=cast["head_of_sales"])


# --- the lead page: dispute this rejection -------------------------------------------------


@pytest.mark.parametrize("who", ["disputer", "other_marketing_rep", "head_of_marketing"])
def test_marketing_finds_the_dispute_button_on_a_rejected_handoff(
    client: Client, rejected: Handoff, cast: dict, who: str
) -> None:
    html = as_(client, cast, who).get(f"/leads/{rejected.lead_id}/").content.decode()
    assert "Dispute this rejection" in html
    assert f'action="/leads/handoffs/{rejected.pk}/dispute/"' in html


@pytest.mark.parametrize("who", ["rejecter", "sales_manager", "head_of_sales", "admin"])
def test_sales_and_admins_get_no_dispute_button(
    client: Client, rejected: Handoff, cast: dict, who: str
) -> None:
    response = as_(client, cast, who).get(f"/leads/{rejected.lead_id}/")
    assert response.status_code == 200
    assert "Dispute this rejection" not in response.content.decode()


def test_marketing_disputes_from_the_lead_page_and_lands_on_the_dispute(
    client: Client, rejected: Handoff, cast: dict
) -> None:
    response = as_(client, cast, "disputer").post(
        f"/leads/handoffs/{rejected.pk}/dispute/", {"comment": COMMENT}, follow=True
    )
    dispute = Dispute.objects.get()
    assert response.redirect_chain == [(f"/leads/disputes/{dispute.pk}/", 302)]
    html = response.content.decode()
    assert "Disputed the rejection of Dana Fischer" in html
    assert COMMENT in html and FEEDBACK in html
    lead_page = client.get(f"/leads/{rejected.lead_id}/").content.decode()
    assert "Dispute this rejection" not in lead_page  # once per rejection
    assert "Mia Lang disputed this rejection" in lead_page
    assert f'href="/leads/disputes/{dispute.pk}/"' in lead_page


@pytest.mark.parametrize("comment", ["", "   "])
def test_a_dispute_without_a_comment_comes_back_with_a_400(
    client: Client, rejected: Handoff, cast: dict, comment: str
) -> None:
    response = as_(client, cast, "disputer").post(
        f"/leads/handoffs/{rejected.pk}/dispute/", {"comment": comment}
    )
    assert response.status_code == 400
    assert "Say why the rejection is wrong." in response.content.decode()
    assert not Dispute.objects.exists()


@pytest.mark.parametrize("who", ["rejecter", "other_sales_rep", "head_of_sales", "admin"])
def test_a_dispute_posted_by_sales_is_refused_with_who_may(
    client: Client, rejected: Handoff, cast: dict, who: str
) -> None:
    response = as_(client, cast, who).post(
        f"/leads/handoffs/{rejected.pk}/dispute/", {"comment": COMMENT}
    )
    assert response.status_code == 403
    assert "Only marketing (reps and managers) can dispute a rejection." in (
        response.content.decode()
    )
    assert not Dispute.objects.exists()


def test_a_second_dispute_of_a_rejection_is_refused(
    client: Client, disputed: Dispute, cast: dict
) -> None:
    response = as_(client, cast, "marketing_manager").post(
        f"/leads/handoffs/{disputed.handoff_id}/dispute/", {"comment": "Me too."}
    )
    assert response.status_code == 400
    assert "already disputed" in response.content.decode()
    assert Dispute.objects.get().comment == COMMENT


def test_after_the_window_marketing_reads_that_it_closed_and_a_post_is_refused(
    client: Client, world: World, cast: dict, settings: object
) -> None:
    world.lead(ago(days=30), external_id="L-old", owner="sam")
    world.stage("L-old", "mql", ago(days=25))
    world.stage("L-old", "rejected", ago(days=20), reason="bad_fit", actor="sam")
    handoff = Handoff.objects.get(lead__external_id="L-old")
    as_(client, cast, "disputer")
    html = client.get(f"/leads/{handoff.lead_id}/").content.decode()
    assert "Dispute this rejection" not in html
    assert "Too late to dispute this rejection: the window closed on" in html
    assert f"{settings.DISPUTE_WINDOW_DAYS} days after the decision" in html
    response = client.post(f"/leads/handoffs/{handoff.pk}/dispute/", {"comment": COMMENT})
    assert response.status_code == 400 and "Too late to dispute" in response.content.decode()
    assert not Dispute.objects.exists()
    sales = as_(Client(), cast, "head_of_sales").get(f"/leads/{handoff.lead_id}/")
    assert "Too late to dispute" not in sales.content.decode()


def test_a_pending_handoff_has_no_dispute_button_and_refuses_one(
    client: Client, world: World, cast: dict
) -> None:
    world.lead(ago(days=3), external_id="L-p", owner="sam")
    world.stage("L-p", "mql", ago(days=2))
    handoff = Handoff.objects.get(lead__external_id="L-p")
    as_(client, cast, "disputer")
    assert "Dispute this rejection" not in client.get(f"/leads/{handoff.lead_id}/").content.decode()
    response = client.post(f"/leads/handoffs/{handoff.pk}/dispute/", {"comment": COMMENT})
    assert response.status_code == 400
    assert not Dispute.objects.exists()


# --- what every role reads -----------------------------------------------------------------


@pytest.mark.parametrize("who", list(READERS))
def test_each_role_reads_the_dispute_page_whole_or_without_words_and_names(
    client: Client, settled: Dispute, cast: dict, who: str
) -> None:
    response = as_(client, cast, who).get(f"/leads/disputes/{settled.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    # Everyone: the state, the reason, what sales did before deciding.
    assert "Rejection overturned" in html and "No budget" in html
    assert "1 attempt" in html
    assert "the lead was handed off again" in html
    if READERS[who]:
        for words in [*PRIVATE_WORDS, "Dana Fischer", "Rita Roth"]:
            assert words in html, words
        reopened = Handoff.objects.get(opening_event=settled.reopen_event)
        assert f'href="/leads/{reopened.lead_id}/#handoff-{reopened.pk}"' in html
    else:
        for words in [*PRIVATE_WORDS, "Dana Fischer"]:
            assert words not in html, words
        assert "You see its state and its numbers" in html


@pytest.mark.parametrize("who", list(READERS))
def test_each_role_reads_the_list_with_or_without_words_and_names(
    client: Client, disputed: Dispute, settled: Dispute, cast: dict, who: str
) -> None:
    html = as_(client, cast, who).get("/leads/disputes/").content.decode()
    assert f'href="/leads/disputes/{settled.pk}/"' in html
    assert 'data-count="overturned">1<' in html
    for words in ["Dana Fischer", COMMENT[:40], "Mia Lang", "Sam Rep"]:
        assert (words in html) is READERS[who], words


@pytest.mark.parametrize("who", list(READERS))
def test_each_role_reads_the_lead_pages_dispute_state_with_or_without_names(
    client: Client, disputed: Dispute, cast: dict, who: str
) -> None:
    dispute_record_outcome(dispute=disputed, by=cast["head_of_marketing"], outcome="upheld")
    response = as_(client, cast, who).get(f"/leads/{disputed.handoff.lead_id}/")
    if who == "other_sales_rep":  # the lead page is not rita's to open
        assert response.status_code == 403
        return
    html = response.content.decode()
    assert "disputed this rejection" in html
    assert "the head of sales to confirm" in html
    assert (COMMENT in html) is READERS[who]
    assert ("Mia Lang disputed" in html) is READERS[who]
    assert ("Sally Stone, the head of sales" in html) is READERS[who]


def test_an_unknown_dispute_is_a_404(client: Client, cast: dict) -> None:
    assert as_(client, cast, "head_of_sales").get("/leads/disputes/999999/").status_code == 404


# --- the heads settle it on its page ---------------------------------------------------------


def test_a_head_records_the_outcome_and_the_other_head_confirms_it(
    client: Client, disputed: Dispute, cast: dict
) -> None:
    marketing = as_(client, cast, "head_of_marketing")
    page = marketing.get(f"/leads/disputes/{disputed.pk}/").content.decode()
    assert "Record the outcome" in page and 'data-action="confirm"' not in page
    response = marketing.post(
        f"/leads/disputes/{disputed.pk}/resolve/",
        {"outcome": "overturned", "note": NOTE},
        follow=True,
    )
    html = response.content.decode()
    assert "It is settled once the head of sales confirms it." in html
    assert "Waits for Sally Stone, the head of sales, to confirm it." in html
    assert 'data-action="confirm"' not in html  # not for the head who recorded it
    sales = as_(Client(), cast, "head_of_sales")
    page = sales.get(f"/leads/disputes/{disputed.pk}/").content.decode()
    assert "Confirm: rejection overturned" in page and "(you)" in page
    done = sales.post(f"/leads/disputes/{disputed.pk}/confirm/", follow=True).content.decode()
    assert "Settled: the rejection is overturned and the lead handed off again." in done
    reopened = Handoff.objects.get(opening_event=Dispute.objects.get().reopen_event)
    assert reopened.owner == cast["other_sales_rep"]
    assert "to Rita Roth" in done


@pytest.mark.parametrize(
    "who",
    ["disputer", "other_marketing_rep", "marketing_manager", "rejecter", "sales_manager", "admin"],
)
def test_only_the_heads_get_the_forms_and_posting_them_is_refused(
    client: Client, disputed: Dispute, cast: dict, who: str
) -> None:
    as_(client, cast, who)
    page = client.get(f"/leads/disputes/{disputed.pk}/").content.decode()
    assert "Record the outcome" not in page
    before = _state(disputed.pk)
    for path, data in [("resolve", {"outcome": "upheld"}), ("confirm", {})]:
        response = client.post(f"/leads/disputes/{disputed.pk}/{path}/", data)
        assert response.status_code == 403
        assert "Only the head of marketing and the head of sales settle a dispute" in (
            response.content.decode()
        )
    assert _state(disputed.pk) == before


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({}, "Choose &#x27;upheld&#x27; or &#x27;overturned&#x27;."),
        ({"outcome": "maybe"}, "Select a valid choice."),
        ({"outcome": "overturned", "note": " "}, "Say why the rejection is overturned"),
    ],
)
def test_a_bad_outcome_comes_back_with_a_400_and_changes_nothing(
    client: Client, disputed: Dispute, cast: dict, data: dict, error: str
) -> None:
    before = _state(disputed.pk)
    response = as_(client, cast, "head_of_sales").post(
        f"/leads/disputes/{disputed.pk}/resolve/", data
    )
    assert response.status_code == 400
    assert error in response.content.decode()
    assert _state(disputed.pk) == before


def test_the_head_who_recorded_it_is_told_the_other_one_confirms(
    client: Client, disputed: Dispute, cast: dict
) -> None:
    dispute_record_outcome(
        dispute=disputed, by=cast["head_of_marketing"], outcome="overturned", note=NOTE
    )
    before = _state(disputed.pk)
    response = as_(client, cast, "head_of_marketing").post(
        f"/leads/disputes/{disputed.pk}/confirm/"
    )
    assert response.status_code == 400
    assert "You recorded this outcome: the head of sales confirms it." in (
        response.content.decode()
    )
    assert _state(disputed.pk) == before


def test_confirming_before_any_outcome_is_refused(
    client: Client, disputed: Dispute, cast: dict
) -> None:
    response = as_(client, cast, "head_of_sales").post(f"/leads/disputes/{disputed.pk}/confirm/")
    assert response.status_code == 400
    assert "No outcome to confirm yet" in response.content.decode()
    assert _state(disputed.pk)[0] == "open"


# --- finding them: the list's sections and the nav's badge ---------------------------------


def test_a_head_finds_what_waits_for_them_and_the_badge_counts_it(
    client: Client, disputed: Dispute, cast: dict
) -> None:
    sales = as_(client, cast, "head_of_sales")
    html = sales.get("/leads/disputes/").content.decode()
    waiting = html[html.index('data-section="waiting"') : html.index('data-section="open"')]
    assert f'href="/leads/disputes/{disputed.pk}/"' in waiting
    assert "data-disputes-waiting>1<" in sales.get("/").content.decode()
    dispute_record_outcome(dispute=disputed, by=cast["head_of_sales"], outcome="upheld")
    html = sales.get("/leads/disputes/").content.decode()
    waiting = html[html.index('data-section="waiting"') : html.index('data-section="open"')]
    assert "Nothing waits for you" in waiting  # it waits for the head of marketing now
    assert "data-disputes-waiting" not in html
    marketing = as_(Client(), cast, "head_of_marketing").get("/leads/disputes/").content.decode()
    assert "data-disputes-waiting>1<" in marketing


@pytest.mark.parametrize(
    "who", ["disputer", "marketing_manager", "rejecter", "sales_manager", "admin"]
)
def test_nobody_but_a_head_has_a_waiting_section_or_badge(
    client: Client, disputed: Dispute, cast: dict, who: str
) -> None:
    html = as_(client, cast, who).get("/leads/disputes/").content.decode()
    assert 'data-section="waiting"' not in html and "data-disputes-waiting" not in html
    assert f'href="/leads/disputes/{disputed.pk}/"' in html  # in the open ones
    assert 'href="/leads/disputes/"' in html  # the nav's entry


def test_the_list_reads_a_bounded_number_of_queries(
    client: Client, world: World, cast: dict, django_assert_max_num_queries: Callable
) -> None:
    from leads.services_disputes import dispute_raise

    for n in range(15):
        lead = world.lead(ago(days=6), owner="sam")
        world.stage(lead, "mql", ago(days=5))
        world.stage(lead, "rejected", ago(days=4, hours=n), reason="bad_fit", actor="sam")
        dispute = dispute_raise(
            handoff=Handoff.objects.get(lead__external_id=lead), by=cast["disputer"], comment="x"
        )
        if n % 3 == 0:
            dispute = dispute_record_outcome(
                dispute=dispute, by=cast["head_of_marketing"], outcome="upheld"
            )
        if n % 6 == 0:
            dispute_confirm(dispute=dispute, by=cast["head_of_sales"])
    for who in ["head_of_sales", "other_sales_rep"]:
        as_(client, cast, who)
        with django_assert_max_num_queries(11):
            assert client.get("/leads/disputes/").status_code == 200


# --- reopened after a dispute ----------------------------------------------------------------


def test_the_new_owner_finds_the_lead_in_their_inbox_marked_reopened(
    client: Client, settled: Dispute, cast: dict
) -> None:
    html = as_(client, cast, "other_sales_rep").get("/leads/inbox/").content.decode()
    assert "Dana Fischer" in html and "Reopened after a dispute" in html
    assert "Marked MQL by the two heads, who overturned its rejection after a dispute" in html
    reopened = Handoff.objects.get(opening_event=settled.reopen_event)
    lead_page = client.get(f"/leads/{reopened.lead_id}/").content.decode()
    card = lead_page[lead_page.index(f'id="handoff-{reopened.pk}"') :]
    assert f'href="/leads/disputes/{settled.pk}/">Reopened after a dispute' in card
    other = lead_page[lead_page.index(f'id="handoff-{settled.handoff_id}"') :]
    assert "Reopened after a dispute" not in other.split("</section>")[0]


def test_a_handoff_opened_otherwise_is_not_marked_reopened(
    client: Client, world: World, cast: dict
) -> None:
    world.lead(ago(days=1), external_id="L-n", owner="rita")
    world.stage("L-n", "mql", ago(hours=2))
    html = as_(client, cast, "other_sales_rep").get("/leads/inbox/").content.decode()
    assert "L-n" in html and "Reopened after a dispute" not in html


# --- the list as CSV -------------------------------------------------------------------------


@pytest.mark.parametrize("who", list(READERS))
def test_each_role_downloads_the_disputes_with_or_without_words_and_names(
    client: Client, settled: Dispute, cast: dict, who: str
) -> None:
    page = as_(client, cast, who).get("/leads/disputes/").content.decode()
    assert 'class="csv" href="?format=csv"' in page
    rows = csv_rows(client.get("/leads/disputes/?format=csv"))
    header = rows[0]
    assert header[:3] == ["Section", "Dispute", "Lead"]
    assert len(rows) == 2
    row = dict(zip(header, rows[1], strict=True))
    assert (row["Section"], row["Dispute"], row["State"]) == (
        "Settled", str(settled.pk), "Rejection overturned",
    )  # fmt: skip
    assert row["Reason"] == "No budget" and row["Attempts before the decision"] == "1"
    text = "\n".join(",".join(r) for r in rows)
    for words in ["Dana Fischer", "L-d", COMMENT, "Mia Lang", "Sam Rep"]:
        assert (words in text) is READERS[who], words


def test_a_heads_csv_puts_what_waits_for_them_first(
    client: Client, disputed: Dispute, cast: dict
) -> None:
    rows = csv_rows(as_(client, cast, "head_of_sales").get("/leads/disputes/?format=csv"))
    assert [r[:2] for r in rows[1:]] == [["Waiting for you", str(disputed.pk)]]
    dispute_record_outcome(dispute=disputed, by=cast["head_of_sales"], outcome="upheld")
    rows = csv_rows(client.get("/leads/disputes/?format=csv"))
    header = rows[0]
    row = dict(zip(header, rows[1], strict=True))
    assert (row["Section"], row["State"]) == ("Waiting for the other head", "Rejection upheld")
    assert (row["Waits for the head of"], row["Waits for"]) == ("marketing", "Max Weber")
    other = csv_rows(as_(Client(), cast, "disputer").get("/leads/disputes/?format=csv"))
    assert other[1][0] == "Open"

"""Executable lead scoring: the rules (pure) and the automatic handoff through the ingest API."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from alignment.models import LeadDefinition, RescoreJob
from alignment.roles import Role
from alignment.scoring import Rule, resolve, rule_errors, score
from alignment.services.lead_definitions import lead_definition_approve, lead_definition_create
from alignment.services.round_robin import round_robin_set
from leads.models import Handoff, Lead, StageEvent

LEAD = {
    "email": "ada@bigcorp.example",
    "name": "Ada",
    "company": "BigCorp",
    "segment": "enterprise",
    "campaign": "C-1",
    "channel": "webinar",
    "attributes": {
        "company": {"size": 1200, "industry": "Software", "tags": ["saas", "b2b"]},
        "title": "VP Marketing",
        "pages_viewed": "14",
        "newsletter": True,
    },
}


def points(*rules: Rule) -> int:
    return score(rules, LEAD).points


# --- the rules, pure ------------------------------------------------------------------------


def test_a_dotted_path_reads_nested_attributes() -> None:
    assert resolve("company.size", LEAD) == 1200
    assert resolve("attributes.company.industry", LEAD) == "Software"
    assert resolve("company", LEAD) == "BigCorp"  # one part: the lead's own field
    assert points(Rule("company.size", "gte", 1000, 30)) == 30
    assert points(Rule("company.size", "lte", 1000, 30)) == 0


def test_a_missing_path_matches_nothing_but_not_exists() -> None:
    assert points(Rule("company.revenue", "gte", 0, 10)) == 0
    assert points(Rule("company.revenue", "exists", False, 10)) == 10
    assert points(Rule("company.size.value", "exists", None, 10)) == 0


def test_equals_ignores_case_and_compares_numbers_numerically() -> None:
    assert points(Rule("company.industry", "equals", "software", 5)) == 5
    assert points(Rule("pages_viewed", "equals", 14, 5)) == 5
    assert points(Rule("newsletter", "equals", True, 5)) == 5
    assert points(Rule("newsletter", "equals", 1, 5)) == 0  # a boolean is not a number


def test_contains_reads_text_and_lists() -> None:
    assert points(Rule("title", "contains", "vp", 10)) == 10
    assert points(Rule("company.tags", "contains", "SaaS", 10)) == 10
    assert points(Rule("email", "contains", "gmail", -20)) == 0


def test_in_matches_one_of_the_values() -> None:
    assert points(Rule("segment", "in", ["mid_market", "enterprise"], 15)) == 15
    assert points(Rule("company.tags", "in", ["b2c", "b2b"], 15)) == 15
    assert points(Rule("channel", "in", ["event"], 15)) == 0


def test_numbers_in_text_compare_as_numbers_and_other_text_never() -> None:
    assert points(Rule("pages_viewed", "gte", 10, 10)) == 10
    assert points(Rule("title", "gte", 10, 10)) == 0


def test_the_score_sums_the_points_of_the_matched_rules_and_keeps_why() -> None:
    result = score(
        [
            Rule("company.size", "gte", 1000, 30),
            Rule("title", "contains", "vp", 25),
            Rule("email", "contains", "gmail", -20),
        ],
        LEAD,
    )
    assert result.points == 55
    assert [m.as_dict() for m in result.matched] == [
        {"field": "company.size", "operator": "gte", "value": 1000, "points": 30, "actual": 1200},
        {"field": "title", "operator": "contains", "value": "vp", "points": 25,
         "actual": "VP Marketing"},
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("field", "operator", "value", "points_", "bad"),
    [
        ("", "equals", "x", 1, "field"),
        ("company.size", "between", 1, 1, "operator"),
        ("company.size", "gte", "big", 1, "value"),
        ("segment", "in", "smb", 1, "value"),
        ("segment", "in", [], 1, "value"),
        ("segment", "exists", "yes", 1, "value"),
        ("segment", "equals", "", 1, "value"),
        ("segment", "equals", "smb", 1.5, "points"),
    ],
)
def test_it_names_what_is_wrong_with_a_rule(
    field: str, operator: str, value: object, points_: object, bad: str
) -> None:
    assert list(rule_errors(field, operator, value, points_)) == [bad]


# --- automatic handoff through the ingest API -----------------------------------------------

RULES = [
    {"field": "company.size", "operator": "gte", "value": 500, "points": 40},
    {"field": "title", "operator": "contains", "value": "head", "points": 20},
    {"field": "email", "operator": "contains", "value": "@gmail.", "points": -50},
]


def lead(n: int, **attributes: object) -> dict:
    return {
        "external_id": f"L-{n}",
        "email": f"lead{n}@corp.example",
        "name": f"Lead {n}",
        "company": "Corp",
        "created_at": "2026-03-02T10:00:00Z",
        "attributes": attributes,
    }


def send(api: APIClient, *rows: dict) -> None:
    response = api.post("/api/v1/leads/", list(rows), format="json")
    assert response.status_code == 200, response.json()


@pytest.fixture
def reps(make_user: Callable[..., object]) -> list[object]:
    return [make_user(name, Role.SALES_REP) for name in ("rep_a", "rep_b", "rep_c")]


@pytest.mark.django_db
def test_a_lead_reaching_the_threshold_is_handed_off_with_the_rules_it_matched(
    api: APIClient, signed_definition: Callable[..., LeadDefinition], reps: list[object]
) -> None:
    definition = signed_definition(RULES, threshold=50)
    send(
        api, lead(1, company={"size": 800}, title="Head of Growth"), lead(2, company={"size": 800})
    )

    handoff = Handoff.objects.get()
    assert handoff.lead.external_id == "L-1"
    assert handoff.status == Handoff.Status.PENDING
    assert handoff.owner is not None
    assert [(r["field"], r["points"], r["actual"]) for r in handoff.matched_rules] == [
        ("company.size", 40, 800),
        ("title", 20, "Head of Growth"),
    ]
    assert {r["definition_version"] for r in handoff.matched_rules} == {definition.version}
    event = StageEvent.objects.get(lead__external_id="L-1", stage="mql")
    assert event.source == StageEvent.Source.SYSTEM
    assert dict(Lead.objects.values_list("external_id", "score")) == {"L-1": 60, "L-2": 40}
    assert Lead.objects.get(external_id="L-1").stage == "mql"


@pytest.mark.django_db
def test_re_sending_a_handed_off_lead_does_not_hand_it_off_again(
    api: APIClient, signed_definition: Callable[..., LeadDefinition], reps: list[object]
) -> None:
    signed_definition(RULES, threshold=50)
    hot = lead(1, company={"size": 800}, title="Head of Growth")
    send(api, hot)
    send(api, hot)
    send(api, {**hot, "name": "Renamed"})
    assert Handoff.objects.count() == 1
    assert StageEvent.objects.filter(stage="mql").count() == 1


@pytest.mark.django_db
def test_a_lead_crossing_the_threshold_on_an_update_is_handed_off_then(
    api: APIClient, signed_definition: Callable[..., LeadDefinition], reps: list[object]
) -> None:
    signed_definition(RULES, threshold=50)
    send(api, lead(1, company={"size": 800}))
    assert not Handoff.objects.exists()
    send(api, lead(1, company={"size": 800}, title="Head of Sales"))
    assert Handoff.objects.count() == 1
    assert Lead.objects.get().score == 60


@pytest.mark.django_db
def test_a_lead_that_already_has_an_owner_keeps_it(
    api: APIClient, signed_definition: Callable[..., LeadDefinition], reps: list[object]
) -> None:
    signed_definition(RULES, threshold=50)
    send(api, {**lead(1, company={"size": 800}, title="Head"), "owner": "rep_c"})
    assert Handoff.objects.get().owner.username == "rep_c"


@pytest.mark.django_db
def test_without_a_definition_in_effect_nothing_is_scored(
    api: APIClient, heads: tuple[object, object], reps: list[object]
) -> None:
    draft = lead_definition_create(
        by=heads[0],
        effective_from=datetime(2026, 1, 1, tzinfo=UTC),
        criteria="Draft",
        mql_threshold=1,
        rules=RULES,
    )
    lead_definition_approve(definition=draft, by=heads[0])  # one head only
    send(api, lead(1, company={"size": 800}, title="Head"))
    assert not Handoff.objects.exists()
    assert Lead.objects.get().score is None


@pytest.mark.django_db
def test_the_round_robin_spreads_handoffs_evenly_over_the_reps(
    api: APIClient, signed_definition: Callable[..., LeadDefinition], reps: list[object]
) -> None:
    signed_definition(RULES, threshold=40)
    send(api, *[lead(n, company={"size": 900}) for n in range(1, 8)])  # 7 in one batch
    send(api, *[lead(n, company={"size": 900}) for n in range(8, 10)])  # then 2 more
    owners = Counter(Handoff.objects.values_list("owner__username", flat=True))
    assert owners == {"rep_a": 3, "rep_b": 3, "rep_c": 3}
    order = list(
        Handoff.objects.order_by("lead__external_id").values_list("owner__username", flat=True)
    )
    assert order[:3] == ["rep_a", "rep_b", "rep_c"]


@pytest.mark.django_db
def test_the_configured_rotation_decides_who_takes_turns(
    api: APIClient, signed_definition: Callable[..., LeadDefinition], reps: list[object]
) -> None:
    signed_definition(RULES, threshold=40)
    round_robin_set(users=[reps[2], reps[0]])  # rep_b is not in the rotation
    send(api, *[lead(n, company={"size": 900}) for n in range(1, 5)])
    owners = Counter(Handoff.objects.values_list("owner__username", flat=True))
    assert owners == {"rep_c": 2, "rep_a": 2}


@pytest.mark.django_db
def test_a_newly_approved_definition_rescores_every_lead_as_a_job(
    api: APIClient,
    signed_definition: Callable[..., LeadDefinition],
    reps: list[object],
    django_capture_on_commit_callbacks: Callable[..., object],
) -> None:
    send(api, lead(1, company={"size": 300}), lead(2, company={"size": 50}))
    assert not Handoff.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        definition = signed_definition(
            [{"field": "company.size", "operator": "gte", "value": 200, "points": 10}],
            threshold=10,
        )
    job = RescoreJob.objects.get(definition=definition)
    assert (job.status, job.total, job.done, job.handed_off, job.progress) == ("done", 2, 2, 1, 1)
    assert Handoff.objects.get().lead.external_id == "L-1"
    definition.refresh_from_db()
    assert definition.applied_at is not None
    response = api.get(f"/api/v1/rescore-jobs/{job.pk}/")
    assert response.json()["progress"] == 1.0


@pytest.mark.django_db
def test_a_definition_starting_later_scores_nothing_until_it_starts(
    api: APIClient,
    signed_definition: Callable[..., LeadDefinition],
    reps: list[object],
    django_capture_on_commit_callbacks: Callable[..., object],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from leads.agreements import agreements_apply_due

    later = timezone.now() + timedelta(days=2)
    definition = signed_definition(RULES, threshold=40, effective_from=later)
    send(api, lead(1, company={"size": 900}))
    assert not Handoff.objects.exists()
    assert not RescoreJob.objects.exists()
    # The job checks the version is in effect when it runs: let the clock reach the start.
    monkeypatch.setattr(timezone, "now", lambda: later + timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert agreements_apply_due(now=later + timedelta(minutes=1)) == 1
    assert RescoreJob.objects.get(definition=definition).status == RescoreJob.Status.DONE
    assert Handoff.objects.count() == 1


@pytest.mark.django_db
def test_a_lead_edited_in_the_admin_to_reach_the_threshold_is_handed_off(
    api: APIClient,
    admin_user: object,
    client: object,
    signed_definition: Callable[..., LeadDefinition],
    reps: list[object],
) -> None:
    signed_definition(RULES, threshold=50)
    send(api, lead(1, company={"size": 800}))
    assert not Handoff.objects.exists()
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    stored = Lead.objects.get()
    response = client.post(
        f"/admin/leads/lead/{stored.pk}/change/",
        {
            "external_id": "L-1", "email": "lead1@corp.example", "name": "Lead 1",
            "company": "Corp", "created_at_0": "2026-03-02", "created_at_1": "10:00:00",
            "campaign": "", "owner": "", "segment": "",
            "attributes": '{"company": {"size": 800}, "title": "Head of IT"}',
        },
    )  # fmt: skip
    assert response.status_code == 302, response.content[:2000]
    assert Handoff.objects.get().lead == stored
    assert Lead.objects.get().score == 60


@pytest.mark.django_db
def test_a_rep_who_joins_later_takes_turns_and_a_paused_one_does_not(
    api: APIClient,
    signed_definition: Callable[..., LeadDefinition],
    reps: list[object],
    make_user: Callable[..., object],
) -> None:
    signed_definition(RULES, threshold=40)
    round_robin_set(users=reps[:2])  # rep_c is paused
    send(api, *[lead(n, company={"size": 900}) for n in range(1, 3)])
    make_user("rep_new", Role.SALES_REP)
    send(api, *[lead(n, company={"size": 900}) for n in range(3, 6)])
    owners = Counter(Handoff.objects.values_list("owner__username", flat=True))
    assert owners == {"rep_a": 2, "rep_b": 2, "rep_new": 1}


# --- only the version in effect scores leads ------------------------------------------------

SIZE_RULE = [{"field": "company.size", "operator": "gte", "value": 200, "points": 10}]


@pytest.mark.django_db
def test_approving_a_version_that_another_supersedes_at_that_moment_rescores_nothing(
    heads: tuple[object, object],
    django_capture_on_commit_callbacks: Callable[..., object],
) -> None:
    moment = datetime(2026, 2, 1, tzinfo=UTC)
    older = lead_definition_create(
        by=heads[0], effective_from=moment, criteria="Older", mql_threshold=10, rules=SIZE_RULE
    )
    newer = lead_definition_create(
        by=heads[0], effective_from=moment, criteria="Newer", mql_threshold=10, rules=SIZE_RULE
    )
    for head in heads:
        lead_definition_approve(definition=newer, by=head, now=moment - timedelta(days=5))
    RescoreJob.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=False):
        for head in heads:
            lead_definition_approve(definition=older, by=head, now=moment)
    older.refresh_from_db()
    assert older.status == "approved"
    assert not RescoreJob.objects.filter(definition=older).exists()


@pytest.mark.django_db
def test_a_superseded_version_cannot_be_rescored_over_the_api(
    api: APIClient,
    signed_definition: Callable[..., LeadDefinition],
    django_capture_on_commit_callbacks: Callable[..., object],
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        old = signed_definition(SIZE_RULE, threshold=10)
        new = signed_definition(
            SIZE_RULE, threshold=10, effective_from=datetime(2026, 2, 1, tzinfo=UTC)
        )
    RescoreJob.objects.all().delete()
    response = api.post(f"/api/v1/lead-definitions/{old.pk}/rescore/")
    assert response.status_code == 400, response.json()
    assert "not the version in effect" in str(response.json())
    assert not RescoreJob.objects.exists()
    assert api.post(f"/api/v1/lead-definitions/{new.pk}/rescore/").status_code == 202


@pytest.mark.django_db
def test_a_rescore_job_stops_as_superseded_when_a_newer_version_takes_effect_mid_run(
    api: APIClient,
    heads: tuple[object, object],
    signed_definition: Callable[..., LeadDefinition],
    reps: list[object],
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Callable[..., object],
) -> None:
    from leads import agreements as lead_services
    from leads.agreements import lead_definition_rescore_run, lead_definition_rescore_start

    send(api, *[lead(n, company={"size": 300}) for n in range(1, 4)])
    with django_capture_on_commit_callbacks(execute=False):
        old = signed_definition(SIZE_RULE, threshold=10)
        RescoreJob.objects.all().delete()
        job = lead_definition_rescore_start(definition=old)
    newer = lead_definition_create(
        by=heads[0],
        effective_from=datetime(2026, 2, 1, tzinfo=UTC),
        criteria="Stricter",
        mql_threshold=1000,
        rules=SIZE_RULE,
    )
    score = lead_services.leads_score

    def score_then_newer_takes_effect(**kwargs: object) -> int:
        opened = score(**kwargs)
        with django_capture_on_commit_callbacks(execute=False):
            for head in heads:
                lead_definition_approve(definition=newer, by=head)
        return opened

    monkeypatch.setattr(lead_services, "leads_score", score_then_newer_takes_effect)
    job = lead_definition_rescore_run(job_id=str(job.pk), chunk=1)
    assert (job.status, job.done, job.handed_off) == ("superseded", 1, 1)
    assert job.finished_at is not None
    assert Handoff.objects.count() == 1
    old.refresh_from_db()
    assert old.applied_at is None


# --- rules in words (the inbox cards and the agreements pages) -------------------------------


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ({"field": "segment", "operator": "equals", "value": "enterprise", "points": 30,
          "actual": "Enterprise"}, "Segment is enterprise: +30"),
        ({"field": "attributes.employees", "operator": "gte", "value": 200, "points": 20,
          "actual": 250}, "Employees ≥ 200 (has 250): +20"),
        ({"field": "channel", "operator": "in", "value": ["webinar", "event"], "points": 25,
          "actual": "webinar"}, "Channel is one of webinar, event (has webinar): +25"),
        ({"field": "company.size", "operator": "lte", "value": 10.0, "points": -15,
          "actual": 4}, "Company size ≤ 10 (has 4): −15"),
        ({"field": "title", "operator": "contains", "value": "VP", "points": 10},
         "Title contains VP: +10"),
        ({"field": "phone", "operator": "exists", "value": None, "points": 5, "actual": "+49 1"},
         "Phone is set: +5"),
        ({"field": "phone", "operator": "exists", "value": False, "points": 5},
         "Phone is not set: +5"),
        ({"field": "newsletter", "operator": "equals", "value": True, "points": 5,
          "actual": True}, "Newsletter is yes: +5"),
        ({"label": "Big company", "field": "x", "operator": "gte", "value": 1, "points": 3},
         "Big company: +3"),
        ({"field": "segment", "operator": "equals", "value": "smb"}, "Segment is smb"),
    ],
)  # fmt: skip
def test_a_rule_reads_in_words_with_the_leads_value_when_it_says_more(
    rule: dict, words: str
) -> None:
    from alignment.scoring import rule_words

    assert rule_words(rule) == words


def test_the_words_of_a_matched_rule_are_those_of_its_rule_as_scored() -> None:
    from alignment.scoring import rule_words

    (matched,) = score([Rule("company.size", "gte", 1000, 30)], LEAD).matched
    assert rule_words(matched.as_dict()) == "Company size ≥ 1000 (has 1200): +30"

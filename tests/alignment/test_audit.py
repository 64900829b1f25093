"""The audit log: each audited change, made through its real service, writes exactly one entry
naming who, what and how; a refused or rolled-back change writes none; the ingest decides in
bulk with one INSERT; the page is for managers, filters, pages and exports; the admin only reads;
and the database itself refuses to update or delete an entry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from alignment.models import AuditEntry, ServiceLevelAgreement
from alignment.roles import Role, Team
from alignment.services.accounts import (
    api_token_get_or_create,
    api_token_rotate,
    team_head_set,
    user_access,
    user_access_record,
    user_set_role,
)
from alignment.services.audit import ACTIONS, audit_record
from alignment.services.forecasts import revenue_forecast_set
from alignment.services.goals import goal_check_in, goal_delete, goal_update
from alignment.services.lead_definitions import (
    lead_definition_approve,
    lead_definition_create,
    lead_definition_delete,
    lead_definition_update,
)
from alignment.services.payout_curves import payout_curve_set
from alignment.services.sla import sla_approve, sla_delete, sla_update
from leads.errors import RowsInvalid
from leads.imports.services import import_job_run, import_job_start
from leads.models import Channel, Handoff
from leads.services import handoff_accept, handoff_reassign, handoff_reject, stage_events_upsert
from leads.services_channels import channel_merge
from leads.services_disputes import dispute_confirm, dispute_raise, dispute_record_outcome
from tests.conftest import BEFORE_MARCH, World, csv_rows, draft, goal
from tests.leads.imports.samples import upload

pytestmark = pytest.mark.django_db
User = get_user_model()
RULE = {"field": "company.size", "operator": "gte", "value": 200, "points": 60}


def written(act: Callable[[], object]) -> tuple[object, list[AuditEntry]]:
    """What `act` returns, and the audit entries it wrote."""
    last = AuditEntry.objects.aggregate(m=Max("id"))["m"] or 0
    result = act()
    return result, list(AuditEntry.objects.filter(id__gt=last).order_by("id"))


@dataclass
class Scene:
    """The people (max heads marketing, sally heads sales), a world, and a pending handoff."""

    max: Any
    sally: Any
    sam: Any
    mia: Any
    ada: Any
    world: World
    made: dict[str, Any] = field(default_factory=dict)

    def pending(self, name: str = "L-acme") -> Handoff:
        self.world.lead("2026-03-02 09:00", owner="sam", external_id=name)
        self.made["mql"] = self.world.stage(name, "mql", "2026-03-02 10:00")
        return Handoff.objects.get(lead__external_id=name, status="pending")

    def rejected(self) -> Handoff:
        handoff = self.pending()
        return handoff_reject(handoff=handoff, by=self.sam, reason="bad_fit", feedback="Too small")


@pytest.fixture
def scene(
    heads: tuple[object, object],
    sales_rep: object,
    marketing_rep: object,
    admin_user: object,
    world: World,
) -> Scene:
    return Scene(heads[0], heads[1], sales_rep, marketing_rep, admin_user, world)


@dataclass(frozen=True)
class Case:
    """An audited change: `setup(scene)` builds what it changes, `act(scene, built)` makes the
    change through its service and returns its target; the act writes exactly one entry, with
    this action, actor (a Scene attribute; None: the system), and at least these changes and
    details."""

    action: str
    act: Callable[[Scene, Any], Any]
    actor: str | None
    changes: dict[str, list] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    setup: Callable[[Scene], Any] = lambda s: None


def _approved_by_max(s: Scene) -> ServiceLevelAgreement:
    return sla_approve(sla=draft(s.max), by=s.max)


def _definition(s: Scene) -> Any:
    return lead_definition_create(
        by=s.max, effective_from=datetime(2026, 1, 1, tzinfo=UTC), criteria="Fits.",
        mql_threshold=50, rules=[RULE],
    )  # fmt: skip


def _upload(s: Scene) -> Any:
    return upload("campaigns-semicolon.csv", kind="campaigns", by=s.max)


def _started(s: Scene) -> Any:
    return import_job_start(job=_upload(s), mode="import", by=s.max, queue=False)


def _dispute(s: Scene) -> Any:
    return dispute_raise(handoff=s.rejected(), by=s.mia, comment="They have budget.")


def _upheld(s: Scene) -> Any:
    return dispute_record_outcome(dispute=_dispute(s), by=s.max, outcome="upheld")


def _channels(s: Scene) -> tuple[Channel, Channel]:
    s.world.campaign("Webinar 1", channel="webinar")
    return Channel.objects.get(key="webinar"), Channel.objects.create(key="events")


def _then(act: Callable[[], object], target: Any) -> Any:
    """Run `act`, and return `target` as it was (its pk, had `act` deleted it)."""
    kept = SimpleNamespace(_meta=target._meta, pk=target.pk)
    act()
    return kept


CASES = [
    Case("sla.created", lambda s, _: draft(s.max, attempts=4), "max",
         {"attempts": [None, 4], "first_contact_hours": [None, "4"]}),
    Case("sla.updated", lambda s, sla: sla_update(sla=sla, by=s.sally, attempts=5), "sally",
         {"attempts": [3, 5], "marketing_approved_by": ["max", None]}, setup=_approved_by_max),
    Case("sla.approved", lambda s, sla: sla_approve(sla=sla, by=s.sally), "sally",
         {"sales_approved_by": [None, "sally"]}, {"team": "sales", "binding": False},
         setup=lambda s: draft(s.max)),
    Case("sla.approved", lambda s, sla: sla_approve(sla=sla, by=s.sally), "sally",
         {"status": ["draft", "approved"]}, {"binding": True}, setup=_approved_by_max),
    Case("sla.deleted", lambda s, sla: _then(lambda: sla_delete(sla=sla, by=s.sally), sla),
         "sally", {"attempts": [3, None]}, setup=lambda s: draft(s.max)),
    Case("lead_definition.created", lambda s, _: _definition(s), "max",
         {"mql_threshold": [None, 50], "rules": [None, [RULE]]}),
    Case("lead_definition.updated",
         lambda s, d: lead_definition_update(definition=d, by=s.sally, rules=[]), "sally",
         {"rules": [[RULE], []]}, setup=_definition),
    Case("lead_definition.approved",
         lambda s, d: lead_definition_approve(definition=d, by=s.max), "max",
         {"marketing_approved_by": [None, "max"]}, {"team": "marketing"}, setup=_definition),
    Case("lead_definition.deleted",
         lambda s, d: _then(lambda: lead_definition_delete(definition=d, by=s.max), d),
         "max", {"rules": [[RULE], None]}, setup=_definition),
    Case("team_head.set", lambda s, hal: team_head_set(team=Team.SALES, user=hal, by=s.ada),
         "ada", {"user": ["sally", "hal"]}, {"team": "sales"},
         setup=lambda s: _user("hal", Role.SALES_MANAGER)),
    Case("goal.created", lambda s, _: goal(s.max, target=Decimal("12.5")), "max",
         {"target": [None, "12.5"], "metric": [None, "sals"]}),
    Case("goal.updated",
         lambda s, g: goal_update(goal=g, by=s.sally, target=Decimal(20), now=BEFORE_MARCH),
         "sally", {"target": ["10", "20"]}, setup=lambda s: goal(s.max)),
    Case("goal.deleted",
         lambda s, g: _then(lambda: goal_delete(goal=g, by=s.sally, now=BEFORE_MARCH), g),
         "sally", {"name": ["SALs in March", None]}, setup=lambda s: goal(s.max)),
    Case("goal.checked_in",
         lambda s, g: _then(lambda: goal_check_in(
             goal=g, by=s.sally, status="at_risk", now=datetime(2026, 3, 4, 12, tzinfo=UTC)), g),
         "sally", {"status": [None, "at_risk"]}, {"week": "2026-03-02"},
         setup=lambda s: goal(s.max)),
    Case("payout_curve.set",
         lambda s, _: payout_curve_set(effective_from=date(2026, 3, 1), by=s.max,
                                       now=BEFORE_MARCH, cap=Decimal(2)),
         "max", {"cap": [None, "2"]}, {"effective_from": "2026-03-01"}),
    Case("forecast.set",
         lambda s, _: revenue_forecast_set(period="month", period_start=date(2026, 4, 1),
                                           amount=Decimal("50000"), by=s.sally, now=BEFORE_MARCH),
         "sally", {"amount": [None, "50000"]}, {"period": "month"}),
    Case("handoff.accepted", lambda s, h: handoff_accept(handoff=h, by=s.sam), "sam",
         {"status": ["pending", "accepted"], "decided_by": [None, "sam"]}, {"source": "app"},
         setup=Scene.pending),
    Case("handoff.rejected",
         lambda s, h: handoff_reject(handoff=h, by=s.sam, reason="bad_fit",
                                     feedback="Too small", rating=2),
         "sam", {"status": ["pending", "rejected"], "reason": [None, "bad_fit"],
                 "feedback": ["", "Too small"]}, {"rating": 2, "lead": "L-acme"},
         setup=Scene.pending),
    Case("handoff.rejected",  # ingested through the API: the sender decides, as sales
         lambda s, h: _then(lambda: stage_events_upsert(rows=[_event("rejected")], by=s.sam), h),
         "sam", {"status": ["pending", "rejected"], "decided_by": [None, "sam"]},
         {"source": "api"}, setup=Scene.pending),
    Case("handoff.withdrawn",
         lambda s, h: _then(lambda: stage_events_upsert(rows=[_event("recycled")]), h),
         None, {"status": ["pending", "withdrawn"]}, setup=Scene.pending),
    Case("handoff.reassigned",
         lambda s, built: handoff_reassign(handoff=built[0], to=built[1], by=s.sally,
                                           note="Nina knows them"),
         "sally", {"owner": ["sam", "nina"]},
         setup=lambda s: (s.pending(), _user("nina", Role.SALES_REP))),
    Case("dispute.raised", lambda s, h: dispute_raise(handoff=h, by=s.mia, comment="Budget!"),
         "mia", {"status": [None, "open"]}, setup=Scene.rejected),
    Case("dispute.outcome_recorded",
         lambda s, d: dispute_record_outcome(dispute=d, by=s.max, outcome="upheld"),
         "max", {"status": ["open", "awaiting"], "outcome": ["", "upheld"]}, setup=_dispute),
    Case("dispute.confirmed", lambda s, d: dispute_confirm(dispute=d, by=s.sally), "sally",
         {"status": ["awaiting", "resolved"]}, {"outcome": "upheld", "handed_off_again": False},
         setup=_upheld),
    Case("import.started",
         lambda s, job: import_job_start(job=job, mode="import", by=s.max, queue=False),
         "max", {}, {"kind": "campaigns", "mode": "import"}, setup=_upload),
    Case("import.finished", lambda s, job: import_job_run(job_id=str(job.pk)), None,
         {"status": ["running", "done"]}, {"created": 3, "rejected": 0}, setup=_started),
    Case("channel.merged",
         lambda s, ch: _then(lambda: channel_merge(source=ch[0], into=ch[1], by=s.ada), ch[0]),
         "ada", {"channel": ["webinar", "events"]}, {"campaigns": 1}, setup=_channels),
    Case("api_token.rotated",
         lambda s, _: _then(lambda: api_token_rotate(user=s.sam, by=s.sam), s.sam), "sam",
         {}, {"user": "sam"}, setup=lambda s: api_token_get_or_create(user=s.sam)),
    Case("api_token.created",
         lambda s, _: _then(lambda: api_token_rotate(user=s.mia, by=s.ada), s.mia), "ada",
         {}, {"user": "mia"}),
    Case("user.access_changed", lambda s, _: _access_changed(s), "ada",
         {"role": ["Sales rep", "Sales manager"], "is_active": [True, False]}),
    Case("user.created", lambda s, _: _user_added(s), "ada",
         {"role": [None, "Marketing rep"], "is_active": [None, True]}),
]  # fmt: skip


def _access_changed(s: Scene) -> Any:
    """What the admin's user form does: the user saved, then their groups, then the entry."""
    before = user_access(s.sam)
    User.objects.filter(pk=s.sam.pk).update(is_active=False)
    user_set_role(user=s.sam, role=Role.SALES_MANAGER)
    user_access_record(user=s.sam, by=s.ada, before=before)
    return s.sam


def _user_added(s: Scene) -> Any:
    user = User.objects.create_user(username="nina", password="pw")
    user_set_role(user=user, role=Role.MARKETING_REP)
    user_access_record(user=user, by=s.ada, before=None)
    return user


def _user(username: str, role: Role) -> Any:
    user = User.objects.create_user(username=username, password="pw")
    user_set_role(user=user, role=role)
    return user


def _event(stage: str) -> dict[str, Any]:
    reason = "bad_fit" if stage == "rejected" else ""
    return {"external_id": f"E-{stage}", "lead": "L-acme", "stage": stage,
            "occurred_at": datetime(2026, 3, 3, 9, tzinfo=UTC), "reason": reason}  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[f"{c.action}-{i}" for i, c in enumerate(CASES)])
def test_each_audited_change_writes_one_entry_naming_who_what_and_how(
    scene: Scene, case: Case
) -> None:
    built = case.setup(scene)
    started = timezone.now()
    target, entries = written(lambda: case.act(scene, built))
    assert [e.action for e in entries] == [case.action]
    entry = entries[0]
    actor = getattr(scene, case.actor) if case.actor else None
    assert (entry.actor, entry.actor_name) == (actor, actor.username if actor else "")
    assert entry.target_type == target._meta.label_lower
    assert entry.target_id == str(target.pk)
    assert entry.target_label
    assert case.changes.items() <= entry.changes.items(), entry.changes
    assert case.details.items() <= entry.details.items(), entry.details
    assert started <= entry.at <= timezone.now()  # when it was written, not the service's `now`


def test_every_action_the_log_names_is_covered_by_a_case() -> None:
    covered = {c.action for c in CASES}
    # Decisions the replay undoes, corrects or removes, and imports that resume or fail, have
    # tests of their own below.
    own = {"handoff.reopened", "handoff.corrected", "handoff.removed", "import.resumed",
           "import.failed"}  # fmt: skip
    assert set(ACTIONS) - covered == own


def test_a_token_entry_never_holds_the_key(scene: Scene) -> None:
    token, entries = written(lambda: api_token_rotate(user=scene.sam, by=scene.sam))
    text = repr([(e.target_id, e.target_label, e.changes, e.details, e.note) for e in entries])
    assert token.key not in text


@pytest.mark.parametrize(
    "refused",
    [
        lambda s: sla_update(sla=ServiceLevelAgreement.objects.get(version=1), by=s.max,
                             attempts=9),  # an approved version is history
        lambda s: draft(s.max, attempts=0),
        lambda s: sla_approve(sla=draft(s.sam), by=s.sam),  # not a head: PermissionDenied
        lambda s: goal(s.max, target=Decimal(0)),
        lambda s: handoff_reject(handoff=s.pending(), by=s.sam, reason=""),
        lambda s: dispute_raise(handoff=s.rejected(), by=s.mia, comment=" "),
        lambda s: channel_merge(source=Channel.objects.create(key="x"),
                                into=Channel.objects.get(key="x"), by=s.ada),
        lambda s: stage_events_upsert(rows=[_event("rejected")], by=s.mia),  # marketing
    ],
    ids=["approved-sla", "bad-sla", "not-a-head", "bad-goal", "no-reason", "no-comment",
         "self-merge", "marketing-rejects"],
)  # fmt: skip
def test_a_refused_change_writes_no_entry(scene: Scene, refused: Callable[[Scene], object]) -> None:
    last = AuditEntry.objects.aggregate(m=Max("id"))["m"] or 0
    # What the change needs (a handoff, a rejection) is built in the same transaction and
    # rolls back with it, as a request's would.
    with pytest.raises((ValidationError, PermissionDenied, RowsInvalid)), transaction.atomic():
        refused(scene)
    assert not AuditEntry.objects.filter(id__gt=last).exists()


def test_a_change_rolled_back_after_its_entry_leaves_no_entry(scene: Scene) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        draft(scene.max)
        raise RuntimeError("the request failed after the change")
    assert not AuditEntry.objects.filter(action="sla.created").exists()


def test_an_ingest_audits_its_decisions_in_one_insert(scene: Scene) -> None:
    for n in range(3):
        scene.world.lead("2026-03-02 09:00", owner="sam", external_id=f"L-{n}")
        scene.world.stage(f"L-{n}", "mql", "2026-03-02 10:00")
    rows = [
        {"external_id": f"R-{n}", "lead": f"L-{n}", "stage": stage, "reason": reason,
         "occurred_at": datetime(2026, 3, 3, 9, tzinfo=UTC)}
        for n, (stage, reason) in enumerate(
            [("sal", ""), ("rejected", "no_budget"), ("rejected", "bad_fit")])
    ]  # fmt: skip
    with CaptureQueriesContext(connection) as seen:
        _, entries = written(lambda: stage_events_upsert(rows=rows, by=scene.sally))
    inserts = [
        q for q in seen.captured_queries if "INSERT INTO" in q["sql"] and "auditentry" in q["sql"]
    ]
    assert len(inserts) == 1
    assert sorted((e.action, e.details["lead"], e.changes.get("reason", [None, None])[1])
                  for e in entries) == [
        ("handoff.accepted", "L-0", None),
        ("handoff.rejected", "L-1", "no_budget"),
        ("handoff.rejected", "L-2", "bad_fit"),
    ]  # fmt: skip
    assert {e.actor for e in entries} == {scene.sally}


def test_events_corrected_later_audit_the_decision_undone_corrected_and_removed(
    scene: Scene,
) -> None:
    scene.pending()
    stage_events_upsert(rows=[_event("rejected")], by=scene.sally)
    corrected = {**_event("rejected"), "reason": "no_budget"}
    _, entries = written(lambda: stage_events_upsert(rows=[corrected], by=scene.sally))
    assert [(e.action, e.changes) for e in entries] == [
        ("handoff.corrected", {"reason": ["bad_fit", "no_budget"]})
    ]
    _, entries = written(
        lambda: stage_events_upsert(rows=[{**corrected, "stage": "mql"}], by=scene.sally)
    )
    assert [(e.action, e.changes["status"]) for e in entries] == [
        ("handoff.reopened", ["rejected", "pending"])
    ]
    gone = [
        {"external_id": key, "lead": "L-acme", "stage": "inquiry", "occurred_at": at}
        for key, at in [(scene.made["mql"], datetime(2026, 3, 2, 10, tzinfo=UTC)),
                        ("E-rejected", datetime(2026, 3, 3, 9, tzinfo=UTC))]
    ]  # fmt: skip
    _, entries = written(lambda: stage_events_upsert(rows=gone, by=scene.sally))
    assert [(e.action, e.changes) for e in entries] == [
        ("handoff.removed", {"status": ["pending", None]})
    ]


def test_a_resumed_and_a_failed_import_are_audited(scene: Scene) -> None:
    from leads.imports.services import import_job_fail, import_job_resume

    job = _started(scene)
    _, entries = written(lambda: import_job_fail(job_id=job.pk, error="The worker died."))
    assert [(e.action, e.actor, e.note) for e in entries] == [
        ("import.failed", None, "The worker died.")
    ]
    _, entries = written(lambda: import_job_resume(job=job, by=scene.sally))
    assert [(e.action, e.actor) for e in entries] == [("import.resumed", scene.sally)]
    _, entries = written(lambda: import_job_fail(job_id=job.pk, error="again"))
    assert [e.action for e in entries] == ["import.failed"]
    _, entries = written(lambda: import_job_fail(job_id=job.pk, error="failed already"))
    assert entries == []


# --- the database refuses to change the log -----------------------------------------------


def _entry(actor: object = None) -> AuditEntry:
    return audit_record(actor=actor, action="sla.created", label="SLA v9",
                        target_type="alignment.servicelevelagreement", target_id=9,
                        changes={"attempts": [None, 3]})  # fmt: skip


@pytest.mark.parametrize(
    "edit",
    [
        lambda e: AuditEntry.objects.filter(pk=e.pk).update(action="sla.deleted"),
        lambda e: AuditEntry.objects.filter(pk=e.pk).update(changes={}),
        lambda e: AuditEntry.objects.filter(pk=e.pk).update(actor=None, note="tampered"),
        lambda e: (setattr(e, "target_label", "SLA v1"), e.save()),
        lambda e: AuditEntry.objects.filter(pk=e.pk).delete(),
        lambda e: e.delete(),
        lambda e: connection.cursor().execute(
            "DELETE FROM alignment_auditentry WHERE id = %s", [e.pk]
        ),
    ],
    ids=["update-action", "update-changes", "update-more-than-actor", "save", "delete-qs",
         "delete", "raw-delete"],
)  # fmt: skip
def test_the_database_refuses_to_update_or_delete_an_entry(
    sales_manager: object, edit: Callable[[AuditEntry], object]
) -> None:
    entry = _entry(sales_manager)
    with pytest.raises(IntegrityError), transaction.atomic():
        edit(entry)
    kept = AuditEntry.objects.get(pk=entry.pk)
    assert (kept.action, kept.target_label, kept.changes, kept.actor, kept.note) == (
        "sla.created", "SLA v9", {"attempts": [None, 3]}, sales_manager, "",
    )  # fmt: skip


def test_deleting_a_user_keeps_their_entries_by_name(make_user: Callable) -> None:
    gone = make_user("gone", Role.SALES_REP)
    entry = _entry(gone)
    gone.delete()
    entry.refresh_from_db()
    assert (entry.actor, entry.actor_name, entry.action) == (None, "gone", "sla.created")


@pytest.mark.django_db(transaction=True)
def test_an_entry_is_written_only_inside_a_transaction_and_flush_still_empties_the_log(
    restore_base_data: None,
) -> None:
    with pytest.raises(RuntimeError):
        _entry()
    with transaction.atomic():
        _entry()
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditEntry.objects.exists()
    with transaction.atomic():  # the guard is back after the flush
        entry = _entry()
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()


# --- the page ---------------------------------------------------------------------------------


@pytest.fixture
def logged(scene: Scene) -> Scene:
    """A few entries: an SLA drafted by max, a goal set by sally, a token sam issued himself."""
    scene.made["sla"] = draft(scene.max, notes="<script>alert(1)</script>")
    scene.made["goal"] = goal(scene.sally, name="=HYPERLINK(1)")
    api_token_rotate(user=scene.sam, by=scene.sam)
    return scene


def _shown(response: Any) -> list[str]:
    return [
        line.split('data-action="')[1].split('"')[0]
        for line in response.content.decode().splitlines()
        if 'data-action="' in line
    ]


def test_managers_and_admins_read_the_log_reps_get_403_and_strangers_the_login(
    client: Client, logged: Scene
) -> None:
    url = reverse("audit-list")
    for user in (logged.max, logged.sally, logged.ada):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200
        assert "sla.created" in _shown(response)
        assert 'href="/audit/"' in response.content.decode()  # in the nav
    for user in (logged.sam, logged.mia):
        client.force_login(user)
        assert client.get(url).status_code == 403
        assert 'href="/audit/"' not in client.get("/").content.decode()
    client.logout()
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_page_shows_the_changes_escaped(client: Client, logged: Scene) -> None:
    client.force_login(logged.max)
    page = client.get(reverse("audit-list"), {"action": "sla.created"}).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<del>—</del> → <ins>4</ins>" in page  # first contact hours: none before, 4 after


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ({}, ["api_token.created", "goal.created", "sla.created"]),
        ({"action": "goal.created"}, ["goal.created"]),
        ({"action": "sla"}, ["sla.created"]),  # every action of a kind
        ({"actor": "sam"}, ["api_token.created"]),
        ({"target_type": "alignment.goal"}, ["goal.created"]),
        ({"since": "2000-01-01", "until": "2000-12-31"}, []),
        ({"until": "2100-12-31"}, ["api_token.created", "goal.created", "sla.created"]),
    ],
)
def test_the_filters_narrow_the_list(
    client: Client, logged: Scene, query: dict, shown: list[str]
) -> None:
    client.force_login(logged.max)
    response = client.get(reverse("audit-list"), query)
    assert response.status_code == 200
    mine = {"sla.created", "goal.created", "api_token.created"}
    assert sorted(a for a in _shown(response) if a in mine) == shown


def test_a_records_history_lists_its_entries_only(client: Client, logged: Scene) -> None:
    goal_update(goal=logged.made["goal"], by=logged.sally, target=Decimal(11), now=BEFORE_MARCH)
    goal(logged.sally, name="Another")
    client.force_login(logged.max)
    query = {"target_type": "alignment.goal", "target_id": logged.made["goal"].pk}
    response = client.get(reverse("audit-list"), query)
    assert _shown(response) == ["goal.updated", "goal.created"]  # not the other goal's


@pytest.mark.parametrize(
    "query",
    [
        {"since": "0001-01-01"},
        {"until": "9999-12-31"},
        {"since": "2026-03-02", "until": "2026-03-01"},
        {"since": "yesterday"},
        {"action": "sla.hacked"},
        {"actor": "nobody"},
        {"target_id": "3"},
        {"page": "0"},
        {"page": "999999"},
    ],
)
def test_bad_filters_are_refused_with_a_400_that_says_why(
    client: Client, logged: Scene, query: dict
) -> None:
    client.force_login(logged.max)
    response = client.get(reverse("audit-list"), query)
    assert response.status_code == 400
    assert 'class="errorlist' in response.content.decode() or "no such page" in (
        response.content.decode()
    )
    csv = client.get(reverse("audit-list"), {**query, "format": "csv"})
    if "page" not in query:
        assert csv.status_code == 400


def test_the_list_pages_without_counting(client: Client, logged: Scene, monkeypatch: Any) -> None:
    from alignment import views_audit

    monkeypatch.setattr(views_audit, "PER_PAGE", 2)
    client.force_login(logged.max)
    first = client.get(reverse("audit-list"), {"actor": ""})
    assert "page=2" in first.content.decode()
    last = AuditEntry.objects.count()
    pages = (last + 1) // 2
    end = client.get(reverse("audit-list"), {"page": pages})
    assert end.status_code == 200
    assert "Older" not in end.content.decode()


def test_the_csv_holds_every_entry_the_filters_show_in_safe_cells(
    client: Client, logged: Scene
) -> None:
    client.force_login(logged.max)
    response = client.get(reverse("audit-list"), {"format": "csv", "actor": "sally"})
    rows = csv_rows(response)
    assert rows[0][:4] == ["At", "Who", "Action", "Action code"]
    assert [r[3] for r in rows[1:]] == ["goal.created"]
    assert rows[1][1] == "sally"
    assert "name: — → =HYPERLINK(1)" in rows[1][7]  # inside a cell, not at its start
    sla = csv_rows(client.get(reverse("audit-list"), {"format": "csv", "action": "sla.created"}))
    assert sla[1][6] == "SLA v2" and "attempts: — → 3" in sla[1][7]


# --- the admin ------------------------------------------------------------------------------


def test_the_admin_shows_entries_read_only_even_to_a_superuser(staff: Client) -> None:
    with transaction.atomic():
        entry = _entry()
    change = reverse("admin:alignment_auditentry_change", args=[entry.pk])
    assert staff.get(reverse("admin:alignment_auditentry_changelist")).status_code == 200
    page = staff.get(change)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert staff.post(change, {"action": "sla.deleted", "note": "x"}).status_code == 403
    delete = reverse("admin:alignment_auditentry_delete", args=[entry.pk])
    assert staff.get(delete).status_code == 403
    assert staff.post(delete, {"post": "yes"}).status_code == 403
    assert staff.get(reverse("admin:alignment_auditentry_add")).status_code == 403
    bulk = staff.post(
        reverse("admin:alignment_auditentry_changelist"),
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    assert bulk.status_code in (200, 302)
    kept = AuditEntry.objects.get(pk=entry.pk)
    assert (kept.action, kept.note) == ("sla.created", "")


def test_deleting_an_sla_draft_in_the_admin_goes_through_the_audited_service(
    staff: Client, admin_user: object
) -> None:
    sla = draft(admin_user)
    url = reverse("admin:alignment_servicelevelagreement_delete", args=[sla.pk])
    assert staff.post(url, {"post": "yes"}).status_code == 302
    assert not ServiceLevelAgreement.objects.filter(pk=sla.pk).exists()
    entry = AuditEntry.objects.get(action="sla.deleted")
    assert (entry.actor, entry.target_id) == (admin_user, str(sla.pk))

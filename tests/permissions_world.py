"""One small company for the permissions matrix (tests/test_permissions.py): a user in every
role, and one record of every kind a URL names, each with the owner that makes the rule show.

The cast, by the matrix's columns: mia (marketing rep), manny (marketing manager, heads
nothing), max (head of marketing), sam (sales rep), sid (sales manager, heads nothing), sally
(head of sales), ada (admin). Two more people own what is *not* the reps': rita (another sales
rep) and mo (another marketing rep).

Built once per module inside a transaction that is rolled back at the end; each test runs in a
savepoint of it, so a write one cell makes is gone before the next.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files import File
from django.test import Client
from django.utils import timezone

from alignment.roles import Role, Team
from alignment.services.accounts import api_token_get_or_create, team_head_set, user_set_role

User = get_user_model()

#: The matrix's columns, in order: who asks.
COLUMNS = ("anon", "mrep", "mmgr", "mhead", "srep", "smgr", "shead", "admin")
CAST = {
    "mrep": ("mia", Role.MARKETING_REP),
    "mmgr": ("manny", Role.MARKETING_MANAGER),
    "mhead": ("max", Role.MARKETING_MANAGER),
    "srep": ("sam", Role.SALES_REP),
    "smgr": ("sid", Role.SALES_MANAGER),
    "shead": ("sally", Role.SALES_MANAGER),
    "admin": ("ada", Role.ADMIN),
    # not columns: the owners of the records that are not the reps' own
    "srep2": ("rita", Role.SALES_REP),
    "mrep2": ("mo", Role.MARKETING_REP),
}
IMPORTS = Path(__file__).resolve().parent / "fixtures" / "imports"


@dataclass
class MatrixWorld:
    users: dict[str, object] = field(default_factory=dict)  # by column (and srep2, mrep2)
    sessions: dict[str, str] = field(default_factory=dict)  # session keys, by column
    tokens: dict[str, str] = field(default_factory=dict)  # API token keys, by column
    ids: dict[str, object] = field(default_factory=dict)  # path parameters, by name

    def client(self, column: str) -> Client:
        """A page client signed in as `column` (its session was made once: no login here)."""
        client = Client()
        if column != "anon":
            client.cookies[settings.SESSION_COOKIE_NAME] = self.sessions[column]
        return client

    def api(self, column: str) -> Client:
        """An API client that sends `column`'s token (none for anon)."""
        if column == "anon":
            return Client()
        return Client(HTTP_AUTHORIZATION=f"Token {self.tokens[column]}")


def ago(**delta: float) -> datetime:
    return timezone.now() - timedelta(**delta)


def build() -> MatrixWorld:
    """Every record the matrix's URLs name. Called inside a transaction."""
    from alignment.models import RescoreJob
    from alignment.services import ideas, insights, meetings, shadowing, spotlights
    from alignment.services.campaign_ratings import campaign_rate
    from alignment.services.forecasts import revenue_forecast_set
    from alignment.services.goals import goal_check_in, goal_create
    from alignment.services.lead_definitions import lead_definition_approve, lead_definition_create
    from alignment.services.sla import sla_create
    from kpis.models import RecomputeJob
    from leads.imports.services import import_job_create, import_preset_save
    from leads.models import Campaign, Deal, Handoff, Lead, WhatIfRun
    from leads.services import handoff_reassign, handoff_reject
    from leads.services_disputes import dispute_raise, dispute_record_outcome
    from leads.what_if import what_if_start
    from tests.conftest import World

    w = MatrixWorld()
    for column, (username, role) in CAST.items():
        user = User.objects.create_user(username=username, password="pw", first_name=username)
        user_set_role(user=user, role=role)
        w.users[column] = user
        w.tokens[column] = api_token_get_or_create(user=user).key
    admin = w.users["admin"]
    admin.is_staff = admin.is_superuser = True
    admin.save()
    for column in COLUMNS[1:]:
        client = Client()
        client.force_login(w.users[column])
        w.sessions[column] = client.cookies[settings.SESSION_COOKIE_NAME].value
    team_head_set(team=Team.MARKETING, user=w.users["mhead"])
    team_head_set(team=Team.SALES, user=w.users["shead"])
    mia, sam, rita, mo = (w.users[c] for c in ("mrep", "srep", "srep2", "mrep2"))
    max_, sally = w.users["mhead"], w.users["shead"]

    # the agreements: a signed lead definition, and a draft of each kind to edit and approve
    signed = lead_definition_create(
        by=max_, effective_from=ago(days=60), criteria="Fits.", mql_threshold=50,
        rules=[{"field": "employees", "operator": "gte", "value": 50, "points": 60}],
    )  # fmt: skip
    for head in (max_, sally):
        signed = lead_definition_approve(definition=signed, by=head, now=ago(days=60))
    draft_definition = lead_definition_create(
        by=max_, effective_from=ago(days=1), criteria="Fits better.", mql_threshold=40, rules=[]
    )
    draft_sla = sla_create(
        by=max_, effective_from=ago(days=1), first_contact_hours=Decimal(8), attempts=3,
        attempt_spacing_days=Decimal(2), monthly_sal_commitment=20,
    )  # fmt: skip
    w.ids.update(
        in_effect=signed.pk,
        definition=draft_definition.pk,
        definition_v=draft_definition.version,
        sla=draft_sla.pk,
        sla_v=draft_sla.version,
    )

    # the funnel: sam's and rita's pending handoffs, sam's rejections (one disputed), a won deal
    world = World()
    world.campaign("Spring fair", external_id="fair", starts_on=str(ago(days=30).date()))
    for lead, owner in [("L-sam", "sam"), ("L-rita", "rita"), ("L-rej", "sam"),
                        ("L-dis", "sam"), ("L-dis2", "sam"), ("L-won", "sam")]:  # fmt: skip
        world.lead(ago(days=10).isoformat(), external_id=lead, campaign="fair", owner=owner)
        world.touch(lead, "fair", ago(days=10).isoformat())
        world.stage(lead, "mql", ago(days=9).isoformat())
    world.attempt("L-sam", ago(days=8).isoformat(), actor="sam")
    world.attempt("L-rita", ago(days=8).isoformat(), actor="rita")
    handoff = {h.lead.external_id: h for h in Handoff.objects.select_related("lead")}
    for lead in ("L-rej", "L-dis", "L-dis2"):
        handoff_reject(handoff=handoff[lead], by=sam, reason="no_budget", feedback="No budget.")
    world.stage("L-won", "sal", ago(days=8).isoformat(), actor="sam")
    world.deal("L-won", 5000, ago(days=7).isoformat(), status="won",
               closed_at=ago(days=2).isoformat(), external_id="D-won")  # fmt: skip
    dispute = dispute_raise(handoff=Handoff.objects.get(pk=handoff["L-dis"].pk), by=mia,
                            comment="They have budget.")  # fmt: skip
    awaiting = dispute_raise(handoff=Handoff.objects.get(pk=handoff["L-dis2"].pk), by=mia,
                             comment="They have budget too.")  # fmt: skip
    awaiting = dispute_record_outcome(dispute=awaiting, by=max_, outcome="upheld", note="")
    w.ids.update(
        lead_sam=Lead.objects.get(external_id="L-sam").pk,
        lead_rita=Lead.objects.get(external_id="L-rita").pk,
        handoff_sam=handoff["L-sam"].pk,
        handoff_rita=handoff["L-rita"].pk,
        handoff_rejected=handoff["L-rej"].pk,
        dispute=dispute.pk,
        dispute_awaiting=awaiting.pk,  # the head of marketing recorded it: sales confirms
    )
    campaign = Campaign.objects.get(external_id="fair")
    w.ids["campaign_pk"] = campaign.pk
    w.ids["rating_sam"] = campaign_rate(campaign=campaign, by=sam, rating=3).pk
    w.ids["rating_rita"] = campaign_rate(campaign=campaign, by=rita, rating=2).pk

    # goals, jobs, an import
    today = timezone.localdate()
    goal = goal_create(
        by=max_, name="SALs", metric="sals", target=Decimal(10), period="month",
        period_start=today.replace(day=1), specific="Ten SALs.",
    )  # fmt: skip
    w.ids["goal"] = goal.pk
    run = what_if_start(definition=draft_definition, by=max_)
    WhatIfRun.objects.filter(pk=run.pk).update(status=WhatIfRun.Status.DONE)  # a new one starts
    w.ids["what_if"] = run.pk
    w.ids["recompute_job"] = RecomputeJob.objects.create(since=today, until=today).pk
    w.ids["rescore_job"] = RescoreJob.objects.create(definition=signed).pk
    with (IMPORTS / "hubspot-contacts.csv").open("rb") as handle:
        job = import_job_create(
            kind="leads", upload=File(handle, name="contacts.csv"), filename="contacts.csv",
            by=max_,
        )  # fmt: skip
    w.ids["import"] = job.pk
    w.ids["import_mapping"] = job.mapping

    # working together: what the reps made, and what others made
    start = ago(days=3).replace(second=0, microsecond=0)
    meeting_mia = meetings.meeting_create(
        kind="weekly_alignment", starts_at=start, ends_at=start + timedelta(hours=1),
        attendees=[mia, rita], by=mia, title="Weekly",
    )  # fmt: skip
    w.ids["meeting"] = meeting_mia.pk
    item = meetings.action_item_add(
        meeting=meeting_mia, text="Call back", owner=rita, due_on=today, by=mia
    )
    w.ids["action_item"] = item.pk
    draft = ideas.idea_create(by=mia, title="A draft")
    w.ids["idea_draft"] = draft.pk
    opened = ideas.idea_open(idea=ideas.idea_create(by=mo, title="Open one"), by=mo)
    w.ids["idea_open"] = opened.pk
    voted = ideas.idea_open(idea=ideas.idea_create(by=mo, title="Voted one"), by=mo)
    for column in COLUMNS[1:]:  # everyone voted: taking a vote back has one to take
        ideas.idea_vote(idea=voted, by=w.users[column])
    w.ids["idea_voted"] = voted.pk
    insight = insights.insight_post(by=rita, kind="objection", text="Too expensive.")
    w.ids["insight"] = insight.pk
    w.ids["insight_sam"] = insights.insight_post(by=sam, kind="question", text="SSO?").pk
    answered = insights.insight_post(by=rita, kind="question", text="Do you integrate?")
    insights.insight_answer(insight=answered, by=mo, answer="used", text="In the FAQ.")
    w.ids["insight_answered"] = answered.pk
    deal = Deal.objects.get(external_id="D-won")
    w.ids["spotlight"] = spotlights.spotlight_create(
        by=mo, title="A win", story="Together.", deal=deal, people=[mo, rita]
    ).pk
    ours = spotlights.spotlight_create(
        by=mia, title="Our win", story="Together.", deal=deal, people=[mia, sam]
    )
    for column in COLUMNS[1:]:  # everyone thanked: taking thanks back has some to take
        spotlights.spotlight_thank(spotlight=ours, by=w.users[column])
    w.ids["spotlight_mia"] = ours.pk
    two_hours = timedelta(hours=2)
    w.ids["shadowing"] = shadowing.shadowing_schedule(
        by=mo, person=mo, host=rita, starts_at=start, ends_at=start + two_hours
    ).pk
    w.ids["shadowing_mia"] = shadowing.shadowing_schedule(
        by=mia, person=mia, host=sam, starts_at=start, ends_at=start + two_hours
    ).pk
    done = shadowing.shadowing_schedule(
        by=mo, person=mo, host=rita, starts_at=start - two_hours, ends_at=start
    )
    w.ids["shadowing_done"] = shadowing.shadowing_log(session=done, by=mo, learned="Much.").pk

    # what pages print besides: a comment, tags, a check-in, a forecast, a reassignment there
    # and back, a saved import preset
    ideas.idea_comment(idea=opened, by=sam, body="Try it at the fair.")
    insights.insight_post(by=rita, kind="objection", text="Slow setup.", tags=["setup"])
    goal_check_in(goal=goal, by=max_, status="on_track", note="Going well.")
    next_month = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    revenue_forecast_set(period="month", period_start=next_month, amount=Decimal(9000), by=max_,
                         note="Fair season.")  # fmt: skip
    for to in (rita, sam):
        handoff_reassign(handoff=Handoff.objects.get(pk=handoff["L-sam"].pk), to=to, by=sally,
                         note="Covering.")  # fmt: skip
    import_preset_save(name="Our CRM", kind="leads", by=max_,
                       mapping={"external_id": "ID", "created_at": "Opened"})  # fmt: skip
    return w

"""CSV import jobs (leads.imports.services): each preset's rows become the records they say, a
re-import creates nothing, rejected rows are named and come back as a file that imports, a
check writes nothing, a run that dies resumes without duplicates, progress of a large file."""

from __future__ import annotations

import csv
import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils import timezone

from alignment.roles import Role
from leads.imports import services
from leads.imports.reading import cell_problem
from leads.imports.selectors import (
    import_job_fields,
    import_job_get,
    import_job_preview,
    import_jobs_recent,
    import_presets_available,
    import_rejected_rows_csv,
    import_rejections,
)
from leads.imports.services import (
    import_job_configure,
    import_job_create,
    import_job_dispatch,
    import_job_is_stale,
    import_job_resume,
    import_job_run,
    import_job_start,
    import_preset_save,
)
from leads.models import (
    Campaign,
    Channel,
    Deal,
    Handoff,
    ImportJob,
    ImportPreset,
    Lead,
    StageEvent,
    Touch,
)
from leads.tasks import import_run_task
from tests.conftest import World
from tests.leads.imports.samples import fixture_path, imported, run, upload

pytestmark = pytest.mark.django_db


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(settings.TIME_ZONE))


def counts() -> tuple[int, ...]:
    return (
        Campaign.objects.count(),
        Lead.objects.count(),
        Touch.objects.count(),
        StageEvent.objects.count(),
        Deal.objects.count(),
    )


def problems(job: ImportJob) -> list[str]:
    return [
        cell_problem(r.row, e["column"], e["message"])
        for r in import_rejections(job=job)
        for e in r.errors
    ]


# --- each preset's rows -------------------------------------------------------------------------


def test_a_hubspot_contacts_export_becomes_leads_with_channels_first_touches_and_stage_events(
    owners: tuple[object, object],
) -> None:
    job = imported("hubspot-contacts.csv")
    assert (job.status, job.preset, job.total, job.done) == ("done", "hubspot-contacts", 6, 6)
    assert (job.valid, job.rejected, job.created, job.updated) == (6, 0, 6, 0)
    ines = Lead.objects.select_related("campaign", "owner").get(external_id="hubspot-contact-101")
    assert (ines.name, ines.email, ines.company) == (
        "Ines Moreau", "ines.moreau@example.com", "Fjordline Tools",
    )  # fmt: skip
    assert ines.created_at == local(2018, 3, 5, 9, 15)
    assert ines.owner.username == "sam"  # "Sam Rep", by full name
    assert ines.attributes == {"lifecycle_stage": "customer"}
    assert (ines.campaign.external_id, ines.campaign.channel_id) == (
        "hubspot-source-organic_search-google", "organic_search",
    )  # fmt: skip
    assert list(ines.touches.values_list("campaign__external_id", "occurred_at")) == [
        ("hubspot-source-organic_search-google", ines.created_at)
    ]
    events = list(ines.stage_events.values_list("stage", "occurred_at", "source"))
    assert events == [
        ("inquiry", local(2018, 3, 5, 9, 15), "import"),
        ("mql", local(2018, 3, 12, 14), "import"),
        ("sql", local(2018, 3, 20, 10, 30), "import"),
        ("opportunity", local(2018, 4, 2, 11), "import"),
        ("won", local(2018, 5, 10, 16, 45), "import"),
    ]
    assert ines.stage == "won"
    assert ines.handoffs.get().status == "accepted"  # the MQL, accepted by the SQL after it
    stages = dict(Lead.objects.values_list("external_id", "stage"))
    assert stages == {
        "hubspot-contact-101": "won",
        "hubspot-contact-102": "mql",
        "hubspot-contact-103": "sql",
        "hubspot-contact-104": "inquiry",
        "hubspot-contact-105": "inquiry",
        "hubspot-contact-106": "opportunity",
    }
    owner_of = dict(Lead.objects.values_list("external_id", "owner__username"))
    assert owner_of["hubspot-contact-102"] == "sam" and owner_of["hubspot-contact-103"] == "ada"
    lone = Lead.objects.get(external_id="hubspot-contact-105")  # no source, no dates, no owner
    assert (lone.campaign, lone.owner, lone.stage_events.count(), lone.touches.count()) == (
        None, None, 0, 0,
    )  # fmt: skip


def test_under_a_lead_definition_imported_leads_are_scored_after_their_past_stages(
    owners: tuple[object, object], signed_definition: Callable[..., object]
) -> None:
    signed_definition(
        [{"field": "email", "operator": "contains", "value": "@example.", "points": 60}],
        threshold=50,
    )
    imported("hubspot-contacts.csv")
    system = dict(
        StageEvent.objects.filter(source="system").values_list("lead__external_id", "stage")
    )
    # 101 was an MQL in 2018 and won since: not handed off again today. 104 never got past
    # inquiry and reaches the threshold: handed off now. 105 has no e-mail: not an MQL.
    assert system == {"hubspot-contact-104": "mql"}
    ines = Lead.objects.get(external_id="hubspot-contact-101")
    assert (ines.stage, ines.score, ines.handoffs.count()) == ("won", 60, 1)
    assert Lead.objects.get(external_id="hubspot-contact-104").stage == "mql"


def test_unknown_source_labels_become_channels_and_each_source_a_campaign_spanning_its_leads(
    owners: tuple[object, object],
) -> None:
    before = set(Channel.objects.values_list("key", flat=True))
    imported("hubspot-contacts.csv")
    created = set(Channel.objects.values_list("key", flat=True)) - before
    assert created == {"organic_search", "email_marketing", "social_media", "offline"}
    assert Channel.objects.get(key="social_media").label == "Social media"
    assert Campaign.objects.get(external_id="hubspot-source-paid_search-adwords").channel_id == (
        "paid_search"
    )
    imported("contacts-utf8-bom.csv")  # organic search again, on 2 May
    campaign = Campaign.objects.get(external_id="hubspot-source-organic_search-bing")
    assert (campaign.name, campaign.starts_on, campaign.ends_on) == (
        "Organic search: bing (HubSpot)", date(2018, 5, 2), date(2018, 5, 2),
    )  # fmt: skip


def test_a_campaign_the_import_makes_up_keeps_what_someone_gave_it_and_widens_its_dates(
    owners: tuple[object, object], world: World
) -> None:
    world.campaign(
        "Google, organic",
        external_id="hubspot-source-organic_search-google",
        channel="seo",
        starts_on="2018-03-06",
        ends_on="2018-03-31",
        cost=500,
    )
    imported("hubspot-contacts.csv")
    campaign = Campaign.objects.get(external_id="hubspot-source-organic_search-google")
    assert (campaign.name, campaign.channel_id, campaign.cost) == (
        "Google, organic", "seo", Decimal(500),
    )  # fmt: skip
    assert (campaign.starts_on, campaign.ends_on) == (date(2018, 3, 5), date(2018, 3, 31))


def test_a_made_up_campaign_runs_on_the_local_days_of_its_leads(
    tmp_path: Path, settings: object
) -> None:
    settings.TIME_ZONE = "Europe/Berlin"
    path = tmp_path / "contacts.csv"
    path.write_text(
        "Record ID,Create Date,Original Source\n"
        "1,2018-03-05T23:30:00Z,ORGANIC_SEARCH\n"  # 6 March, 00:30 in Berlin
        "2,2018-03-08T10:00:00-05:00,ORGANIC_SEARCH\n",  # 8 March, 16:00 in Berlin
        encoding="utf-8",
    )
    imported(path, preset="hubspot-contacts")
    campaign = Campaign.objects.get(external_id="hubspot-source-organic_search")
    assert (campaign.starts_on, campaign.ends_on) == (date(2018, 3, 6), date(2018, 3, 8))


def test_hubspot_deals_find_their_contacts_by_record_id_email_or_name_and_email(
    owners: tuple[object, object],
) -> None:
    imported("hubspot-contacts.csv")
    job = imported("hubspot-deals.csv", kind="deals")
    assert (job.preset, job.valid, job.rejected, job.created) == ("hubspot-deals", 4, 0, 4)
    deals = {
        d.external_id: (d.lead.external_id, d.amount, d.status, d.closed_at)
        for d in Deal.objects.select_related("lead")
    }
    assert deals == {
        "hubspot-deal-9": ("hubspot-contact-101", Decimal("12500"), "won", local(2018, 5, 10, 16, 45)),
        "hubspot-deal-10": ("hubspot-contact-102", Decimal("4800"), "lost", local(2018, 4, 30, 12)),
        # open: the close date HubSpot gives an open deal is only expected, and dropped
        "hubspot-deal-11": ("hubspot-contact-106", Decimal("1750.50"), "open", None),
        "hubspot-deal-12": ("hubspot-contact-103", Decimal("0"), "open", None),  # no amount
    }  # fmt: skip


def test_a_deal_whose_contact_was_not_imported_is_rejected_naming_the_column(
    owners: tuple[object, object],
) -> None:
    job = imported("hubspot-deals.csv", kind="deals", mode="check")
    assert (job.status, job.valid, job.rejected) == ("checked", 0, 4)
    assert problems(job) == [
        'Row 2, column "Associated Contact": no contact with Record ID 101 has been imported',
        'Row 3, column "Associated Contact": no contact with the e-mail tomas.berg@example.com '
        "has been imported",
        'Row 4, column "Associated Contact": no contact with the e-mail jon.ek@example.com '
        "has been imported",
        'Row 5, column "Associated Contact": no contact with Record ID 103 has been imported',
    ]


def test_salesforce_leads_and_their_opportunities(owners: tuple[object, object]) -> None:
    job = imported("salesforce-leads.csv")
    assert (job.preset, job.date_order, job.valid, job.rejected) == (
        "salesforce-leads",
        "mdy",
        5,
        0,
    )
    greta = Lead.objects.select_related("campaign", "owner").get(
        external_id="salesforce-lead-00Q5e00000AbCdE1"
    )
    assert greta.created_at == local(2018, 3, 15, 10, 30)
    assert greta.attributes == {"lead_status": "Closed - Converted"}
    assert (greta.campaign.external_id, greta.campaign.channel_id) == (
        "salesforce-source-web", "web",
    )  # fmt: skip
    assert list(greta.stage_events.values_list("stage", "occurred_at")) == [
        ("sql", local(2018, 4, 2))
    ]
    assert greta.owner.username == "sam"
    channels = set(Campaign.objects.values_list("channel_id", flat=True))
    assert channels == {"web", "phone_inquiry", "partner_referral", "purchased_list"}
    web = Campaign.objects.get(external_id="salesforce-source-web")
    assert (web.starts_on, web.ends_on) == (date(2018, 3, 15), date(2018, 3, 21))
    job = imported("salesforce-opportunities.csv", kind="deals")
    assert (job.preset, job.valid, job.rejected) == ("salesforce-opportunities", 3, 0)
    deals = {
        d.external_id: (d.lead.external_id, d.amount, d.status, d.closed_at)
        for d in Deal.objects.select_related("lead")
    }
    assert deals == {
        "salesforce-opportunity-0065e00000XyZaB1": (
            "salesforce-lead-00Q5e00000AbCdE1", Decimal(18000), "won", local(2018, 5, 28),
        ),
        "salesforce-opportunity-0065e00000XyZaB2": (
            "salesforce-lead-00Q5e00000AbCdE5", Decimal(6500), "lost", local(2018, 6, 15),
        ),
        "salesforce-opportunity-0065e00000XyZaB3": (
            "salesforce-lead-00Q5e00000AbCdE5", Decimal(9000), "open", None,
        ),
    }  # fmt: skip


def test_campaigns_by_manual_mapping_with_channels_no_one_has_seen_and_local_numbers() -> None:
    job = imported("campaigns-semicolon.csv", kind="campaigns")
    assert (job.preset, job.delimiter, job.date_order, job.valid) == ("", ";", "dmy", 3)
    campaigns = {
        c.external_id: (c.channel_id, c.starts_on, c.ends_on, c.cost)
        for c in Campaign.objects.all()
    }
    assert campaigns == {
        "spring-partners-2018": ("partner_referral", date(2018, 3, 1), date(2018, 5, 31), Decimal("1234.56")),
        "direct-2018": ("direct_traffic", date(2018, 1, 1), date(2018, 12, 31), Decimal(2000)),
        "webinar-q2-2018": ("webinar", date(2018, 4, 1), date(2018, 6, 30), Decimal(0)),
    }  # fmt: skip
    assert Channel.objects.get(key="partner_referral").label == "Partner referral"


@pytest.mark.parametrize(
    ("name", "encoding", "delimiter"),
    [
        ("contacts-utf8-bom.csv", "utf-8-sig", ","),
        ("contacts-cp1252.csv", "cp1252", ";"),
        ("contacts-tab.tsv", "utf-8", "\t"),
        ("contacts-quoted-newlines.csv", "utf-8", ","),
    ],
)
def test_files_as_people_have_them_import_whole(
    owners: tuple[object, object], name: str, encoding: str, delimiter: str
) -> None:
    job = imported(name)
    assert (job.encoding, job.delimiter, job.preset) == (encoding, delimiter, "hubspot-contacts")
    assert job.valid == job.total == Lead.objects.count() > 1
    assert job.rejected == 0


def test_cp1252_names_and_day_first_dates_arrive_as_written(owners: tuple[object, object]) -> None:
    imported("contacts-cp1252.csv")
    juergen = Lead.objects.get(external_id="hubspot-contact-401")
    assert (juergen.name, juergen.company) == ("Jürgen Müller", "Café Zürich GmbH")
    assert juergen.created_at == local(2018, 3, 15, 10, 30)
    assert juergen.campaign.name == "Offline: Messe München (HubSpot)"


def test_a_quoted_newline_stays_in_its_cell(owners: tuple[object, object]) -> None:
    imported("contacts-quoted-newlines.csv")
    assert Lead.objects.get(external_id="hubspot-contact-701").company == "Nordlicht\nDesign Studio"


def test_a_file_whose_dates_read_both_ways_waits_for_the_user_to_say_which(
    owners: tuple[object, object],
) -> None:
    job = upload("contacts-ambiguous-dates.csv")
    assert (job.dates_ambiguous, job.date_order) == (True, "")
    with pytest.raises(ValidationError, match="day first or month first"):
        import_job_start(job=job, mode="check", queue=False)
    with pytest.raises(ValidationError, match="say whether the day or the month comes first"):
        import_job_configure(job=job, mapping=job.mapping)
    job = import_job_configure(job=job, mapping=job.mapping, date_order="dmy")
    run(job)
    assert Lead.objects.get(external_id="hubspot-contact-601").created_at == local(2018, 4, 3, 9)
    assert Lead.objects.get(external_id="hubspot-contact-603").created_at == local(
        2018, 1, 2, 14, 30
    )


# --- a re-import, rejected rows -----------------------------------------------------------------


def test_a_reimport_creates_nothing(owners: tuple[object, object]) -> None:
    imported("hubspot-contacts.csv")
    imported("hubspot-deals.csv", kind="deals")
    before = counts()
    contacts = imported("hubspot-contacts.csv")
    deals = imported("hubspot-deals.csv", kind="deals")
    assert counts() == before
    assert (contacts.created, contacts.updated, deals.created, deals.updated) == (0, 6, 0, 4)


def test_the_rows_of_a_hubspot_export_that_cannot_be_read_are_rejected_with_row_and_column(
    owners: tuple[object, object],
) -> None:
    job = imported("hubspot-contacts-two-bad-rows.csv")
    assert (job.status, job.valid, job.rejected, job.created) == ("done", 3, 2, 3)
    assert problems(job) == [
        "Row 3, column \"Create Date\": cannot read '31/31/2018' as a date",
        "Row 5, column \"Contact owner\": no user has the username, e-mail or name 'Olga Unknown'",
    ]
    assert set(Lead.objects.values_list("external_id", flat=True)) == {
        "hubspot-contact-201", "hubspot-contact-203", "hubspot-contact-205",
    }  # fmt: skip
    assert not Campaign.objects.filter(external_id="hubspot-source-direct_traffic").exists()
    assert import_rejections(job=job)[0].values[5] == "31/31/2018"  # the cells as read


def test_the_rejected_rows_download_fixed_imports_and_its_error_column_is_ignored(
    owners: tuple[object, object], tmp_path: Path
) -> None:
    job = imported("hubspot-contacts-two-bad-rows.csv")
    lines = list(import_rejected_rows_csv(job=job))
    assert lines[0].startswith("\ufeffRecord ID,Email,") and lines[0].endswith(",error\r\n")
    rows = list(csv.reader(line.lstrip("\ufeff") for line in lines))
    assert [row[0] for row in rows] == ["Record ID", "202", "204"]
    assert rows[1][-1] == "Create Date: cannot read '31/31/2018' as a date"
    assert rows[2][-1] == "Contact owner: no user has the username, e-mail or name 'Olga Unknown'"
    path = tmp_path / "fixed.csv"
    path.write_text(
        "".join(lines).replace("31/31/2018", "2018-04-03 09:00").replace("Olga Unknown", "sam"),
        encoding="utf-8",
    )
    fixed = imported(path)
    assert (fixed.preset, fixed.valid, fixed.rejected, fixed.created) == (
        "hubspot-contacts",
        2,
        0,
        2,
    )
    assert Lead.objects.get(external_id="hubspot-contact-202").created_at == local(2018, 4, 3, 9)
    assert Lead.objects.count() == 5


def test_a_rejected_file_rejected_again_reuses_its_error_column(
    owners: tuple[object, object], tmp_path: Path
) -> None:
    job = imported("hubspot-contacts-two-bad-rows.csv")
    path = tmp_path / "again.csv"
    path.write_text("".join(import_rejected_rows_csv(job=job)), encoding="utf-8")
    again = imported(path)
    assert again.rejected == 2
    header, *rows = csv.reader(
        line.lstrip("\ufeff") for line in import_rejected_rows_csv(job=again)
    )
    assert header.count("error") == 1 and len(rows[0]) == len(header)


def test_a_record_a_chunk_repeats_is_rejected_on_its_later_row(tmp_path: Path) -> None:
    path = tmp_path / "twice.csv"
    path.write_text(
        "external_id,created_at\nL1,2018-01-01\nL2,2018-01-02\nL1,2018-01-03\n", encoding="utf-8"
    )
    job = imported(path)
    assert problems(job) == ['Row 4, column "external_id": repeats row 2 (the same lead)']
    assert Lead.objects.get(external_id="L1").created_at == local(2018, 1, 1)


def test_a_row_the_ingest_service_refuses_is_rejected_with_the_file_s_column_and_the_rest_written(
    tmp_path: Path, world: World
) -> None:
    world.lead("2018-01-01T09:00:00", external_id="L1")
    path = tmp_path / "deals.csv"
    path.write_text(
        "Deal,Lead,Value,Opened,Closed,Status\n"
        "D1,L1,100,2018-02-01,2018-01-15,won\n"  # closes before it opens
        "D2,L9,100,2018-02-01,,open\n"  # no such lead
        "D3,L1,1.234,5,2018-02-01,,open\n"  # one cell too many
        'D4,L1,"1.234,5",2018-02-01,2018-03-01,Won\n',
        encoding="utf-8",
    )
    job = upload(path, kind="deals")
    mapping = {"external_id": "Deal", "lead": "Lead", "amount": "Value", "created_at": "Opened",
               "closed_at": "Closed", "status": "Status"}  # fmt: skip
    job = run(import_job_configure(job=job, mapping=mapping))
    assert problems(job) == [
        'Row 2, column "Closed": Must not be before created_at.',
        "Row 3, column \"Lead\": No lead with external_id 'L9'.",
        "Row 4: the row has 7 cells; the header names 6 columns",
        "Row 4, column \"Opened\": cannot read '5' as a date",  # every problem of the row
    ]
    assert list(Deal.objects.values_list("external_id", "amount", "status")) == [
        ("D4", Decimal("1234.5"), "won")
    ]


def test_a_rejection_imported_by_marketing_decides_nothing_and_names_the_actor_column(
    tmp_path: Path, world: World, make_user: Callable[..., object], sales_rep: object
) -> None:
    """As through the API: a `rejected` stage event decides a sales handoff only as sales
    would, its actor or else who imports it (the head of marketing could reject one)."""
    world.lead("2026-03-01T09:00:00", external_id="L1", owner="sam")
    world.stage("L1", "mql", "2026-03-02T09:00:00")
    path = tmp_path / "stages.csv"
    path.write_text(
        "Id,Lead,Stage,At,Reason,By\n"
        "SE1,L1,rejected,2026-03-03 09:00,no_budget,\n"  # the importer decides: marketing
        "SE2,L1,rejected,2026-03-03 09:00,no_budget,sam\n",  # the sales rep who did
        encoding="utf-8",
    )
    mapping = {"external_id": "Id", "lead": "Lead", "stage": "Stage", "occurred_at": "At",
               "reason": "Reason", "actor": "By"}  # fmt: skip
    head_of_marketing = make_user("maria", Role.MARKETING_MANAGER)
    job = upload(path, kind="stage_events", by=head_of_marketing)
    job = run(import_job_configure(job=job, mapping=mapping))
    [problem] = problems(job)
    assert problem.startswith('Row 2, column "By": Only sales decides a handoff: maria')
    handoff = Handoff.objects.get(lead__external_id="L1")
    assert (handoff.status, handoff.decided_by) == ("rejected", sales_rep)
    assert not StageEvent.objects.filter(external_id="SE1").exists()


def test_a_check_writes_nothing_but_counts_and_keeps_the_rejected_rows(
    owners: tuple[object, object],
) -> None:
    before = counts()
    job = imported("hubspot-contacts-two-bad-rows.csv", mode="check")
    assert (job.status, job.valid, job.rejected, job.created) == ("checked", 3, 2, 3)
    assert counts() == before
    assert len(problems(job)) == 2
    job = run(job, mode="import")  # the same file, imported: the check's rows are replaced
    assert (job.status, job.valid, job.rejected) == ("done", 3, 2)
    assert import_rejections(job=job).count() == 2


# --- the job ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "preset", "message"),
    [
        ("bad-utf16.csv", "", "The file is UTF-16 text, not UTF-8"),
        ("bad-encoding.csv", "", "neither UTF-8 nor Windows-1252"),
        ("bad-workbook.csv", "", "an Excel workbook"),
        ("bad-no-header.csv", "", "the first row must name the columns"),
        ("bad-duplicate-header.csv", "", 'names two columns "Email"'),
        ("bad-missing-column.csv", "hubspot-contacts", "The file has no column “Create Date”"),
        (
            "salesforce-opportunities.csv",
            "hubspot-contacts",
            "The file has no column “Record ID”, “Create Date”: the HubSpot contacts preset "
            "needs them",
        ),
        ("hubspot-contacts.csv", "salesforce-leads", "no preset “salesforce-leads” for deals"),
    ],
)
def test_a_bad_file_is_refused_with_a_clear_message_and_nothing_kept(
    name: str, preset: str, message: str
) -> None:
    kind = "deals" if preset == "salesforce-leads" else "leads"
    before = _stored_files()
    with pytest.raises(ValidationError) as caught:
        upload(name, kind=kind, preset=preset)
    assert message in " ".join(caught.value.messages)
    assert not ImportJob.objects.exists()
    assert _stored_files() == before


def _stored_files() -> set[Path]:
    return {p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()}


def test_a_file_too_big_is_refused(settings: object) -> None:
    settings.IMPORT_MAX_BYTES = 100
    with pytest.raises(ValidationError, match="an import takes at most"):
        upload("hubspot-contacts.csv")


def test_an_unreadable_date_names_its_column_and_row(owners: tuple[object, object]) -> None:
    job = imported("bad-unreadable-date.csv", mode="check")
    assert problems(job) == [
        "Row 3, column \"Create Date\": cannot read '2018-02-30 10:00' as a date"
    ]


def test_the_mapping_is_checked_against_the_file_and_the_kind() -> None:
    job = upload("campaigns-semicolon.csv", kind="campaigns")
    with pytest.raises(ValidationError) as caught:
        import_job_configure(job=job, mapping={"external_id": "External ID", "name": "Nom"})
    assert caught.value.messages == [
        "The file has no column “Nom” (mapped to Name).",
        "Map a column to each required field: channel, starts_on, ends_on.",
    ]
    job.refresh_from_db()
    assert job.mapping["name"] == "Name"  # nothing changed


def test_a_mapping_saved_as_a_preset_maps_the_next_file_of_that_shape(tmp_path: Path) -> None:
    path = tmp_path / "crm.csv"
    path.write_text("ID;Opened;Where\nX1;03/04/2018;Webinar\n", encoding="utf-8")
    job = upload(path)
    job = import_job_configure(
        job=job,
        mapping={"external_id": "ID", "created_at": "Opened", "segment": "Where"},
        date_order="dmy",
        save_as="Our CRM",
    )
    assert job.preset == "Our CRM"
    saved = ImportPreset.objects.get(name="Our CRM")
    assert (saved.kind, saved.date_order, saved.base) == ("leads", "dmy", "")
    assert ("Our CRM", "Our CRM", False) in [
        (c.key, c.label, c.builtin) for c in import_presets_available(kind="leads")
    ]
    second = tmp_path / "crm2.csv"
    second.write_text("ID;Opened;Where\nX2;05/06/2018;Event\n", encoding="utf-8")
    job = run(upload(second, preset="Our CRM"))
    assert (job.preset, job.date_order, job.valid) == ("Our CRM", "dmy", 1)
    lead = Lead.objects.get(external_id="X2")
    assert (lead.created_at, lead.segment) == (local(2018, 6, 5), "Event")


def test_a_built_in_preset_saved_with_its_columns_renamed_reads_a_renamed_export(
    owners: tuple[object, object], tmp_path: Path
) -> None:
    path = tmp_path / "renamed.csv"
    path.write_text(
        "Contact,Created on,Source\n77,2018-03-05 09:00,PAID_SOCIAL\n", encoding="utf-8"
    )
    job = upload(path, preset="")
    mapping = {"record_id": "Contact", "created_at": "Created on", "original_source": "Source"}
    job = import_job_configure(
        job=job, mapping=mapping, preset="hubspot-contacts", save_as="HubSpot, our names"
    )
    assert ImportPreset.objects.get(name="HubSpot, our names").base == "hubspot-contacts"
    job = run(upload(path, preset="HubSpot, our names"))
    assert job.valid == 1
    assert Lead.objects.get(external_id="hubspot-contact-77").campaign.channel_id == "paid_social"


def test_a_preset_cannot_take_a_built_in_name_or_another_kind_s_name() -> None:
    with pytest.raises(ValidationError, match="is a built-in preset"):
        import_preset_save(name="hubspot-deals", kind="deals", mapping={})
    import_preset_save(
        name="Ours", kind="leads", mapping={"external_id": "ID", "created_at": "Opened"}
    )
    with pytest.raises(ValidationError, match="is for leads"):
        import_preset_save(
            name="Ours", kind="touches", mapping={"external_id": "ID", "lead": "L", "campaign": "C",
                                                    "occurred_at": "At"},
        )  # fmt: skip
    with pytest.raises(ValidationError, match="Map a column to each required field: created_at"):
        import_preset_save(name="Half", kind="leads", mapping={"external_id": "ID"})


def test_what_the_pages_read_of_a_job(owners: tuple[object, object]) -> None:
    job = upload("hubspot-contacts.csv")
    assert import_job_get(pk=job.pk) == job
    assert import_job_get(pk="not-a-uuid") is None
    assert list(import_jobs_recent()) == [job]
    preview = import_job_preview(job=job, rows=2)
    assert [row[0] for row in preview] == ["101", "102"]
    fields = import_job_fields(job=job)
    assert [f.column for f in fields[:2]] == ["Record ID", "Create Date"]  # required first
    assert [c.key for c in import_presets_available(kind="leads")] == [
        "hubspot-contacts", "salesforce-leads",
    ]  # fmt: skip


def test_a_job_already_running_is_not_started_again_unless_it_died(
    owners: tuple[object, object],
) -> None:
    job = import_job_start(job=upload("hubspot-contacts.csv"), mode="import", queue=False)
    with pytest.raises(ValidationError, match="This import is running"):
        import_job_start(job=job, mode="import", queue=False)
    with pytest.raises(ValidationError, match="This import is running"):
        import_job_resume(job=job)
    assert not import_job_is_stale(job)
    later = timezone.now() + timedelta(minutes=6)
    assert import_job_is_stale(job, later)
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=6))
    job = import_job_start(job=job, mode="import", queue=False)  # died: started afresh
    assert job.status == "queued"


def test_a_killed_import_resumes_where_it_stopped_without_duplicates(
    owners: tuple[object, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = services.chunk_import
    chunks: list[list[int]] = []

    def the_process_dies_in_the_second_chunk(**arguments: object) -> object:
        outcome = real(**arguments)  # the chunk's records are written…
        chunks.append([row.number for row in arguments["rows"]])
        if len(chunks) == 2:
            raise SystemExit("killed")  # …and the process dies before its commit
        return outcome

    monkeypatch.setattr(services, "chunk_import", the_process_dies_in_the_second_chunk)
    job = import_job_start(job=upload("hubspot-contacts.csv"), mode="import", queue=False)
    with pytest.raises(SystemExit):
        import_job_run(job_id=str(job.pk), chunk_rows=2)
    job.refresh_from_db()
    assert (job.status, job.cursor, job.done, job.created) == ("running", 2, 2, 2)
    assert 0 < job.progress < 1
    assert Lead.objects.count() == 2  # the first chunk; nothing of the second
    assert StageEvent.objects.count() == 7
    monkeypatch.setattr(services, "chunk_import", real)
    resumed = import_job_resume(job=job, now=timezone.now() + timedelta(minutes=6))
    assert resumed.status == "queued"
    job = import_job_run(job_id=str(job.pk), chunk_rows=2)
    assert (job.status, job.done, job.valid, job.created, job.updated) == ("done", 6, 6, 6, 0)
    assert counts() == (5, 6, 5, 15, 0)  # as one run makes them: nothing twice
    assert chunks == [[2, 3], [4, 5]]


def test_a_failed_job_resumes_and_a_finished_one_does_not(
    owners: tuple[object, object],
) -> None:
    job = import_job_start(job=upload("hubspot-contacts.csv"), mode="import", queue=False)
    job = services.import_job_fail(job_id=job.pk, error="database went away")
    assert (job.status, job.error) == ("failed", "database went away")
    job = import_job_run(job_id=str(import_job_resume(job=job).pk))
    assert (job.status, job.valid) == ("done", 6)
    with pytest.raises(ValidationError, match="Only an import that failed or stopped"):
        import_job_resume(job=job)
    assert import_job_run(job_id=str(job.pk)).finished_at == job.finished_at  # not run again


def test_another_worker_that_committed_the_next_chunk_first_stops_this_one(
    owners: tuple[object, object],
) -> None:
    job = import_job_start(job=upload("hubspot-contacts.csv"), mode="import", queue=False)

    def the_other_worker_commits_the_second_chunk(job: ImportJob) -> None:
        if job.cursor == 2:
            ImportJob.objects.filter(pk=job.pk).update(cursor=4, done=4)

    stopped = import_job_run(
        job_id=str(job.pk), chunk_rows=2, progress=the_other_worker_commits_the_second_chunk
    )
    assert (stopped.status, stopped.cursor, stopped.done) == ("running", 4, 4)
    assert Lead.objects.count() == 2  # this worker wrote its first chunk only


def test_the_task_retries_and_marks_the_job_failed_once_its_retries_are_spent(
    owners: tuple[object, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    from celery.exceptions import Retry

    job = import_job_start(job=upload("hubspot-contacts.csv"), mode="import", queue=False)

    def broken(**arguments: object) -> ImportJob:
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "import_job_run", broken)
    with pytest.raises(Retry):
        import_run_task.apply(args=[str(job.pk)], throw=True)
    job.refresh_from_db()
    assert job.status == "queued"
    with pytest.raises(RuntimeError):
        import_run_task.apply(args=[str(job.pk)], retries=import_run_task.max_retries, throw=True)
    job.refresh_from_db()
    assert (job.status, job.error) == ("failed", "database went away")


def test_starting_queues_the_task_after_commit_which_runs_the_job(
    owners: tuple[object, object], django_capture_on_commit_callbacks: object
) -> None:
    job = upload("hubspot-contacts.csv")
    with django_capture_on_commit_callbacks(execute=True):
        import_job_start(job=job, mode="import")
    job.refresh_from_db()
    assert (job.status, job.valid) == ("done", 6)


def test_without_a_broker_the_run_goes_in_a_thread_of_the_process(
    settings: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.KPI_RECOMPUTE_IN_BACKGROUND = True
    ran: list[str] = []
    release = threading.Event()

    def run_here(*, job_id: str) -> None:
        release.wait(5)
        ran.append(threading.current_thread().name)

    monkeypatch.setattr(services, "import_job_run", run_here)
    monkeypatch.setattr(services.connections, "close_all", lambda: None)
    import_job_dispatch(job_id="a-job")
    assert ran == []  # the caller (the page's request) returned before the run
    release.set()
    for thread in threading.enumerate():
        if thread.name == services.THREAD_NAME:
            thread.join(5)
    assert ran == [services.THREAD_NAME]


# --- a large file -------------------------------------------------------------------------------


def test_a_100000_row_import_reports_its_progress_chunk_by_chunk(tmp_path: Path) -> None:
    path = tmp_path / "many.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write("external_id,created_at\n")
        out.writelines(f"lead-{n},2018-03-05 09:15\n" for n in range(100_000))
    job = upload(path)
    assert job.total == 100_000
    seen: list[tuple[int, int, float]] = []
    job = import_job_start(job=job, mode="import", queue=False)
    job = import_job_run(
        job_id=str(job.pk),
        chunk_rows=25_000,
        progress=lambda j: seen.append((j.done, j.total, j.progress)),
    )
    assert seen == [
        (25_000, 100_000, 0.25),
        (50_000, 100_000, 0.5),
        (75_000, 100_000, 0.75),
        (100_000, 100_000, 1.0),
    ]
    assert (job.status, job.done, job.total, job.created) == ("done", 100_000, 100_000, 100_000)
    assert Lead.objects.count() == 100_000


def test_an_upload_from_memory_is_kept_as_a_file() -> None:
    job = import_job_create(
        kind="leads",
        upload=ContentFile(b"external_id,created_at\nM1,2018-01-01\n", name="x.csv"),
        filename="../../etc/passwd.csv",
        by=None,
    )
    assert job.filename == "../../etc/passwd.csv"  # kept as text only
    assert job.file.name.endswith(f"{job.pk}.csv") and job.file.name.startswith("imports/")
    assert run(job).valid == 1
    assert fixture_path("hubspot-contacts.csv").exists()

"""The presets (leads.imports.presets and the HubSpot and Salesforce ones): which preset a header
is, what a mapping lacks, and what a row becomes (pure: rows read through `Cells`)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from leads.imports.hubspot import contact_reference, deal_status
from leads.imports.presets import (
    BUILT_IN,
    mapping_guess,
    mapping_problems,
    preset_guess,
    preset_manual,
)
from leads.imports.reading import FileRow, file_shape
from leads.imports.rows import Cells, Context, Preset, Record, RowRejected
from leads.imports.salesforce import opportunity_status
from tests.leads.imports.samples import fixture_path

OWNERS = {"sam": "sam", "sam rep": "sam", "sam@example.com": "sam", "alex kim": None}


def header(name: str) -> list[str]:
    path = fixture_path(name)
    return file_shape(lambda: path.open("rb")).columns


def read(preset: Preset, row: dict[str, str], *, owners: dict | None = None) -> list[Record]:
    """A row given as {column: cell}, read with the preset's guessed mapping."""
    columns = list(row)
    cells = Cells(
        FileRow(5, list(row.values())),
        positions={c: i for i, c in enumerate(columns)},
        mapping=mapping_guess(preset, columns),
        context=Context(zone=UTC, owners=OWNERS if owners is None else owners),
    )
    return preset.records(cells)


@pytest.mark.parametrize(
    ("name", "kind", "preset"),
    [
        ("hubspot-contacts.csv", "leads", "hubspot-contacts"),
        ("contacts-cp1252.csv", "leads", "hubspot-contacts"),
        ("hubspot-deals.csv", "deals", "hubspot-deals"),
        ("salesforce-leads.csv", "leads", "salesforce-leads"),
        ("salesforce-opportunities.csv", "deals", "salesforce-opportunities"),
        ("campaigns-semicolon.csv", "campaigns", None),
        ("hubspot-contacts.csv", "deals", None),
    ],
)
def test_a_header_is_recognised_as_the_export_it_is(
    name: str, kind: str, preset: str | None
) -> None:
    guessed = preset_guess(kind, header(name))
    assert (guessed.key if guessed else None) == preset


def test_a_header_that_is_no_known_export_is_mapped_by_the_api_s_field_names() -> None:
    mapping = mapping_guess(preset_manual("campaigns"), header("campaigns-semicolon.csv"))
    assert mapping == {
        "external_id": "External ID",
        "name": "Name",
        "channel": "Channel",
        "starts_on": "Starts on",
        "ends_on": "Ends on",
        "cost": "Cost",
    }


def test_columns_are_recognised_whatever_their_case_and_punctuation() -> None:
    mapping = mapping_guess(
        BUILT_IN["hubspot-contacts"], ["record id", "CREATE DATE", "Contact Owner"]
    )
    assert mapping == {
        "record_id": "record id",
        "created_at": "CREATE DATE",
        "owner": "Contact Owner",
    }


def test_a_built_in_preset_names_the_documented_columns_a_file_lacks() -> None:
    preset = BUILT_IN["hubspot-contacts"]
    columns = header("bad-missing-column.csv")
    assert mapping_problems(preset, mapping_guess(preset, columns), columns) == [
        "The file has no column “Create Date”: the HubSpot contacts preset needs it "
        "(or map another column)."
    ]


def test_a_built_in_preset_s_required_field_left_unmapped_is_named_as_such() -> None:
    preset = BUILT_IN["hubspot-contacts"]
    columns = header("hubspot-contacts.csv")
    mapping = {**mapping_guess(preset, columns), "created_at": ""}
    mapping = {k: v for k, v in mapping.items() if v}
    assert mapping_problems(preset, mapping, columns) == [
        "Map a column to each required field: Created."
    ]


def test_the_manual_mapping_needs_every_field_the_api_requires() -> None:
    preset = preset_manual("touches")
    problems = mapping_problems(preset, {"external_id": "id"}, ["id"])
    assert problems == ["Map a column to each required field: lead, campaign, occurred_at."]


def test_a_mapping_to_a_column_or_a_field_that_is_not_there_is_refused() -> None:
    preset = preset_manual("leads")
    problems = mapping_problems(
        preset,
        {"external_id": "id", "created_at": "Created", "colour": "id", "attributes.size": "Size"},
        ["id"],
    )
    assert problems == [
        "The file has no column “Created” (mapped to Created at).",
        "Manual mapping has no field “colour”.",
        "The file has no column “Size” (mapped to attributes.size).",
    ]


def test_every_built_in_preset_s_ids_are_prefixed_by_its_system() -> None:
    lead = read(BUILT_IN["salesforce-leads"], {"Lead ID": "00Q1", "Create Date": "2018-03-15"})
    contact = read(BUILT_IN["hubspot-contacts"], {"Record ID": "7", "Create Date": "2018-03-15"})
    assert [r.external_id for r in lead + contact] == ["salesforce-lead-00Q1", "hubspot-contact-7"]
    # (the deal presets' ids, which need their leads looked up, in test_services)


def test_a_hubspot_contact_becomes_a_campaign_a_lead_its_first_touch_and_its_stage_events() -> None:
    records = read(
        BUILT_IN["hubspot-contacts"],
        {
            "Record ID": "101",
            "Email": "ines@example.com",
            "First Name": "Ines",
            "Last Name": "Moreau",
            "Company Name": "Fjordline",
            "Create Date": "2018-03-05 09:15",
            "Lifecycle Stage": "customer",
            "Original Source": "ORGANIC_SEARCH",
            "Original Source Drill-Down 1": "google",
            "Contact owner": "Sam Rep",
            "Became a Marketing Qualified Lead Date": "2018-03-12 14:00",
            "Became a Customer Date": "2018-05-10 16:45",
        },
    )
    assert [(r.kind, r.external_id) for r in records] == [
        ("campaigns", "hubspot-source-organic_search-google"),
        ("leads", "hubspot-contact-101"),
        ("touches", "hubspot-contact-101-source"),
        ("stage_events", "hubspot-contact-101-mql"),
        ("stage_events", "hubspot-contact-101-won"),
    ]
    campaign, lead, touch, mql, won = records
    assert campaign.implicit
    assert campaign.data == {
        "external_id": "hubspot-source-organic_search-google",
        "name": "Organic search: google (HubSpot)",
        "channel": "organic_search",
        "starts_on": date(2018, 3, 5),
        "ends_on": date(2018, 3, 5),
        "cost": 0,
    }
    assert lead.data == {
        "external_id": "hubspot-contact-101",
        "email": "ines@example.com",
        "name": "Ines Moreau",
        "company": "Fjordline",
        "created_at": datetime(2018, 3, 5, 9, 15, tzinfo=UTC),
        "campaign": "hubspot-source-organic_search-google",
        "owner": "sam",
        "attributes": {"lifecycle_stage": "customer"},
    }
    assert touch.data["occurred_at"] == lead.data["created_at"]
    assert (mql.data["stage"], won.data["stage"]) == ("mql", "won")
    assert mql.columns["occurred_at"] == "Became a Marketing Qualified Lead Date"


def test_a_contact_without_a_source_has_no_campaign_and_no_touch() -> None:
    records = read(BUILT_IN["hubspot-contacts"], {"Record ID": "7", "Create Date": "2018-03-15"})
    assert [r.kind for r in records] == ["leads"]
    assert records[0].data["campaign"] is None


@pytest.mark.parametrize(
    ("owner", "message"),
    [
        ("Olga Unknown", "no user has the username, e-mail or name 'Olga Unknown'"),
        ("Alex  Kim", "several users are called 'Alex  Kim': give the username or e-mail instead"),
    ],
)
def test_an_owner_no_user_or_several_users_answer_to_rejects_the_row_naming_its_column(
    owner: str, message: str
) -> None:
    with pytest.raises(RowRejected) as caught:
        read(
            BUILT_IN["salesforce-leads"],
            {"Lead ID": "00Q1", "Create Date": "2018-03-15", "Lead Owner": owner},
        )
    assert [(p.column, p.message) for p in caught.value.problems] == [("Lead Owner", message)]


def test_every_problem_of_a_row_is_named_at_once() -> None:
    with pytest.raises(RowRejected) as caught:
        read(
            BUILT_IN["hubspot-contacts"],
            {"Record ID": "", "Create Date": "31/31/2018", "Became a Lead Date": "soon"},
        )
    assert [(p.column, p.message) for p in caught.value.problems] == [
        ("Record ID", "this cell must not be empty"),
        ("Create Date", "cannot read '31/31/2018' as a date"),
        ("Became a Lead Date", "cannot read 'soon' as a date"),
    ]


def test_a_salesforce_lead_s_conversion_is_an_sql_stage_event_and_its_status_an_attribute() -> None:
    records = read(
        BUILT_IN["salesforce-leads"],
        {
            "Lead ID": "00Q1",
            "Company / Account": "Alder Bay",
            "Lead Source": "Phone Inquiry",
            "Lead Status": "Closed - Converted",
            "Create Date": "2018-03-15 10:30",
            "Converted Date": "2018-04-02",
        },
    )
    assert [(r.kind, r.external_id) for r in records] == [
        ("campaigns", "salesforce-source-phone_inquiry"),
        ("leads", "salesforce-lead-00Q1"),
        ("touches", "salesforce-lead-00Q1-source"),
        ("stage_events", "salesforce-lead-00Q1-sql"),
    ]
    assert records[0].data["name"] == "Phone inquiry (Salesforce)"
    assert records[1].data["attributes"] == {"lead_status": "Closed - Converted"}
    assert records[1].data["company"] == "Alder Bay"
    assert records[3].data["occurred_at"] == datetime(2018, 4, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "reference"),
    [
        ("101", ("id", "101")),
        ("Tomas.Berg@Example.com", ("email", "tomas.berg@example.com")),
        ("Jon Ek (jon.ek@example.com)", ("email", "jon.ek@example.com")),
        ("101;102", ("id", "101")),
        ("Jon Ek", ("", "")),
    ],
)
def test_an_associated_contact_is_a_record_id_an_email_or_a_name_and_email(
    text: str, reference: tuple[str, str]
) -> None:
    assert contact_reference(text) == reference


@pytest.mark.parametrize(
    ("stage", "status"),
    [
        ("closedwon", "won"),
        ("Closed Won", "won"),
        ("closedlost", "lost"),
        ("Closed Lost", "lost"),
        ("appointmentscheduled", "open"),
        ("Contract Sent", "open"),
    ],
)
def test_a_hubspot_deal_stage_is_won_lost_or_open(stage: str, status: str) -> None:
    assert deal_status(stage) == status


@pytest.mark.parametrize(
    ("won", "closed", "stage", "status"),
    [
        (True, True, "", "won"),
        (False, True, "", "lost"),
        (False, False, "Closed Won", "open"),
        (None, None, "Closed Won", "won"),
        (None, None, "Closed Lost", "lost"),
        (None, None, "Prospecting", "open"),
    ],
)
def test_a_salesforce_opportunity_s_status_comes_from_won_and_closed(
    won: bool | None, closed: bool | None, stage: str, status: str
) -> None:
    assert opportunity_status(won=won, closed=closed, stage=stage) == status


def test_the_manual_mapping_reads_choices_users_and_attributes_as_people_write_them() -> None:
    preset = preset_manual("attempts")
    columns = ["id", "lead", "when", "how", "result", "by"]
    cells = Cells(
        FileRow(0, ["A1", "L1", "15/03/2018 10:00", "Call", "Meeting booked", "Sam Rep"]),
        positions={c: i for i, c in enumerate(columns)},
        mapping={"external_id": "id", "lead": "lead", "occurred_at": "when", "channel": "how",
                 "outcome": "result", "actor": "by"},
        context=Context(zone=UTC, date_order="dmy", owners=OWNERS),
    )  # fmt: skip
    [record] = preset.records(cells)
    assert record.data == {
        "external_id": "A1",
        "lead": "L1",
        "occurred_at": datetime(2018, 3, 15, 10, tzinfo=UTC),
        "channel": "call",
        "outcome": "meeting_booked",
        "actor": "sam",
    }
    leads = preset_manual("leads")
    cells = Cells(
        FileRow(0, ["L1", "2018-03-15", "250", ""]),
        positions={"id": 0, "created": 1, "Employees": 2, "Industry": 3},
        mapping={"external_id": "id", "created_at": "created", "attributes.employees": "Employees",
                 "attributes.industry": "Industry"},
        context=Context(zone=UTC),
    )  # fmt: skip
    assert leads.records(cells)[0].data["attributes"] == {"employees": "250"}

"""The import pages over HTTP: upload, read, map, check, import the valid rows, download the
rejected ones; managers and admins only."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from alignment.roles import Role
from leads.models import Campaign, ImportJob, ImportPreset, Lead, StageEvent

pytestmark = pytest.mark.django_db

HUBSPOT = (
    "Record ID,Email,First Name,Last Name,Company Name,Create Date,Lifecycle Stage,"
    "Original Source,Original Source Drill-Down 1,Contact owner,Became a Lead Date,"
    "Became a Marketing Qualified Lead Date,Became a Sales Qualified Lead Date,"
    "Became an Opportunity Date,Became a Customer Date\r\n"
    "101,ana@example.com,Ana,Example,Acme,2026-03-02 09:00,lead,ORGANIC_SEARCH,google,,"
    "2026-03-02 09:00,,,,\r\n"
    "102,bo@example.com,Bo,Sample,Initech,2026-03-03 10:00,marketingqualifiedlead,PAID_SOCIAL,"
    "linkedin,,2026-03-03 10:00,2026-03-04 11:00,,,\r\n"
    "103,cy@example.com,Cy,Test,Globex,not a date,lead,SOCIAL_MEDIA,,,,,,,\r\n"
)


def upload(client: Client, content: str | bytes, name: str = "contacts.csv", **data: str) -> object:
    body = content.encode() if isinstance(content, str) else content
    return client.post("/imports/", {"file": SimpleUploadedFile(name, body, "text/csv"), **data})


@pytest.fixture
def manager(
    client: Client,
    make_user: Callable[..., object],
    django_capture_on_commit_callbacks: Callable,
    tasks_inline: None,
) -> Client:
    """mia, a marketing manager; the runs her requests queue run when they commit."""
    client.force_login(make_user("mia", Role.MARKETING_MANAGER))
    post = client.post

    def post_and_run(*args: object, **kwargs: object) -> object:
        with django_capture_on_commit_callbacks(execute=True):
            return post(*args, **kwargs)

    client.post = post_and_run
    return client


def check(client: Client, job: ImportJob, **data: str) -> object:
    """Post the mapping form as the page fills it in (the preset's or the guessed mapping)."""
    prefilled = {f"map_{field}": column for field, column in job.mapping.items()}
    return client.post(f"/imports/{job.pk}/check/", {**prefilled, **data})


@pytest.mark.parametrize("role", [Role.MARKETING_REP, Role.SALES_REP])
def test_reps_cannot_reach_the_import_pages(
    client: Client, make_user: Callable[..., object], role: Role
) -> None:
    client.force_login(make_user("rep", role))
    assert client.get("/imports/").status_code == 403
    assert upload(client, HUBSPOT).status_code == 403
    assert not ImportJob.objects.exists()


def test_the_nav_shows_import_to_managers_only(
    manager: Client, make_user: Callable[..., object]
) -> None:
    assert b'href="/imports/"' in manager.get("/campaigns/").content
    rep = Client()
    rep.force_login(make_user("rita", Role.MARKETING_REP))
    assert b'href="/imports/"' not in rep.get("/campaigns/").content


def test_a_hubspot_export_maps_itself_and_shows_how_it_was_read(manager: Client) -> None:
    response = upload(manager, HUBSPOT)
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/imports/{job.pk}/"
    page = manager.get(f"/imports/{job.pk}/").content.decode()
    assert "preset HubSpot contacts" in page
    assert "3 rows" in page and "delimiter comma" in page
    assert "ana@example.com" in page  # the preview
    assert "nothing to map" in page


def test_checking_writes_nothing_and_importing_writes_the_valid_rows(manager: Client) -> None:
    upload(manager, HUBSPOT)
    job = ImportJob.objects.get()
    assert check(manager, job).status_code == 302
    job.refresh_from_db()
    assert (job.status, job.valid, job.rejected) == ("checked", 2, 1)
    assert not Lead.objects.exists()
    page = manager.get(f"/imports/{job.pk}/").content.decode()
    assert "Import the 2 valid rows" in page
    assert 'data-row="4"' in page and "Create Date" in page

    assert manager.post(f"/imports/{job.pk}/run/").status_code == 302
    job.refresh_from_db()
    assert (job.status, job.valid, job.rejected) == ("done", 2, 1)
    assert set(Lead.objects.values_list("email", flat=True)) == {
        "ana@example.com",
        "bo@example.com",
    }
    assert StageEvent.objects.filter(stage="mql").count() == 1
    assert set(Campaign.objects.values_list("channel", flat=True)) == {
        "organic_search",
        "paid_social",
    }


def test_the_rejected_rows_download_has_the_files_columns_and_an_error(manager: Client) -> None:
    upload(manager, HUBSPOT)
    job = ImportJob.objects.get()
    check(manager, job)
    response = manager.get(f"/imports/{job.pk}/rejected.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:2] == ["Record ID", "Email"] and rows[0][-1] == "error"
    assert len(rows) == 2 and rows[1][0] == "103" and "Create Date" in rows[1][-1]


def test_a_reimport_creates_nothing(manager: Client) -> None:
    for _ in range(2):
        upload(manager, HUBSPOT)
        job = ImportJob.objects.order_by("-created_at").first()
        check(manager, job)
        manager.post(f"/imports/{job.pk}/run/")
    job.refresh_from_db()
    assert job.created == 0 and job.updated > 0
    assert Lead.objects.count() == 2


def test_a_file_of_another_shape_is_mapped_by_hand_and_the_mapping_saved(
    manager: Client,
) -> None:
    content = "Code;Title;Source;From;To;Spend\r\nSPR;Spring fair;Trade show;2026-03-01;2026-03-31;1200\r\n"
    upload(manager, content, name="campaigns.csv", kind="campaigns")
    job = ImportJob.objects.get()
    page = manager.get(f"/imports/{job.pk}/").content.decode()
    assert "delimiter semicolon" in page and "Map the columns" in page

    missing = manager.post(f"/imports/{job.pk}/check/", {"map_external_id": "Code"})
    assert missing.status_code == 400
    assert not Campaign.objects.exists()

    mapping = {
        "map_external_id": "Code", "map_name": "Title", "map_channel": "Source",
        "map_starts_on": "From", "map_ends_on": "To", "map_cost": "Spend",
        "save_as": "Our event sheet",
    }  # fmt: skip
    assert manager.post(f"/imports/{job.pk}/check/", mapping).status_code == 302
    manager.post(f"/imports/{job.pk}/run/")
    campaign = Campaign.objects.get()
    assert (campaign.external_id, campaign.channel_id, campaign.cost) == ("SPR", "trade_show", 1200)
    preset = ImportPreset.objects.get()
    assert (preset.name, preset.kind, preset.mapping["name"]) == (
        "Our event sheet",
        "campaigns",
        "Title",
    )
    assert b"Our event sheet" in manager.get("/imports/").content


def test_ambiguous_dates_wait_for_the_users_choice(manager: Client) -> None:
    content = "Code,Title,Source,From,To\r\nA,One,email,03/04/2026,05/06/2026\r\n"
    upload(manager, content, name="c.csv", kind="campaigns")
    job = ImportJob.objects.get()
    assert job.dates_ambiguous
    mapping = {
        "map_external_id": "Code", "map_name": "Title", "map_channel": "Source",
        "map_starts_on": "From", "map_ends_on": "To",
    }  # fmt: skip
    refused = manager.post(f"/imports/{job.pk}/check/", mapping)
    assert refused.status_code == 400 and b"say which" in refused.content
    manager.post(f"/imports/{job.pk}/check/", {**mapping, "date_order": "dmy"})
    manager.post(f"/imports/{job.pk}/run/")
    assert str(Campaign.objects.get().starts_on) == "2026-04-03"


def test_a_file_that_is_not_text_is_refused_with_a_message(manager: Client) -> None:
    response = upload(manager, HUBSPOT.encode("utf-16"), name="contacts.csv")
    assert response.status_code == 400
    assert b"encoding" in response.content.lower() or b"utf-8" in response.content.lower()
    assert not ImportJob.objects.exists()


def test_rejected_rows_download_neutralised_and_import_again_as_they_were(
    manager: Client,
) -> None:
    content = (
        "Code,Title,Source,From,To,Spend\r\n"
        'A,=HYPERLINK("http://x"),email,2026-03-01,2026-02-01,-5\r\n'
        "B,Fine,email,2026-03-01,2026-03-31,10\r\n"
    )
    upload(manager, content, name='a/b"c\r\n.csv', kind="campaigns")
    job = ImportJob.objects.get()
    mapping = {
        "map_external_id": "Code", "map_name": "Title", "map_channel": "Source",
        "map_starts_on": "From", "map_ends_on": "To", "map_cost": "Spend",
    }  # fmt: skip
    manager.post(f"/imports/{job.pk}/check/", mapping)
    response = manager.get(f"/imports/{job.pk}/rejected.csv")
    disposition = response["Content-Disposition"]
    assert "\r" not in disposition and "\n" not in disposition and "/" not in disposition
    assert disposition.count('"') == 2
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][:2] == ["A", '\'=HYPERLINK("http://x")']  # a spreadsheet keeps it text
    assert rows[1][5] == "'-5"

    rows[1][4] = "2026-03-31"  # the fix
    fixed = io.StringIO()
    csv.writer(fixed).writerows(rows)
    upload(manager, fixed.getvalue(), name="fixed.csv", kind="campaigns")
    again = ImportJob.objects.order_by("-created_at").first()
    manager.post(f"/imports/{again.pk}/check/", mapping)
    again.refresh_from_db()
    assert again.rejected == 1  # the cost is still negative: the API refuses it too
    assert "Spend" in again.rejections.get().errors[0]["column"]
    assert again.rejections.get().values[1] == '=HYPERLINK("http://x")'  # read as it was


def test_a_header_a_download_neutralised_reads_as_it_was(manager: Client) -> None:
    content = "Code,=Title,Source,From,To\r\nA,One,email,2026-03-01,2026-02-01\r\n"
    upload(manager, content, name="c.csv", kind="campaigns")
    job = ImportJob.objects.get()
    mapping = {
        "map_external_id": "Code", "map_name": "=Title", "map_channel": "Source",
        "map_starts_on": "From", "map_ends_on": "To",
    }  # fmt: skip
    manager.post(f"/imports/{job.pk}/check/", mapping)
    text = b"".join(manager.get(f"/imports/{job.pk}/rejected.csv").streaming_content)
    assert text.decode("utf-8-sig").startswith("Code,'=Title,")
    upload(manager, text, name="rejected.csv", kind="campaigns")
    assert ImportJob.objects.order_by("-created_at").first().columns[1] == "=Title"


def test_a_cell_of_several_megabytes_imports_and_the_preview_shows_its_start(
    manager: Client,
) -> None:
    note = "Long call notes. " * 200_000  # 3.4 MB, as a CRM's notes field may hold
    content = (
        "Record ID,Email,First Name,Last Name,Create Date,Original Source,Notes\r\n"
        f'201,dee@example.com,Dee,Long,2026-03-02 09:00,ORGANIC_SEARCH,"{note}"\r\n'
    )
    response = upload(manager, content, preset="hubspot-contacts")
    job = ImportJob.objects.get()
    assert response.status_code == 302 and job.total == 1
    page = manager.get(f"/imports/{job.pk}/").content.decode()
    assert "Long call notes. Long call notes." in page and len(page) < 100_000
    check(manager, job)
    manager.post(f"/imports/{job.pk}/run/")
    job.refresh_from_db()
    assert (job.status, job.valid, job.rejected) == ("done", 1, 0)
    assert Lead.objects.get().external_id == "hubspot-contact-201"


def test_going_on_with_an_import_that_finished_is_refused_with_a_400(manager: Client) -> None:
    upload(manager, HUBSPOT)
    job = ImportJob.objects.get()
    check(manager, job)
    manager.post(f"/imports/{job.pk}/run/")
    job.refresh_from_db()
    assert job.status == "done"
    response = manager.post(f"/imports/{job.pk}/resume/")
    assert response.status_code == 400
    assert "Only an import that failed or stopped can be resumed." in response.content.decode()
    job.refresh_from_db()
    assert (job.status, job.valid) == ("done", 2)


def test_a_row_dated_at_the_calendars_edge_is_rejected_naming_its_column(manager: Client) -> None:
    upload(manager, HUBSPOT.replace("2026-03-03 10:00,marketing", "9999-12-31 23:59,marketing"))
    job = ImportJob.objects.get()
    check(manager, job)
    job.refresh_from_db()
    assert (job.valid, job.rejected) == (1, 2)
    problems = {r.row: r.errors for r in job.rejections.all()}
    assert [e["column"] for e in problems[3]] == ["Create Date"]  # said once, for lead and touch
    assert "DATE_MAX_YEAR" in problems[3][0]["message"]

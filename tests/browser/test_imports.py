"""A HubSpot export in a browser: mia (marketing manager) uploads it, maps nothing (the preset
recognises the export), checks it, sees two rows rejected with their reasons, imports the three
valid ones, downloads the two rejected rows, fixes them and imports that file.

The checked import's page and a file mapped by hand are screenshot to docs/screenshots/import.png
and import_mapping.png with TANDEM_SCREENSHOTS=1
(`TANDEM_SCREENSHOTS=1 pytest -m browser tests/browser/test_imports.py`); every step's page goes
to $TANDEM_IMPORT_SHOTS, by default /tmp/shots_imports/.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from alignment.roles import Role
from leads.models import Campaign, ImportJob, Lead, StageEvent

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("restore_base_data"),
]
ROOT = Path(__file__).resolve().parents[2]
EXPORT = ROOT / "tests" / "fixtures" / "imports" / "hubspot-contacts-two-bad-rows.csv"
DOCS = ROOT / "docs" / "screenshots"
SHOTS = Path(os.environ.get("TANDEM_IMPORT_SHOTS", "/tmp/shots_imports"))


def shot(page: object, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    if name in {"import", "import_mapping"} and os.environ.get("TANDEM_SCREENSHOTS"):
        page.screenshot(path=str(DOCS / f"{name}.png"), full_page=True)


def upload_and_check(page: object, url: str, path: Path) -> None:
    page.goto(f"{url}/imports/")
    page.set_input_files("#id_file", str(path))
    with page.expect_navigation():
        page.click("text=Upload and read the file")
    assert "preset HubSpot contacts" in page.text_content("[data-testid=import-facts]")
    with page.expect_navigation():
        page.click("text=Check every row")
    page.wait_for_selector("#import-status[data-status=checked]")


def test_a_manager_imports_a_hubspot_export_fixes_the_rejected_rows_and_imports_them(
    page: object,
    login: Callable,
    live_server: object,
    make_user: Callable[..., object],
    tmp_path: Path,
) -> None:
    make_user("mia", Role.MARKETING_MANAGER, first_name="Mia", last_name="Manager")
    make_user("sam", Role.SALES_REP, first_name="Sam", last_name="Rep")
    login(page, "mia")
    page.click(".nav-more summary")  # at 1366 px a manager's last sections are under "More"
    page.click(".nav-more-menu >> text=Import")

    upload_and_check(page, live_server.url, EXPORT)
    assert page.text_content("[data-count=rejected]").strip() == "2"
    rejected = page.locator("[data-testid=import-rejections] tbody tr")
    assert rejected.count() == 2
    problems = {row.get_attribute("data-row"): row.inner_text() for row in rejected.all()}
    assert set(problems) == {"3", "5"}
    assert "Create Date" in problems["3"] and "31/31/2018" in problems["3"]
    assert "Contact owner" in problems["5"] and "Olga Unknown" in problems["5"]
    assert not Lead.objects.exists()  # a check writes nothing
    shot(page, "import")

    with page.expect_navigation():
        page.click("text=Import the 3 valid rows")
    page.wait_for_selector("#import-status[data-status=done]")
    assert Lead.objects.count() == 3
    shot(page, "import_done")

    with page.expect_download() as download:
        page.click("[data-testid=import-rejected-download]")
    rejected_file = tmp_path / "rejected.csv"
    download.value.save_as(rejected_file)
    with rejected_file.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    header, fixed = rows[0], rows[1:]
    assert header[-1] == "error" and [r[0] for r in fixed] == ["202", "204"]
    created, owner = header.index("Create Date"), header.index("Contact owner")
    fixed[0][created] = "2018-04-03 11:20"
    fixed[1][owner] = "Sam Rep"
    with (tmp_path / "fixed.csv").open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, *fixed])

    upload_and_check(page, live_server.url, tmp_path / "fixed.csv")
    assert page.text_content("[data-count=rejected]").strip() == "0"
    with page.expect_navigation():
        page.click("text=Import all 2 rows")
    page.wait_for_selector("#import-status[data-status=done]")
    shot(page, "import_fixed")

    assert Lead.objects.count() == 5
    assert Lead.objects.get(external_id__endswith="204").owner.username == "sam"
    assert ImportJob.objects.filter(status="done").count() == 2
    assert StageEvent.objects.filter(lead__external_id__endswith="205", stage="won").exists()
    assert Campaign.objects.filter(channel="direct_traffic").exists()


def test_a_manager_maps_a_file_of_another_shape_by_hand_and_saves_the_mapping(
    page: object,
    login: Callable,
    live_server: object,
    make_user: Callable[..., object],
    tmp_path: Path,
) -> None:
    make_user("mia", Role.MARKETING_MANAGER, first_name="Mia", last_name="Manager")
    sheet = tmp_path / "events.csv"
    sheet.write_text(
        "Code;Title;Source;From;To;Spend\n"
        "fair-18;Spring fair;Trade show;01.03.2018;31.03.2018;1.200,50\n"
        "meetup-18;Meetup;Community;12.04.2018;12.04.2018;300\n",
        encoding="cp1252",
    )
    login(page, "mia")
    page.goto(f"{live_server.url}/imports/")
    page.set_input_files("#id_file", str(sheet))
    page.select_option("#id_kind", "campaigns")
    with page.expect_navigation():
        page.click("text=Upload and read the file")
    assert "delimiter semicolon" in page.text_content("[data-testid=import-facts]")
    for field, column in {
        "external_id": "Code", "name": "Title", "channel": "Source", "starts_on": "From",
        "ends_on": "To", "cost": "Spend",
    }.items():  # fmt: skip
        page.select_option(f"#id_map_{field}", column)
    page.fill("#id_save_as", "Event sheet")
    shot(page, "import_mapping")
    with page.expect_navigation():
        page.click("text=Check every row")
    page.wait_for_selector("#import-status[data-status=checked]")
    with page.expect_navigation():
        page.click("text=Import all 2 rows")
    page.wait_for_selector("#import-status[data-status=done]")

    fair = Campaign.objects.get(external_id="fair-18")
    assert (fair.channel.label, str(fair.cost), str(fair.starts_on)) == (
        "Trade show",
        "1200.50",
        "2018-03-01",
    )
    page.goto(f"{live_server.url}/imports/")
    assert "Event sheet (campaigns)" in page.inner_text("#id_preset")

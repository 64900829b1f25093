"""HubSpot's exports, by the column names HubSpot documents for them: contacts (a lead, its
original source as channel, campaign and first touch, a stage event per "Became a … Date") and
deals. External ids are HubSpot's record ids prefixed (`hubspot-contact-123`,
`hubspot-deal-9`), so they never meet another system's."""

from __future__ import annotations

import re
from typing import Any

from leads.imports.rows import Cells, Context, ImportField, Preset, Record
from leads.imports.sources import Source, person_records, source_records

CONTACT_PREFIX = "hubspot-contact-"
DEAL_PREFIX = "hubspot-deal-"
#: The "Became a … Date" fields and the stage each one records.
BECAME = (
    ("became_lead", "Became a Lead Date", "inquiry"),
    ("became_mql", "Became a Marketing Qualified Lead Date", "mql"),
    ("became_sql", "Became a Sales Qualified Lead Date", "sql"),
    ("became_opportunity", "Became an Opportunity Date", "opportunity"),
    ("became_customer", "Became a Customer Date", "won"),
)
SOURCE = Source(
    system="hubspot",
    label="HubSpot",
    source="original_source",
    detail="original_source_detail",
    touch_kind="original_source",
)


class HubSpotContacts(Preset):
    key = "hubspot-contacts"
    label = "HubSpot contacts"
    kind = "leads"
    fields = (
        ImportField("record_id", "Record ID", required=True, column="Record ID",
                    aliases=("Contact ID", "Contact Record ID")),
        ImportField("email", "E-mail", column="Email"),
        ImportField("first_name", "First name", column="First Name"),
        ImportField("last_name", "Last name", column="Last Name"),
        ImportField("company", "Company", column="Company Name"),
        ImportField("created_at", "Created", required=True, column="Create Date"),
        ImportField("lifecycle_stage", "Lifecycle stage", column="Lifecycle Stage",
                    help="Kept in the lead's attributes (lifecycle_stage)."),
        ImportField("original_source", "Original source", column="Original Source",
                    help="The lead's channel, a campaign per source and its first touch."),
        ImportField("original_source_detail", "Original source drill-down",
                    column="Original Source Drill-Down 1",
                    help="A campaign of its own within the source's channel."),
        ImportField("owner", "Owner", column="Contact owner", aliases=("Contact Owner",),
                    help="A user's username, e-mail or full name."),
        *(ImportField(name, column, column=column, help=f"A stage event: {stage}.")
          for name, column, stage in BECAME),
    )  # fmt: skip

    def records(self, cells: Cells) -> list[Record]:
        record_id = cells.text("record_id")
        cells.need("record_id", record_id)
        created_at = cells.moment("created_at")
        cells.need("created_at", created_at)
        owner = cells.owner("owner")
        became = [(name, stage, cells.moment(name)) for name, _, stage in BECAME]
        cells.check()
        lead_id = f"{CONTACT_PREFIX}{record_id}"
        source = source_records(
            cells,
            SOURCE,
            lead_id=lead_id,
            lead_field="record_id",
            created_at=created_at,
            created_field="created_at",
        )
        return person_records(
            cells,
            lead_id=lead_id,
            id_field="record_id",
            created_at=created_at,
            owner=owner,
            source=source,
            source_field="original_source",
            attribute="lifecycle_stage",
            events=became,
        )


_EMAIL_IN = re.compile(r"[^\s<>()@,;]+@[^\s<>()@,;]+")


def contact_reference(text: str) -> tuple[str, str]:
    """What an "Associated Contact" cell names: ("id", record id), ("email", e-mail), or
    ("", "") when it names neither. It may be a record id (`123`), an e-mail, or
    "Name (e-mail)"; of several (`;`-separated) the first counts."""
    first = text.split(";")[0].strip()
    if first.isdigit():
        return "id", first
    match = _EMAIL_IN.search(first)
    if match:
        return "email", match.group(0).lower()
    return "", ""


def deal_status(stage: str) -> str:
    """HubSpot's deal stage as a deal's status: its closed-won and closed-lost stages (by
    internal name or label) are won and lost; every other stage is open."""
    key = re.sub(r"[^a-z]", "", stage.lower())
    if key in {"closedwon", "won"}:
        return "won"
    if key in {"closedlost", "lost"}:
        return "lost"
    return "open"


class HubSpotDeals(Preset):
    key = "hubspot-deals"
    label = "HubSpot deals"
    kind = "deals"
    fields = (
        ImportField("record_id", "Record ID", required=True, column="Record ID",
                    aliases=("Deal ID",)),
        ImportField("amount", "Amount", required=True, column="Amount",
                    help="An empty amount is 0."),
        ImportField("created_at", "Created", required=True, column="Create Date"),
        ImportField("closed_at", "Closed", column="Close Date",
                    help="Dropped for an open deal (HubSpot's expected close date)."),
        ImportField("stage", "Deal stage", required=True, column="Deal Stage",
                    help="closedwon / Closed Won: won; closedlost / Closed Lost: lost; else open."),
        ImportField("contact", "Associated contact", required=True, column="Associated Contact",
                    aliases=("Associated Contact IDs", "Associated Contacts",
                             "Associated Contact ID", "Contact ID"),
                    help="The contact's Record ID, e-mail, or “Name (e-mail)”: "
                         "import the contacts first."),
        ImportField("lost_reason", "Lost reason", column="Closed Lost Reason"),
    )  # fmt: skip

    def prepare(self, rows: list[Cells], context: Context) -> None:
        references = [contact_reference(cells.text("contact")) for cells in rows]
        ids = {f"{CONTACT_PREFIX}{value}" for kind, value in references if kind == "id"}
        emails = {value for kind, value in references if kind == "email"}
        context.found["contacts"] = context.lookups.leads_existing(ids) if ids else set()
        context.found["emails"] = context.lookups.leads_by_email(emails) if emails else {}

    def _lead(self, cells: Cells) -> str | None:
        text = cells.text("contact")
        if not text:
            cells.need("contact", text)
            return None
        kind, value = contact_reference(text)
        found: dict[str, Any] = cells.context.found
        if kind == "id":
            lead = f"{CONTACT_PREFIX}{value}"
            if lead in found.get("contacts", set()):
                return lead
            cells.problem("contact", f"no contact with Record ID {value} has been imported")
        elif kind == "email":
            leads = found.get("emails", {}).get(value, [])
            ours = [lead for lead in leads if lead.startswith(CONTACT_PREFIX)]
            if len(leads) == 1 or len(ours) == 1:
                return ours[0] if len(ours) == 1 else leads[0]
            cells.problem(
                "contact",
                f"several leads have the e-mail {value}: give the contact's Record ID"
                if leads
                else f"no contact with the e-mail {value} has been imported",
            )
        else:
            cells.problem("contact", f"cannot read '{text}' as a contact's Record ID or e-mail")
        return None

    def records(self, cells: Cells) -> list[Record]:
        record_id = cells.text("record_id")
        cells.need("record_id", record_id)
        amount = cells.decimal("amount")
        created_at = cells.moment("created_at")
        cells.need("created_at", created_at)
        closed_at = cells.moment("closed_at")
        stage = cells.text("stage")
        cells.need("stage", stage)
        status = deal_status(stage)
        lead = self._lead(cells)
        if status == "open":
            closed_at = None
        elif closed_at is None and cells.text("closed_at") == "":
            cells.problem("closed_at", f"a {status} deal needs its close date")
        cells.check()
        return [
            Record(
                kind="deals",
                data={
                    "external_id": f"{DEAL_PREFIX}{record_id}",
                    "lead": lead,
                    "amount": amount if amount is not None else 0,
                    "created_at": created_at,
                    "closed_at": closed_at,
                    "status": status,
                    "lost_reason": cells.text("lost_reason") if status == "lost" else "",
                },
                columns={
                    "external_id": cells.column("record_id"),
                    "lead": cells.column("contact"),
                    "amount": cells.column("amount"),
                    "created_at": cells.column("created_at"),
                    "closed_at": cells.column("closed_at") or cells.column("stage"),
                    "status": cells.column("stage"),
                    "lost_reason": cells.column("lost_reason"),
                },
            )
        ]

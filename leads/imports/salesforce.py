"""Salesforce's exports, by the column names Salesforce documents for its reports: leads (a
lead, its lead source as channel, campaign and first touch, its conversion as an `sql` stage
event) and opportunities. External ids are Salesforce's ids prefixed
(`salesforce-lead-00Q…`, `salesforce-opportunity-006…`)."""

from __future__ import annotations

import re

from leads.imports.rows import Cells, Context, ImportField, Preset, Record
from leads.imports.sources import Source, person_records, source_records

LEAD_PREFIX = "salesforce-lead-"
OPPORTUNITY_PREFIX = "salesforce-opportunity-"
SOURCE = Source(system="salesforce", label="Salesforce", source="lead_source",
                touch_kind="lead_source")  # fmt: skip


class SalesforceLeads(Preset):
    key = "salesforce-leads"
    label = "Salesforce leads"
    kind = "leads"
    fields = (
        ImportField("lead_id", "Lead ID", required=True, column="Lead ID"),
        ImportField("email", "E-mail", column="Email"),
        ImportField("first_name", "First name", column="First Name"),
        ImportField("last_name", "Last name", column="Last Name"),
        ImportField("company", "Company", column="Company / Account", aliases=("Company",)),
        ImportField("lead_source", "Lead source", column="Lead Source",
                    help="The lead's channel, a campaign per source and its first touch."),
        ImportField("lead_status", "Lead status", column="Lead Status",
                    help="Kept in the lead's attributes (lead_status)."),
        ImportField("created_at", "Created", required=True, column="Create Date",
                    aliases=("Created Date",)),
        ImportField("converted_at", "Converted", column="Converted Date",
                    help="A stage event: sql."),
        ImportField("owner", "Owner", column="Lead Owner",
                    help="A user's username, e-mail or full name."),
    )  # fmt: skip

    def records(self, cells: Cells) -> list[Record]:
        lead_salesforce_id = cells.text("lead_id")
        cells.need("lead_id", lead_salesforce_id)
        created_at = cells.moment("created_at")
        cells.need("created_at", created_at)
        converted_at = cells.moment("converted_at")
        owner = cells.owner("owner")
        cells.check()
        lead_id = f"{LEAD_PREFIX}{lead_salesforce_id}"
        source = source_records(
            cells,
            SOURCE,
            lead_id=lead_id,
            lead_field="lead_id",
            created_at=created_at,
            created_field="created_at",
        )
        return person_records(
            cells,
            lead_id=lead_id,
            id_field="lead_id",
            created_at=created_at,
            owner=owner,
            source=source,
            source_field="lead_source",
            attribute="lead_status",
            events=[("converted_at", "sql", converted_at)],
        )


def opportunity_status(*, won: bool | None, closed: bool | None, stage: str) -> str:
    """Won when "Won" is true, lost when "Closed" is and "Won" is not; without either, from
    the stage's name (Closed Won, Closed Lost); open otherwise."""
    if won is None and closed is None:
        key = re.sub(r"[^a-z]", "", stage.lower())
        return {"closedwon": "won", "closedlost": "lost"}.get(key, "open")
    if won:
        return "won"
    return "lost" if closed else "open"


class SalesforceOpportunities(Preset):
    key = "salesforce-opportunities"
    label = "Salesforce opportunities"
    kind = "deals"
    fields = (
        ImportField("opportunity_id", "Opportunity ID", required=True, column="Opportunity ID"),
        ImportField("lead_id", "Lead ID", required=True, column="Lead ID",
                    aliases=("Converted Lead ID", "Converted Lead: Lead ID"),
                    help="The lead the opportunity was converted from: import the leads first."),
        ImportField("amount", "Amount", required=True, column="Amount",
                    help="An empty amount is 0."),
        ImportField("created_at", "Created", required=True, column="Created Date",
                    aliases=("Create Date",)),
        ImportField("closed_at", "Closed", column="Close Date",
                    help="Dropped for an open opportunity (its expected close date)."),
        ImportField("stage", "Stage", column="Stage",
                    help="Read only when Won and Closed are empty: Closed Won, Closed Lost."),
        ImportField("won", "Won", column="Won", help="true/false, 1/0."),
        ImportField("closed", "Closed", column="Closed", help="true/false, 1/0."),
    )  # fmt: skip

    def prepare(self, rows: list[Cells], context: Context) -> None:
        ids = {f"{LEAD_PREFIX}{cells.text('lead_id')}" for cells in rows if cells.text("lead_id")}
        context.found["leads"] = context.lookups.leads_existing(ids) if ids else set()

    def records(self, cells: Cells) -> list[Record]:
        opportunity_id = cells.text("opportunity_id")
        cells.need("opportunity_id", opportunity_id)
        salesforce_lead = cells.text("lead_id")
        cells.need("lead_id", salesforce_lead)
        lead = f"{LEAD_PREFIX}{salesforce_lead}"
        if salesforce_lead and lead not in cells.context.found.get("leads", set()):
            cells.problem("lead_id", f"no lead with Lead ID {salesforce_lead} has been imported")
        amount = cells.decimal("amount")
        created_at = cells.moment("created_at")
        cells.need("created_at", created_at)
        closed_at = cells.moment("closed_at")
        won, closed = cells.flag("won"), cells.flag("closed")
        if not cells.text("won") and not cells.text("closed"):
            won = closed = None
        status = opportunity_status(won=won, closed=closed, stage=cells.text("stage"))
        if status == "open":
            closed_at = None
        elif closed_at is None and cells.text("closed_at") == "":
            cells.problem("closed_at", f"a {status} opportunity needs its close date")
        cells.check()
        status_column = cells.column("won") or cells.column("closed") or cells.column("stage")
        return [
            Record(
                kind="deals",
                data={
                    "external_id": f"{OPPORTUNITY_PREFIX}{opportunity_id}",
                    "lead": lead,
                    "amount": amount if amount is not None else 0,
                    "created_at": created_at,
                    "closed_at": closed_at,
                    "status": status,
                },
                columns={
                    "external_id": cells.column("opportunity_id"),
                    "lead": cells.column("lead_id"),
                    "amount": cells.column("amount"),
                    "created_at": cells.column("created_at"),
                    "closed_at": cells.column("closed_at") or status_column,
                    "status": status_column,
                },
            )
        ]

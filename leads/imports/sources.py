"""A source system's lead source as Tandem's records: the channel (its label as a key), a
campaign per source (and per drill-down) that the import makes up, and the lead's first touch
of it. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from leads.imports.rows import Cells, Record
from leads.services_channels import channel_key, channel_label

EXTERNAL_ID_MAX = 100
NAME_MAX = 200


@dataclass(frozen=True)
class Source:
    """Where a system's export says a lead came from: the fields that hold it, what the made-up
    campaigns' ids start with and what their names end with."""

    system: str  # "hubspot": campaigns `hubspot-source-<channel>[-<drill-down>]`
    label: str  # "HubSpot": "Organic search: google (HubSpot)"
    source: str  # the field of the source ("Original Source", "Lead Source")
    detail: str = ""  # the field of its drill-down, if any
    touch_kind: str = "first_touch"


def source_records(
    cells: Cells,
    source: Source,
    *,
    lead_id: str,
    lead_field: str,
    created_at: datetime,
    created_field: str,
) -> tuple[str | None, list[Record]]:
    """The made-up campaign of the row's source and the lead's first touch of it (at its
    creation); (None, []) when the row names no source."""
    raw = cells.text(source.source)
    key = channel_key(raw)
    if not key:
        return None, []
    detail = cells.text(source.detail) if source.detail else ""
    detail_key = channel_key(detail)
    campaign_id = f"{source.system}-source-{key}" + (f"-{detail_key}" if detail_key else "")
    campaign_id = campaign_id[:EXTERNAL_ID_MAX]
    name = channel_label(key) + (f": {detail}" if detail_key else "") + f" ({source.label})"
    day: date = created_at.astimezone(cells.context.zone).date()  # the lead's local day
    source_column = cells.column(source.source)
    campaign = Record(
        kind="campaigns",
        data={
            "external_id": campaign_id,
            "name": name[:NAME_MAX],
            "channel": key,
            "starts_on": day,
            "ends_on": day,
            "cost": 0,
        },
        columns={
            "external_id": source_column,
            "name": cells.column(source.detail) if detail_key else source_column,
            "channel": source_column,
            "starts_on": cells.column(created_field),
            "ends_on": cells.column(created_field),
        },
        implicit=True,
    )
    touch = Record(
        kind="touches",
        data={
            "external_id": f"{lead_id}-source",
            "lead": lead_id,
            "campaign": campaign_id,
            "occurred_at": created_at,
            "kind": source.touch_kind,
        },
        columns={
            "external_id": cells.column(lead_field),
            "lead": cells.column(lead_field),
            "campaign": source_column,
            "occurred_at": cells.column(created_field),
        },
    )
    return campaign_id, [campaign, touch]


def person_records(
    cells: Cells,
    *,
    lead_id: str,
    id_field: str,
    created_at: datetime,
    owner: str,
    source: tuple[str, list[Record]],
    source_field: str,
    attribute: str,
    events: list[tuple[str, str, datetime | None]],
) -> list[Record]:
    """A CRM's person (HubSpot's contact, Salesforce's lead) as Tandem's records: its source's
    campaign, the lead (e-mail, first and last name, company; `attribute` kept in its
    attributes under the field's name), its first touch, and a stage event per `events`
    (field, stage, moment) that has a moment."""
    id_column = cells.column(id_field)
    campaign, sourced = source
    kept = cells.text(attribute)
    lead = Record(
        kind="leads",
        data={
            "external_id": lead_id,
            "email": cells.text("email"),
            "name": " ".join(n for n in (cells.text("first_name"), cells.text("last_name")) if n),
            "company": cells.text("company"),
            "created_at": created_at,
            "campaign": campaign,
            "owner": owner,
            "attributes": {attribute: kept} if kept else {},
        },
        columns={
            "external_id": id_column,
            "email": cells.column("email"),
            "name": cells.column("first_name") or cells.column("last_name"),
            "company": cells.column("company"),
            "created_at": cells.column("created_at"),
            "campaign": cells.column(source_field),
            "owner": cells.column("owner"),
            "attributes": cells.column(attribute),
        },
    )
    stage_events = [
        Record(
            kind="stage_events",
            data={
                "external_id": f"{lead_id}-{stage}",
                "lead": lead_id,
                "stage": stage,
                "occurred_at": at,
            },
            columns={
                "external_id": id_column,
                "lead": id_column,
                "stage": cells.column(field),
                "occurred_at": cells.column(field),
            },
        )
        for field, stage, at in events
        if at is not None
    ]
    campaigns = [r for r in sourced if r.kind == "campaigns"]
    touches = [r for r in sourced if r.kind == "touches"]
    return [*campaigns, lead, *touches, *stage_events]

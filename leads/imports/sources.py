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

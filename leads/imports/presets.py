"""The presets: the built-in ones (HubSpot, Salesforce) and the manual mapping of each kind,
whose fields are the API's ingest fields; which preset a header looks like, and whether a
mapping is complete. Pure: saved presets (`ImportPreset`) are read in `selectors`."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rest_framework import serializers

from leads.api import AttemptIn, CampaignIn, DealIn, LeadIn, StageEventIn, TouchIn
from leads.imports.hubspot import HubSpotContacts, HubSpotDeals
from leads.imports.rows import Cells, ImportField, Preset, Record
from leads.imports.salesforce import SalesforceLeads, SalesforceOpportunities

#: The API's serializer of each kind: the fields of its manual mapping and its validation.
SERIALIZERS: dict[str, type[serializers.Serializer]] = {
    "campaigns": CampaignIn,
    "leads": LeadIn,
    "touches": TouchIn,
    "stage_events": StageEventIn,
    "attempts": AttemptIn,
    "deals": DealIn,
}
#: Fields that name a user: read by username, e-mail or full name, as a preset's owner.
USER_FIELDS = {"owner", "actor"}
ATTRIBUTES = "attributes."

BUILT_IN: dict[str, Preset] = {
    p.key: p
    for p in (HubSpotContacts(), HubSpotDeals(), SalesforceLeads(), SalesforceOpportunities())
}


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.casefold())


def _choice_reader(choices: Mapping[Any, str]) -> Callable[[str], str]:
    known = {}
    for value, label in choices.items():
        known[_key(str(value))] = value
        known[_key(str(label))] = value

    def read(text: str) -> str:
        return known.get(_key(text), text)  # an unknown one: the serializer names the choices

    return read


class ManualPreset(Preset):
    """Columns mapped to a kind's ingest fields, one record per row; dates, numbers, choices
    ("MQL" for `mql`) and users read as people write them."""

    builtin = False

    def __init__(self, kind: str, *, key: str = "", label: str = "") -> None:
        self.kind = kind
        self.key = key
        self.label = label or "Manual mapping"
        self._readers: dict[str, str] = {}
        self._choices: dict[str, Callable[[str], str]] = {}
        fields = []
        for name, spec in SERIALIZERS[kind]().fields.items():
            if isinstance(spec, serializers.DictField):
                self.attributes = True
                continue
            label_ = name.replace("_", " ").capitalize()
            fields.append(ImportField(name, label_, required=spec.required, aliases=(name,)))
            if isinstance(spec, serializers.DateTimeField):
                self._readers[name] = "moment"
            elif isinstance(spec, serializers.DateField):
                self._readers[name] = "day"
            elif isinstance(spec, serializers.DecimalField):
                self._readers[name] = "decimal"
            elif isinstance(spec, serializers.ChoiceField):
                self._choices[name] = _choice_reader(spec.choices)
            elif name in USER_FIELDS:
                self._readers[name] = "owner"
        self.fields = tuple(fields)

    def records(self, cells: Cells) -> list[Record]:
        data: dict[str, Any] = {}
        columns: dict[str, str] = {}
        attributes: dict[str, str] = {}
        for name, column in cells.mapping.items():
            if name.startswith(ATTRIBUTES):
                if text := cells.text(name):
                    attributes[name[len(ATTRIBUTES) :]] = text
                columns.setdefault("attributes", column)
                continue
            columns[name] = column
            reader = self._readers.get(name)
            value = getattr(cells, reader)(name) if reader else cells.text(name)
            if name in self._choices and value:
                value = self._choices[name](value)
            if value not in (None, ""):
                data[name] = value
        if attributes:
            data["attributes"] = attributes
        cells.check()
        return [Record(kind=self.kind, data=data, columns=columns)]


def preset_manual(kind: str, *, key: str = "", label: str = "") -> ManualPreset:
    return ManualPreset(kind, key=key, label=label)


def presets_builtin(kind: str) -> list[Preset]:
    return [p for p in BUILT_IN.values() if p.kind == kind]


def mapping_guess(preset: Preset, columns: Sequence[str]) -> dict[str, str]:
    """Each field's column, by the name the source system documents or the field's own name,
    whatever the case, spaces and punctuation."""
    by_key: dict[str, str] = {}
    for column in columns:
        by_key.setdefault(_key(column), column)
    mapping = {}
    for spec in preset.fields:
        for name in (spec.column, *spec.aliases, spec.name, spec.label):
            if name and _key(name) in by_key:
                mapping[spec.name] = by_key[_key(name)]
                break
    return mapping


def preset_guess(kind: str, columns: Sequence[str]) -> Preset | None:
    """The built-in preset of `kind` the header is an export of: every required column there
    and at least half of its columns; of several, the one with the most."""
    best, best_count = None, 0
    for preset in presets_builtin(kind):
        mapping = mapping_guess(preset, columns)
        complete = all(f.name in mapping for f in preset.required())
        if complete and len(mapping) * 2 >= len(preset.fields) and len(mapping) > best_count:
            best, best_count = preset, len(mapping)
    return best


def mapping_clean(mapping: Mapping[str, Any]) -> dict[str, str]:
    """The mapping without its empty entries (a field left unmapped)."""
    return {str(k): str(v).strip() for k, v in mapping.items() if v and str(v).strip()}


def mapping_problems(
    preset: Preset, mapping: Mapping[str, str], columns: Sequence[str]
) -> list[str]:
    """What is wrong with a mapping for this preset and header: fields it doesn't have,
    columns the file doesn't have, required fields left unmapped (named by their documented
    column for a built-in preset)."""
    problems = []
    known = {f.name: f for f in preset.fields}
    header = set(columns)
    for name, column in mapping.items():
        extra = preset.attributes and name.startswith(ATTRIBUTES) and len(name) > len(ATTRIBUTES)
        if name not in known and not extra:
            problems.append(f"{preset.label} has no field “{name}”.")
        elif column not in header:
            label = known[name].label if name in known else name
            problems.append(f"The file has no column “{column}” (mapped to {label}).")
    missing = [f for f in preset.required() if not mapping.get(f.name)]
    absent = [f for f in missing if preset.builtin and f.column not in header]
    if absent:
        names = ", ".join(f"“{f.column}”" for f in absent)
        problems.append(
            f"The file has no column {names}: the {preset.label} preset needs "
            f"{'it' if len(absent) == 1 else 'them'} (or map another column)."
        )
    if unmapped := [f for f in missing if f not in absent]:
        names = ", ".join(f.label if preset.builtin else f.name for f in unmapped)
        problems.append(f"Map a column to each required field: {names}.")
    return problems

"""Channels are data: a key normalised from whatever a source system calls it, created on first
sight, renamed and merged by an admin.

HubSpot sends `ORGANIC_SEARCH`, Salesforce `Phone Inquiry`, a spreadsheet `organic search`:
`channel_key` turns each into one slug (`organic_search`, `phone_inquiry`), and
`channels_ensure` creates the channels not seen before with a label read from the key
("Organic search"). A merge moves every campaign of one channel to another and deletes the
first; the metrics follow after a recompute, which the merge logs for every day its campaigns'
leads and costs touched.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from alignment.models import Goal
from alignment.services.audit import audit_record
from leads.changes import funnel_changed, funnel_leads_changed
from leads.models import Campaign, Channel
from leads.selectors import campaign_lead_ids

KEY_MAX = Channel._meta.get_field("key").max_length
_NOT_KEY = re.compile(r"[\W_]+")


def channel_key(raw: str) -> str:
    """The channel key of a source system's label: lower case, a Latin letter's accents
    dropped ("Réseaux sociaux" is `reseaux_sociaux`, "Straße" `strasse`), letters of other
    scripts kept ("Рассылка" is `рассылка`), runs of anything but letters and digits as one
    `_`, at most 32 characters; "" when nothing is left."""
    text = "".join(_unaccented(c) for c in (raw or "").strip().casefold())
    return _NOT_KEY.sub("_", text).strip("_")[:KEY_MAX].strip("_")


def _unaccented(char: str) -> str:
    """A letter with its accents dropped when what is left is ASCII (é → e, ﬁ → fi); any other
    letter as it is (й stays й, not и)."""
    base = unicodedata.normalize("NFKD", char)
    plain = "".join(c for c in base if not unicodedata.combining(c))
    return plain if plain.isascii() else char


def channel_label(key: str) -> str:
    """The label a new channel gets from its key: `organic_search` reads "Organic search"."""
    return key.replace("_", " ").capitalize()


def channels_ensure(*, keys: Iterable[str]) -> set[str]:
    """Create the channels of these (normalised) keys that don't exist yet; returns the keys
    it created. Safe against a concurrent creator (`ignore_conflicts`)."""
    wanted = {k for k in keys if k}
    if not wanted:
        return set()
    missing = wanted - set(Channel.objects.filter(key__in=wanted).values_list("key", flat=True))
    Channel.objects.bulk_create(
        [Channel(key=k, label=channel_label(k)) for k in sorted(missing)], ignore_conflicts=True
    )
    return missing


@transaction.atomic
def channel_merge(*, source: Channel, into: Channel, by: AbstractBaseUser | None) -> int:
    """Move every campaign of `source` to `into`, delete `source`, audit the merge and log it in
    the admin's history of both; returns how many campaigns moved. The days of those campaigns' leads and costs are
    logged for the recompute, so the numbers file under `into` once it has run."""
    if source.pk == into.pk:
        raise ValidationError("A channel cannot be merged into itself.")
    campaigns = list(
        Campaign.objects.filter(channel=source).values_list("pk", "starts_on", "ends_on")
    )
    moved = Campaign.objects.filter(channel=source).update(channel=into)
    # A goal on the channel is a goal on the channel it became (its numbers file there now).
    goals = Goal.objects.filter(dimension="channel", key=source.key).update(key=into.key)
    if campaigns:
        funnel_changed(spans=[(s, e) for _, s, e in campaigns], part="campaigns")
        funnel_leads_changed(
            lead_ids=campaign_lead_ids(campaign_ids=[pk for pk, _, _ in campaigns])
        )
    if by is not None and by.pk is not None:
        message = f"Merged channel {source.key!r} ({source.label}) into {into.key!r}: {moved} campaign(s) and {goals} goal(s) moved."
        for obj in (into, source):
            LogEntry.objects.log_actions(
                user_id=by.pk,
                queryset=[obj],
                action_flag=CHANGE,
                change_message=message,
                single_object=True,
            )
    audit_record(
        actor=by,
        action="channel.merged",
        target=source,
        label=f"Channel {source.label} ({source.key})",
        changes={"channel": [source.key, into.key]},
        details={"into": f"{into.label} ({into.key})", "campaigns": moved, "goals": goals},
    )
    source.delete()
    return moved

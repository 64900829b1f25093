from __future__ import annotations

from datetime import date

import pytest
from django.contrib.admin.models import LogEntry
from django.core.exceptions import ValidationError
from django.db.models import ProtectedError
from django.test import Client

from kpis.models import KpiSnapshot
from kpis.services import kpis_recompute, kpis_recompute_dirty
from leads.models import Campaign, Channel
from leads.services_channels import channel_key, channel_label, channel_merge, channels_ensure
from tests.conftest import World, goal

pytestmark = pytest.mark.django_db
MARCH = date(2026, 3, 1)


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("ORGANIC_SEARCH", "organic_search"),
        ("Phone Inquiry", "phone_inquiry"),
        ("  Partner  Referral ", "partner_referral"),
        ("other_publicities", "other_publicities"),
        ("E-mail / newsletter", "e_mail_newsletter"),
        ("?!", ""),
        ("x" * 40, "x" * 32),
        ("Réseaux sociaux", "reseaux_sociaux"),  # a French HubSpot's "Original Source"
        ("Messe München", "messe_munchen"),
        ("Straße", "strasse"),
        ("Рассылка", "рассылка"),  # another script: kept, not refused
        ("Йогурт ТВ", "йогурт_тв"),  # й is a letter of its own, not и with a mark
        ("社交媒体", "社交媒体"),
    ],
)
def test_a_source_systems_label_becomes_one_channel_key(raw: str, key: str) -> None:
    assert channel_key(raw) == key


def test_a_new_channel_reads_its_label_from_its_key() -> None:
    assert channel_label("organic_search") == "Organic search"
    assert channels_ensure(keys={"organic_search", "webinar", ""}) == {"organic_search"}
    assert Channel.objects.get(key="organic_search").label == "Organic search"
    assert Channel.objects.get(key="webinar").label == "Webinar"  # seeded, untouched


def test_a_label_in_another_script_becomes_a_channel_of_its_own(world: World) -> None:
    world.campaign("A", channel="Рассылка")
    world.campaign("B", channel="Réseaux sociaux")
    assert Campaign.objects.get(external_id="A").channel.label == "Рассылка"
    assert Campaign.objects.get(external_id="B").channel.label == "Reseaux sociaux"


def test_the_seed_channels_are_there_from_the_migration() -> None:
    assert {"email", "paid_search", "webinar", "event", "seo", "other"} <= set(
        Channel.objects.values_list("key", flat=True)
    )


def funnel(world: World) -> None:
    world.campaign("A", channel="webinar", starts_on="2026-03-01", ends_on="2026-03-31", cost=3100)
    world.campaign("B", channel="Phone Inquiry", starts_on="2026-03-01", ends_on="2026-03-31")
    world.campaign("C", channel="paid_search", starts_on="2026-03-01", ends_on="2026-03-31")
    for i, campaign in enumerate(["A", "A", "B", "C"]):
        lead = world.lead(f"2026-03-0{i + 2}T09:00:00+00:00", campaign=campaign)
        world.stage(lead, "mql", f"2026-03-0{i + 2}T10:00:00+00:00")


def numbers(metric: str, dimension: str) -> dict[str, object]:
    return dict(
        KpiSnapshot.objects.filter(
            metric=metric, period="month", period_start=MARCH, dimension=dimension, model=""
        ).values_list("key", "numerator")
    )


def test_a_merge_keeps_the_numbers_and_files_them_under_the_merged_key(
    world: World, admin_user: object
) -> None:
    funnel(world)
    kpis_recompute(kind="month", periods=[MARCH])
    assert numbers("mqls", "channel") == {"webinar": 2, "phone_inquiry": 1, "paid_search": 1}
    totals, costs = numbers("mqls", ""), numbers("campaign_cost", "")

    moved = channel_merge(
        source=Channel.objects.get(key="phone_inquiry"),
        into=Channel.objects.get(key="webinar"),
        by=admin_user,
    )
    kpis_recompute_dirty()

    assert moved == 1
    assert Campaign.objects.get(external_id="B").channel_id == "webinar"
    assert not Channel.objects.filter(key="phone_inquiry").exists()
    assert numbers("mqls", "channel") == {"webinar": 3, "paid_search": 1}
    assert (numbers("mqls", ""), numbers("campaign_cost", "")) == (totals, costs)
    history = LogEntry.objects.filter(change_message__contains="Merged channel 'phone_inquiry'")
    assert history.count() == 2  # on the channel merged into and on the one merged away


def test_a_channel_cannot_be_merged_into_itself_nor_deleted_while_in_use(world: World) -> None:
    world.campaign("A", channel="webinar")
    webinar = Channel.objects.get(key="webinar")
    with pytest.raises(ValidationError):
        channel_merge(source=webinar, into=webinar, by=None)
    with pytest.raises(ProtectedError):
        webinar.delete()


def test_the_admin_merges_channels_through_its_action(world: World, staff: Client) -> None:
    world.campaign("A", channel="SOCIAL_MEDIA")
    world.campaign("B", channel="social")
    source, into = Channel.objects.get(key="social_media"), Channel.objects.get(key="social")
    url = "/admin/leads/channel/"
    form = staff.post(url, {"action": "merge", "_selected_action": [source.pk]})
    assert form.status_code == 200 and b"Merge into" in form.content
    done = staff.post(
        url,
        {"action": "merge", "_selected_action": [source.pk], "into": into.pk, "apply": "Merge"},
        follow=True,
    )
    assert b"1 campaign(s) moved" in done.content
    assert set(Campaign.objects.values_list("channel", flat=True)) == {"social"}
    history = staff.get(f"/admin/leads/channel/{into.pk}/history/")
    assert b"Merged channel" in history.content


def test_the_admin_renames_a_channel_but_not_its_key(world: World, staff: Client) -> None:
    world.campaign("A", channel="ORGANIC_SEARCH")
    channel = Channel.objects.get(key="organic_search")
    response = staff.post(
        f"/admin/leads/channel/{channel.pk}/change/",
        {"key": "seo", "label": "Organic search (SEO)", "colour": "#2356c7"},
    )
    assert response.status_code == 302
    channel.refresh_from_db()
    assert (channel.key, channel.label, channel.colour) == (
        "organic_search",
        "Organic search (SEO)",
        "#2356c7",
    )
    bad = staff.post(f"/admin/leads/channel/{channel.pk}/change/", {"label": "x", "colour": "blue"})
    assert bad.status_code == 200 and b"#rrggbb" in bad.content


def test_a_goal_on_a_merged_channel_follows_it(world: World, admin_user: object) -> None:
    world.campaign("B", channel="Phone Inquiry", starts_on="2026-03-01", ends_on="2026-03-31")
    on_phone = goal(admin_user, metric="mqls", dimension="channel", key="phone_inquiry")
    on_email = goal(admin_user, metric="mqls", dimension="channel", key="email", name="E-mail")
    channel_merge(
        source=Channel.objects.get(key="phone_inquiry"),
        into=Channel.objects.get(key="webinar"),
        by=admin_user,
    )
    on_phone.refresh_from_db()
    on_email.refresh_from_db()
    assert (on_phone.key, on_email.key) == ("webinar", "email")
    assert LogEntry.objects.filter(change_message__contains="1 goal(s) moved").count() == 2

"""Channels become records: create the table, seed the channels a new install starts with and
every key a campaign already uses, and drop the check that held campaigns to twelve codes."""

import django.core.validators
from django.db import migrations, models

SEED = [
    ("email", "E-mail"),
    ("paid_search", "Paid search"),
    ("paid_social", "Paid social"),
    ("organic_social", "Organic social"),
    ("seo", "SEO"),
    ("content", "Content"),
    ("webinar", "Webinar"),
    ("event", "Event"),
    ("referral", "Referral"),
    ("partner", "Partner"),
    ("outbound", "Outbound"),
    ("other", "Other"),
]


def seed(apps, schema_editor):
    Channel = apps.get_model("leads", "Channel")
    Campaign = apps.get_model("leads", "Campaign")
    labels = dict(SEED)
    used = set(Campaign.objects.values_list("channel", flat=True).distinct())
    for key in [k for k, _ in SEED] + sorted(used - set(labels)):
        Channel.objects.get_or_create(
            key=key, defaults={"label": labels.get(key) or key.replace("_", " ").capitalize()}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0013_link_and_withdraw_handoffs"),
    ]

    operations = [
        migrations.CreateModel(
            name="Channel",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("key", models.SlugField(max_length=32, unique=True)),
                ("label", models.CharField(max_length=80)),
                (
                    "colour",
                    models.CharField(
                        blank=True,
                        help_text="A chart colour as #rrggbb; empty: the chart's own palette.",
                        max_length=7,
                        validators=[
                            django.core.validators.RegexValidator(
                                "^#[0-9a-fA-F]{6}$", "Give a colour as #rrggbb."
                            )
                        ],
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={"ordering": ["label", "key"]},
        ),
        migrations.RemoveConstraint(model_name="campaign", name="campaign_channel_valid"),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]

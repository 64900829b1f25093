from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import migrations

ROLES = ["marketing_rep", "marketing_manager", "sales_rep", "sales_manager", "admin"]


def forwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)
    SLA = apps.get_model("alignment", "ServiceLevelAgreement")
    if not SLA.objects.exists():
        SLA.objects.create(
            version=1,
            effective_from=datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC),
            status="approved",
            first_contact_hours=Decimal("4"),
            attempts=6,
            attempt_spacing_days=Decimal("2"),
            monthly_sal_commitment=100,
            notes="Default agreement: first contact within 4 hours, 6 attempts 2 days apart, "
            "100 SALs a month.",
        )


def backwards(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [("alignment", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(forwards, backwards)]

# One row that names the current snapshots (kpis.versions): every swap of snapshots gives it a
# new token in its own transaction; the page cache keys what it renders by it.

import uuid

from django.db import migrations, models
from django.utils import timezone


def create_row(apps, schema_editor):
    SnapshotVersion = apps.get_model("kpis", "SnapshotVersion")
    SnapshotVersion.objects.get_or_create(
        pk=1, defaults={"token": uuid.uuid4().hex, "changed_at": timezone.now()}
    )


class Migration(migrations.Migration):

    dependencies = [
        ("kpis", "0004_engine_marks"),
    ]

    operations = [
        migrations.CreateModel(
            name="SnapshotVersion",
            fields=[
                (
                    "id",
                    models.PositiveSmallIntegerField(
                        default=1, editable=False, primary_key=True, serialize=False
                    ),
                ),
                ("token", models.CharField(max_length=32)),
                ("changed_at", models.DateTimeField()),
            ],
        ),
        migrations.RunPython(create_row, migrations.RunPython.noop),
    ]

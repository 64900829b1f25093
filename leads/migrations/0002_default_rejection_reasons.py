from __future__ import annotations

from django.db import migrations

REASONS = [
    ("bad_fit", "Bad fit"),
    ("no_budget", "No budget"),
    ("wrong_contact", "Wrong contact"),
    ("duplicate", "Duplicate"),
    ("not_ready", "Not ready to buy"),
    ("unresponsive", "Unresponsive"),
    ("competitor", "Went with a competitor"),
    ("other", "Other"),
]


def forwards(apps, schema_editor):
    Reason = apps.get_model("leads", "RejectionReason")
    for position, (code, label) in enumerate(REASONS):
        Reason.objects.get_or_create(code=code, defaults={"label": label, "position": position})


class Migration(migrations.Migration):
    dependencies = [("leads", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]

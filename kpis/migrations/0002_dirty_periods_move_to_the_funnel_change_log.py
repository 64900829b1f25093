# The dirty-period outbox moves to the funnel's change log (leads.FunnelChange): the funnel
# records its own changes and the engine reads them. Pending entries are carried over.

from django.db import migrations


def carry_over(apps, schema_editor):
    DirtyPeriod = apps.get_model("kpis", "DirtyPeriod")
    FunnelChange = apps.get_model("leads", "FunnelChange")
    FunnelChange.objects.bulk_create(
        [
            FunnelChange(period=d.period, period_start=d.period_start, marked_at=d.marked_at)
            for d in DirtyPeriod.objects.all()
        ],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):

    dependencies = [
        ("kpis", "0001_initial"),
        ("leads", "0005_funnel_change_log"),
    ]

    operations = [
        migrations.RunPython(carry_over, migrations.RunPython.noop),
        migrations.DeleteModel(name="DirtyPeriod"),
    ]

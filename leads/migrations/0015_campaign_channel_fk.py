"""A campaign's channel is a foreign key to the channel's key, in the same `channel` column."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0014_channels"),
    ]

    operations = [
        migrations.AlterField(
            model_name="campaign",
            name="channel",
            field=models.ForeignKey(
                db_column="channel",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="campaigns",
                to="leads.channel",
                to_field="key",
            ),
        ),
    ]

"""The default SLA version 1 predates the heads: it counts as approved by both teams."""

from __future__ import annotations

from django.db import migrations


def forwards(apps, schema_editor):
    SLA = apps.get_model("alignment", "ServiceLevelAgreement")
    for sla in SLA.objects.filter(status="approved", approved_at__isnull=True):
        signed = sla.created_at or sla.effective_from
        sla.marketing_approved_at = sla.marketing_approved_at or signed
        sla.sales_approved_at = sla.sales_approved_at or signed
        sla.approved_at = signed
        sla.applied_at = sla.applied_at or signed
        sla.save(
            update_fields=["marketing_approved_at", "sales_approved_at", "approved_at", "applied_at"]
        )


class Migration(migrations.Migration):
    dependencies = [("alignment", "0003_dual_signed_versions_goals_scorecard")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]

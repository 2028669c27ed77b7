"""The engine's state about a tenant's sales data leaves the person's choice
(tenants.SalesData) for its own model, its values carried over."""

import django.db.models.deletion
from django.db import migrations, models

MOVED = {
    "account_id": "account_id",
    "fields": "fields",
    "tag_id": "tag_id",
    "tagging_activity_id": "tagging_activity_id",
    "tagging_upto": "tagging_upto",
    "problem": "problem",
    "refreshed_at": "figures_read_at",
    "filled_at": "everyone_read_at",
}


def carry_over(apps, schema_editor):
    SalesData = apps.get_model("tenants", "SalesData")
    SalesDataState = apps.get_model("sync", "SalesDataState")
    SalesDataState.objects.bulk_create(
        [
            SalesDataState(
                tenant_id=choice.tenant_id,
                **{new: getattr(choice, old) for old, new in MOVED.items()},
            )
            for choice in SalesData.objects.all()
        ]
    )


def carry_back(apps, schema_editor):
    SalesData = apps.get_model("tenants", "SalesData")
    for state in apps.get_model("sync", "SalesDataState").objects.all():
        SalesData.objects.filter(tenant_id=state.tenant_id).update(
            **{old: getattr(state, new) for old, new in MOVED.items()}
        )


class Migration(migrations.Migration):

    dependencies = [
        ('sync', '0007_vocabulary'),
        ('tenants', '0005_quickbooks_hard_expiry'),
    ]

    operations = [
        migrations.CreateModel(
            name='SalesDataState',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('account_id', models.CharField(blank=True, max_length=64)),
                ('fields', models.JSONField(blank=True, default=dict)),
                ('tag_id', models.CharField(blank=True, max_length=64)),
                ('tagging_activity_id', models.CharField(blank=True, max_length=64)),
                ('tagging_upto', models.DateTimeField(blank=True, null=True)),
                ('problem', models.CharField(blank=True, max_length=500)),
                ('figures_read_at', models.DateTimeField(blank=True, null=True)),
                ('everyone_read_at', models.DateTimeField(blank=True, null=True)),
                ('tenant', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='sales_state', to='tenants.tenant')),
            ],
            options={
                'verbose_name': 'sales data state',
            },
        ),
        migrations.RunPython(carry_over, carry_back),
    ]

"""SalesData keeps the person's choice alone: the engine's state about the Constant Contact
account moved to sync.SalesDataState (sync's migration 0008 carried it over)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('tenants', '0005_quickbooks_hard_expiry'),
        ('sync', '0008_sales_data_state'),
    ]

    operations = [
        migrations.RemoveField(model_name='salesdata', name='account_id'),
        migrations.RemoveField(model_name='salesdata', name='fields'),
        migrations.RemoveField(model_name='salesdata', name='tag_id'),
        migrations.RemoveField(model_name='salesdata', name='tagging_activity_id'),
        migrations.RemoveField(model_name='salesdata', name='tagging_upto'),
        migrations.RemoveField(model_name='salesdata', name='problem'),
        migrations.RemoveField(model_name='salesdata', name='refreshed_at'),
        migrations.RemoveField(model_name='salesdata', name='filled_at'),
    ]

# One name per thing: the QuickBooks connection is called so everywhere.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0002_tenants_connections"),
    ]

    operations = [
        migrations.RenameModel(old_name="IntuitConnection", new_name="QuickBooksConnection"),
        migrations.AlterField(
            model_name="quickbooksconnection",
            name="tenant",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="quickbooks_connection",
                to="tenants.tenant",
            ),
        ),
    ]

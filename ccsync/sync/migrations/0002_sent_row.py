from django.db import migrations, models
from django.db.models import F


def rows_already_sent(apps, schema_editor):
    # Where the hashes match, what was sent is the row as it is now.
    CustomerRecord = apps.get_model("sync", "CustomerRecord")
    CustomerRecord.objects.exclude(sent_hash="").filter(sent_hash=F("row_hash")).update(
        sent_row=F("row")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="customerrecord",
            name="sent_row",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunPython(rows_already_sent, migrations.RunPython.noop),
    ]

import django.db.models.deletion
from django.db import migrations, models


def fill_apps(apps, schema_editor):
    for name in ("AuthorizationCode", "Grant"):
        model = apps.get_model("sandbox_intuit", name)
        for row in model.objects.select_related("connection"):
            row.app_id = row.connection.app_id
            row.save(update_fields=["app"])


class Migration(migrations.Migration):
    dependencies = [("sandbox_intuit", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="authorizationcode",
            name="app",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.CASCADE, to="sandbox_intuit.app"
            ),
        ),
        migrations.AddField(
            model_name="grant",
            name="app",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="grants",
                to="sandbox_intuit.app",
            ),
        ),
        migrations.RunPython(fill_apps, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="authorizationcode",
            name="app",
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="sandbox_intuit.app"),
        ),
        migrations.AlterField(
            model_name="grant",
            name="app",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="grants", to="sandbox_intuit.app"
            ),
        ),
        migrations.AlterField(
            model_name="authorizationcode",
            name="connection",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                to="sandbox_intuit.connection",
            ),
        ),
        migrations.AlterField(
            model_name="grant",
            name="connection",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="grants",
                to="sandbox_intuit.connection",
            ),
        ),
    ]

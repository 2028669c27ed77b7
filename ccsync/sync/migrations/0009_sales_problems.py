"""What an optional step of sales data met, by source (ccsync/sync/optional.py), and the
figures owed after the reports failed; the reports' old problem moves to its source."""

from django.db import migrations, models

OLD_REPORTS_PROBLEM = "QuickBooks Online's reports could not be read"


def move_reports_problem(apps, schema_editor):
    SalesDataState = apps.get_model("sync", "SalesDataState")
    for state in SalesDataState.objects.filter(problem__startswith=OLD_REPORTS_PROBLEM):
        state.problems = {"reports": state.problem}
        state.problem = ""
        state.save(update_fields=["problems", "problem"])


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0008_sales_data_state"),
    ]

    operations = [
        migrations.AddField(
            model_name="salesdatastate",
            name="problems",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="salesdatastate",
            name="reports_failures",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="salesdatastate",
            name="reports_retry_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(move_reports_problem, migrations.RunPython.noop),
    ]

"""The glossary's words (docs/product.md): a run of changes, a full check, the catch-up, a
customer refused by Constant Contact. Existing runs take the new names of their kinds."""

from django.db import migrations, models

KINDS = {"incremental": "changes", "reconcile": "full_check"}


def rename_kinds(apps, schema_editor):
    Run = apps.get_model("sync", "Run")
    for old, new in KINDS.items():
        Run.objects.filter(kind=old).update(kind=new)


def restore_kinds(apps, schema_editor):
    Run = apps.get_model("sync", "Run")
    for old, new in KINDS.items():
        Run.objects.filter(kind=new).update(kind=old)


class Migration(migrations.Migration):

    dependencies = [
        ('sync', '0006_times_out_of_range'),
    ]

    operations = [
        migrations.RenameField(
            model_name='tenantsync',
            old_name='reconciled_at',
            new_name='caught_up_at',
        ),
        migrations.RenameField(
            model_name='tenantsync',
            old_name='incremental_scheduled',
            new_name='changes_scheduled',
        ),
        migrations.AlterField(
            model_name='run',
            name='kind',
            field=models.CharField(choices=[('first', 'First sync'), ('changes', 'Changes'), ('full_check', 'Full check')], max_length=16),
        ),
        migrations.RunPython(rename_kinds, restore_kinds),
        migrations.AlterField(
            model_name='customerrecord',
            name='outcome',
            field=models.CharField(choices=[('new', 'Not checked yet'), ('pending', 'Waiting to be sent'), ('sent', 'Sent, waiting for Constant Contact to confirm'), ('synced', 'Synced'), ('skipped', 'Not synced'), ('failed', 'Refused by Constant Contact')], default='new', max_length=16),
        ),
    ]

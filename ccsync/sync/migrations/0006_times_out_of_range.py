"""Times from outside stored before intake checked their range (ccsync.base.times), made
readable again in SQL (reading them would fail): an event's time becomes the time it came,
a last change seen is forgotten until the next, a customer's creation time is unknown."""

from datetime import UTC, datetime, timedelta

from django.db import migrations
from django.db.models import F, Q

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)  # as ccsync.base.times, frozen here
UNKNOWN = datetime(9999, 1, 1, tzinfo=UTC)  # judging's FAR_FUTURE: an unknown creation time


def outside(field: str, *, latest: datetime) -> Q:
    return Q(**{f"{field}__lt": EARLIEST}) | Q(**{f"{field}__gt": latest})


def repair(apps, schema_editor) -> None:
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    event = apps.get_model("sync", "WebhookEvent")
    event.objects.filter(outside("occurred_at", latest=tomorrow)).update(
        occurred_at=F("received_at")
    )
    state = apps.get_model("sync", "TenantSync")
    state.objects.filter(outside("last_change_at", latest=tomorrow)).update(last_change_at=None)
    record = apps.get_model("sync", "CustomerRecord")
    record.objects.filter(outside("created_in_quickbooks", latest=UNKNOWN)).update(
        created_in_quickbooks=UNKNOWN
    )


class Migration(migrations.Migration):
    dependencies = [("sync", "0005_sales_data")]

    operations = [migrations.RunPython(repair, migrations.RunPython.noop, elidable=True)]

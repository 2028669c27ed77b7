"""The change window: a company's events are gathered for a few seconds
(SYNC_COALESCE_SECONDS) into one run of changes. The first event of a window claims it (a
conditional UPDATE of the tenant's sync state) and enqueues its end (`sync.changes`,
dispatch.start_changes); the events after it ride along.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Min, Q
from django.utils import timezone

from ccsync.base import jobs
from ccsync.sync import pacing
from ccsync.sync.models import Run, TenantSync, WebhookEvent
from ccsync.sync.state import update_tenant_sync

STUCK_SCHEDULE = timedelta(minutes=5)


def schedule_changes(*, tenant_id: int) -> bool:
    """Gather this tenant's changes for a short while, then sync them in one run.

    Only the first change of a window schedules anything (a conditional UPDATE)."""
    claimed = update_tenant_sync(
        tenant_id=tenant_id, where=Q(changes_scheduled=False), changes_scheduled=True
    )
    if claimed:
        end_window_later(tenant_id=tenant_id)
    return bool(claimed)


def end_window_later(*, tenant_id: int) -> None:
    """The window just claimed ends in SYNC_COALESCE_SECONDS."""
    jobs.enqueue("sync.changes", tenant_id, countdown=settings.SYNC_COALESCE_SECONDS)


def close_window(*, tenant_id: int) -> None:
    """The window is over (its run started, or there is nothing to run): the next event
    opens another."""
    TenantSync.objects.filter(tenant_id=tenant_id).update(changes_scheduled=False)


def reschedule_forgotten() -> None:
    """Change windows whose end was never processed (a lost message) are scheduled again;
    a company waiting its turn in the pacer is not forgotten."""
    forgotten = (
        WebhookEvent.objects.filter(processed_at__isnull=True)
        .exclude(tenant__sync_runs__state__in=Run.OPEN_STATES)
        .values("tenant_id")
        .annotate(oldest=Min("received_at"))
        .filter(oldest__lt=timezone.now() - STUCK_SCHEDULE)
    )
    pacer = pacing.get_pacer()
    for row in forgotten:
        if pacer.is_waiting(str(row["tenant_id"])):
            continue
        close_window(tenant_id=row["tenant_id"])
        schedule_changes(tenant_id=row["tenant_id"])

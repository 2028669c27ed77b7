"""What people and beat ask of a tenant's sync: start, stop, pause, resume, sync now, and
beat's confirmation of overdue imports. The work is in kinds.py; beat's catch-up in
catch_up.py."""

import logging
from collections import Counter

from django.db.models import Min
from django.utils import timezone

from ccsync.base import jobs
from ccsync.sync import pacing
from ccsync.sync.broken_connections import connection_refused
from ccsync.sync.change_window import close_window
from ccsync.sync.clients import clients_for
from ccsync.sync.confirming import confirm_imports
from ccsync.sync.errors import BROKEN, QUOTA
from ccsync.sync.event_store import has_pending_events
from ccsync.sync.models import ContactImport, Run
from ccsync.sync.runs import cancel_open, create_run, requeue
from ccsync.sync.selectors import open_run, syncing_tenants
from ccsync.sync.state import sync_state
from tenants.models import Tenant

logger = logging.getLogger(__name__)


def start_first_sync(*, tenant: Tenant) -> Run:
    """Connect's first sync: a queued run, started once the caller's transaction commits.

    A tenant that already has an open run keeps it (its first sync resumes where it was)."""
    sync_state(tenant=tenant)  # the row record_events claims change windows on
    run = create_run(tenant=tenant, kind=Run.Kind.FIRST) or open_run(tenant=tenant)
    assert run is not None  # create_run declines only while the tenant has an open run
    return run


def stop_syncs(*, tenant: Tenant) -> int:
    """Cancel every open run (disconnect): a running worker stops at its next checkpoint."""
    cancelled = cancel_open(tenant=tenant)
    close_window(tenant_id=tenant.pk)
    return cancelled


def pause(*, tenant: Tenant) -> None:
    """The Pause button: the running sync stops at its next checkpoint, nothing new starts."""
    Tenant.objects.filter(pk=tenant.pk).update(paused=True)
    tenant.paused = True


def resume(*, tenant: Tenant) -> Run | None:
    """The Resume button: a paused run goes on from its checkpoint; waiting changes follow."""
    Tenant.objects.filter(pk=tenant.pk).update(paused=False)
    tenant.paused = False
    run = open_run(tenant=tenant)
    if run is not None and run.state != Run.State.RUNNING:
        return requeue(run=run)
    if run is None and has_pending_events(tenant=tenant):
        return create_run(tenant=tenant, kind=Run.Kind.CHANGES)
    return run


def sync_now(*, tenant: Tenant) -> Run | None:
    """The Sync now button: the first sync if it never finished, else a full check."""
    if tenant.paused or not tenant.is_connected:
        return None
    run = open_run(tenant=tenant)
    if run is not None:
        return requeue(run=run) if run.state == Run.State.PAUSED else run
    first_done = Run.objects.filter(
        tenant=tenant, kind=Run.Kind.FIRST, state=Run.State.COMPLETED
    ).exists()
    return create_run(tenant=tenant, kind=Run.Kind.FULL_CHECK if first_done else Run.Kind.FIRST)


# --- beat's checks ----------------------------------------------------------------------------


def confirm_overdue() -> None:
    """Imports nobody's run of changes confirmed in time (a company that edits no more
    today): each company's are confirmed together, by one task."""
    pacer = pacing.get_pacer()
    pressure, now = pacer.pressure(), timezone.now()
    oldest = (
        ContactImport.objects.filter(state="sent", tenant__in=syncing_tenants())
        .values("tenant_id")
        .annotate(oldest=Min("sent_at"))
    )
    for row in oldest:
        if pacing.confirmation_overdue(
            policy=pacer.policy,
            pressure=pressure,
            now=now.timestamp(),
            oldest=row["oldest"].timestamp(),
        ):
            jobs.enqueue("sync.confirm_imports", row["tenant_id"])


def confirm_tenant_imports(*, tenant_id: int) -> None:
    """Confirm a company's waiting imports between runs (a run confirms them itself)."""
    tenant = syncing_tenants().filter(pk=tenant_id).first()
    if tenant is None or open_run(tenant=tenant) is not None:
        return
    try:
        _, cc = clients_for(tenant=tenant, calls=Counter())
        confirm_imports(tenant=tenant, cc=cc)
    except BROKEN as error:
        connection_refused(tenant=tenant, error=error)
        logger.warning("confirmation skipped, a connection refused: tenant=%s", tenant_id)
    except QUOTA:
        logger.warning("confirmation skipped: tenant=%s", tenant_id)

"""Starting, stopping and claiming syncs; storing webhook events. The work is in engine.py."""

import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from ccsync.sync.models import Run, TenantSync, WebhookEvent
from ccsync.sync.selectors import open_run
from integrations.quickbooks.webhooks import CustomerEvent
from tenants import selectors as tenant_selectors
from tenants.models import Tenant

logger = logging.getLogger(__name__)


def _enqueue(run: Run) -> None:
    from ccsync.sync import tasks  # tasks imports the engine, which imports this module

    transaction.on_commit(lambda: tasks.run_sync.delay(run.pk))


def sync_state(*, tenant: Tenant) -> TenantSync:
    state, _ = TenantSync.objects.get_or_create(tenant=tenant)
    return state


def create_run(*, tenant: Tenant, kind: str) -> Run | None:
    """A queued run of this kind, enqueued on commit; None if the tenant already has one open."""
    try:
        with transaction.atomic():
            run = Run.objects.create(tenant=tenant, kind=kind)
    except IntegrityError:
        return None  # one sync at a time: the open run will pick up whatever is pending
    _enqueue(run)
    logger.info("sync run queued: tenant=%s run=%s kind=%s", tenant.pk, run.pk, kind)
    return run


def start_first_sync(*, tenant: Tenant) -> Run:
    """Connect's first sync: a queued run, started once the caller's transaction commits.

    A tenant that already has an open run keeps it (its first sync resumes where it was)."""
    sync_state(tenant=tenant)  # the row record_events claims change windows on
    run = create_run(tenant=tenant, kind=Run.Kind.FIRST)
    return run or open_run(tenant=tenant)


def stop_syncs(*, tenant: Tenant) -> int:
    """Cancel every open run (disconnect): a running worker stops at its next checkpoint."""
    cancelled = Run.objects.filter(tenant=tenant, state__in=Run.OPEN_STATES).update(
        state=Run.State.CANCELLED, finished_at=timezone.now(), claimed_by=""
    )
    TenantSync.objects.filter(tenant=tenant).update(incremental_scheduled=False)
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
        return create_run(tenant=tenant, kind=Run.Kind.INCREMENTAL)
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
    return create_run(tenant=tenant, kind=Run.Kind.RECONCILE if first_done else Run.Kind.FIRST)


def requeue(*, run: Run) -> Run:
    """Queue an open run again (after a pause, or when its worker died); it resumes from its
    checkpoint."""
    # The heartbeat marks when it was queued again: recovery waits as long before the next try.
    Run.objects.filter(pk=run.pk, state__in=Run.OPEN_STATES).update(
        state=Run.State.QUEUED, claimed_by="", paused_until=None, heartbeat_at=timezone.now()
    )
    run.refresh_from_db()
    if run.state == Run.State.QUEUED:
        _enqueue(run)
    return run


def claim(*, run_id: int, worker: str) -> bool:
    """Take a queued run, or a running one whose worker went quiet, for `worker`.

    A conditional UPDATE: two workers racing for the same run cannot both win.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=settings.SYNC_STALE_RUN_SECONDS)
    claimable = Q(state=Run.State.QUEUED) | Q(
        Q(state=Run.State.RUNNING)
        & (Q(claimed_by=worker) | Q(claimed_by="") | Q(heartbeat_at__lt=stale))
    )
    return bool(
        Run.objects.filter(claimable, pk=run_id, tenant__paused=False).update(
            state=Run.State.RUNNING,
            claimed_by=worker,
            heartbeat_at=now,
            started_at=Coalesce("started_at", now),
        )
    )


def has_pending_events(*, tenant: Tenant) -> bool:
    return WebhookEvent.objects.filter(tenant=tenant, processed_at__isnull=True).exists()


def update_tenant_sync(*, tenant_id: int, where: Q, **values: Any) -> int:
    """A conditional UPDATE of the tenant's sync state, its row made first if it has none.

    One query on the webhook path's usual case, where get_or_create would cost two."""
    updated = TenantSync.objects.filter(where, tenant_id=tenant_id).update(**values)
    if updated or TenantSync.objects.filter(tenant_id=tenant_id).exists():
        return updated
    TenantSync.objects.get_or_create(tenant_id=tenant_id)
    return TenantSync.objects.filter(where, tenant_id=tenant_id).update(**values)


def schedule_changes(*, tenant_id: int) -> bool:
    """Gather this tenant's changes for a short while, then sync them in one run.

    Only the first change of a window schedules anything (a conditional UPDATE)."""
    claimed = update_tenant_sync(
        tenant_id=tenant_id, where=Q(incremental_scheduled=False), incremental_scheduled=True
    )
    if claimed:
        _end_window_later(tenant_id)
    return bool(claimed)


def _end_window_later(tenant_id: int) -> None:
    from ccsync.sync import tasks

    transaction.on_commit(
        lambda: tasks.sync_changes.apply_async(
            args=[tenant_id], countdown=settings.SYNC_COALESCE_SECONDS
        )
    )


def start_changes(*, tenant: Tenant) -> Run | None:
    """The end of a coalescing window: one incremental run for everything waiting."""
    TenantSync.objects.filter(tenant=tenant).update(incremental_scheduled=False)
    if tenant.paused or not tenant.is_connected or not has_pending_events(tenant=tenant):
        return None
    if tenant_selectors.current_list(tenant=tenant) is None:
        return None  # not set up yet: the first sync will take the changes along
    return create_run(tenant=tenant, kind=Run.Kind.INCREMENTAL)


def record_events(*, events: Sequence[CustomerEvent]) -> int:
    """Store webhook events of connected tenants (others are ignored) and schedule the sync of
    those not paused. Returns how many were stored: an event already stored (the same id
    for the same company, delivered again) is not stored twice.

    One statement does it all, as it runs for each of hundreds of deliveries a second: each
    ORM query costs about a millisecond of CPU to build. No transaction spans a delivery, so
    a burst for one company never queues on its sync-state row. Scheduling that did not
    happen is caught by beat's recover_runs."""
    if not events:
        return 0
    if connection.vendor != "postgresql":
        return record_events_portably(events=events)
    with connection.cursor() as cursor:
        cursor.execute(
            _RECORD_EVENTS,
            {
                "event_ids": [event.event_id for event in events],
                "realm_ids": [event.realm_id for event in events],
                "customer_ids": [event.customer_id for event in events],
                "operations": [event.operation for event in events],
                "deleted_ids": [event.deleted_id or "" for event in events],
                "occurred": [event.occurred_at for event in events],
                "received": timezone.now(),
                "connected": Tenant.State.CONNECTED.value,
            },
        )
        stored, claimed = cursor.fetchone()
    for tenant_id in claimed:
        _end_window_later(tenant_id)
    return stored


def record_events_portably(*, events: Sequence[CustomerEvent]) -> int:
    """record_events in several ORM queries, for databases without PostgreSQL's unnest and
    data-modifying CTEs: the demo's SQLite, one writer at a time."""
    tenants = dict(
        Tenant.objects.filter(
            realm_id__in={event.realm_id for event in events}, state=Tenant.State.CONNECTED
        ).values_list("realm_id", "pk")
    )
    known = set(
        WebhookEvent.objects.filter(
            realm_id__in=tenants, event_id__in={event.event_id for event in events}
        ).values_list("realm_id", "event_id")
    )
    rows: dict[tuple[str, str], WebhookEvent] = {}
    for event in events:
        key = (event.realm_id, event.event_id)
        if event.realm_id in tenants and key not in known:
            rows.setdefault(
                key,
                WebhookEvent(
                    tenant_id=tenants[event.realm_id],
                    event_id=event.event_id,
                    realm_id=event.realm_id,
                    customer_id=event.customer_id,
                    operation=event.operation,
                    deleted_id=event.deleted_id or "",
                    occurred_at=event.occurred_at,
                ),
            )
    WebhookEvent.objects.bulk_create(rows.values(), ignore_conflicts=True)
    changed = {row.tenant_id for row in rows.values()}
    for tenant_id in Tenant.objects.filter(pk__in=changed, paused=False).values_list(
        "pk", flat=True
    ):
        schedule_changes(tenant_id=tenant_id)
    return len(rows)


# PostgreSQL's: unnest turns the columns into rows, a data-modifying CTE feeds the claim.
_RECORD_EVENTS = """
WITH stored AS (
    INSERT INTO sync_webhookevent
        (tenant_id, event_id, realm_id, customer_id, operation, deleted_id, occurred_at,
         received_at)
    SELECT tenant.id, incoming.*, %(received)s
    FROM unnest(
        %(event_ids)s::varchar[], %(realm_ids)s::varchar[], %(customer_ids)s::varchar[],
        %(operations)s::varchar[], %(deleted_ids)s::varchar[], %(occurred)s::timestamptz[]
    ) AS incoming (event_id, realm_id, customer_id, operation, deleted_id, occurred_at)
    JOIN tenants_tenant AS tenant
        ON tenant.realm_id = incoming.realm_id AND tenant.state = %(connected)s
    ON CONFLICT DO NOTHING
    RETURNING tenant_id
), claimed AS (
    UPDATE sync_tenantsync SET incremental_scheduled = true
    WHERE NOT incremental_scheduled AND tenant_id IN (
        SELECT tenant.id FROM tenants_tenant AS tenant
        WHERE tenant.id IN (SELECT tenant_id FROM stored) AND NOT tenant.paused
    )
    RETURNING tenant_id
)
SELECT (SELECT count(*) FROM stored), ARRAY(SELECT tenant_id FROM claimed)
"""

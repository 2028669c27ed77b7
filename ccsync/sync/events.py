"""Events: QuickBooks' change notices (webhooks, CDC, an operator's retry) stored as they
arrive, and each tenant's changes gathered for a short window, then synced in one run when
the pacer gives the company its turn (ccsync/sync/pacing.py): at once while the day is
under pace, later (gathering more changes meanwhile) as demand grows.
"""

import logging
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import CharField, Min, Q
from django.utils import timezone

from ccsync.base import jobs
from ccsync.sync import pacing
from ccsync.sync.models import Run, TenantSync, WebhookEvent
from ccsync.sync.runs import create_run
from ccsync.sync.state import update_tenant_sync
from integrations.quickbooks.webhooks import ChangeEvent, Delivery, Dropped
from tenants import selectors as tenant_selectors
from tenants.models import SalesData, Tenant

logger = logging.getLogger(__name__)

STUCK_SCHEDULE = timedelta(minutes=5)


def has_pending_events(*, tenant: Tenant) -> bool:
    return WebhookEvent.objects.filter(tenant=tenant, processed_at__isnull=True).exists()


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
    jobs.enqueue("sync.changes", tenant_id, countdown=settings.SYNC_COALESCE_SECONDS)


def start_changes(*, tenant_id: int) -> Run | None:
    """The end of a coalescing window: one incremental run for everything waiting, now if
    the pacer says so, else when `dispatch` finds the company's turn has come."""
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return None
    pacer = pacing.get_pacer()
    if not _ready(tenant):
        TenantSync.objects.filter(tenant=tenant).update(incremental_scheduled=False)
        pacer.forget(str(tenant_id))
        return None
    if not pacer.offer(str(tenant_id)):
        return None  # waiting its turn, gathering more changes
    return _run_changes(tenant)


def dispatch() -> int:
    """Beat, every SYNC_DISPATCH_SECONDS: the waiting companies whose turn has come start
    their run of changes. Returns how many started."""
    started = 0
    for tenant_id in pacing.get_pacer().release():
        tenant = Tenant.objects.filter(pk=int(tenant_id)).first()
        if tenant is not None and _ready(tenant):
            started += _run_changes(tenant) is not None
        elif tenant is not None:
            TenantSync.objects.filter(tenant=tenant).update(incremental_scheduled=False)
    return started


def _ready(tenant: Tenant) -> bool:
    """Connected, not paused, set up (else the first sync takes the changes along), and
    with changes waiting."""
    return (
        not tenant.paused
        and tenant.is_connected
        and has_pending_events(tenant=tenant)
        and tenant_selectors.current_list(tenant=tenant) is not None
    )


def _run_changes(tenant: Tenant) -> Run | None:
    TenantSync.objects.filter(tenant=tenant).update(incremental_scheduled=False)
    return create_run(tenant=tenant, kind=Run.Kind.INCREMENTAL)


def store_delivery(*, delivery: Delivery) -> int:
    """A webhook delivery's events stored (record_events), those that do not fit their
    columns dropped like the ones the parser could not use: each cause logged once per
    company. Returns how many were stored."""
    usable, dropped = [], list(delivery.dropped)
    for event in delivery.events:
        too_long = _too_long(event)
        if too_long:
            dropped.append(Dropped(realm_id=_loggable_realm(event), cause=f"{too_long} too long"))
        else:
            usable.append(event)
    if dropped:
        _log_dropped(dropped)
    return record_events(events=usable)


_COLUMNS = ("event_id", "realm_id", "customer_id", "operation", "deleted_id", "transaction_id")


def _too_long(event: ChangeEvent) -> str:
    """The first value of the event longer than its column ("" if none is)."""
    for name in _COLUMNS:
        if len(getattr(event, name) or "") > _max_length(name):
            return name
    return ""


def _max_length(name: str) -> int:
    field = WebhookEvent._meta.get_field(name)
    assert isinstance(field, CharField) and field.max_length is not None  # _COLUMNS are
    return field.max_length


def _loggable_realm(event: ChangeEvent) -> str:
    return event.realm_id if len(event.realm_id) <= _max_length("realm_id") else ""


def _log_dropped(dropped: Sequence[Dropped]) -> None:
    tenants = dict(
        Tenant.objects.filter(realm_id__in={d.realm_id for d in dropped if d.realm_id}).values_list(
            "realm_id", "pk"
        )
    )
    for (realm_id, cause), count in Counter((d.realm_id, d.cause) for d in dropped).items():
        logger.warning(
            "webhook event dropped: tenant=%s cause=%s count=%s",
            tenants.get(realm_id, "unknown"),
            cause,
            count,
        )


def record_events(*, events: Sequence[ChangeEvent]) -> int:
    """Store webhook events of connected tenants (others are ignored; a sales transaction's
    only where the tenant sends sales data) and schedule the sync of those not paused.
    Returns how many were stored: an event already stored (the same id for the same
    company, delivered again) is not stored twice.

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
                "entities": [event.entity for event in events],
                "transaction_ids": [event.transaction_id for event in events],
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


def record_events_portably(*, events: Sequence[ChangeEvent]) -> int:
    """record_events in several ORM queries, for databases without PostgreSQL's unnest and
    data-modifying CTEs: the demo's SQLite, one writer at a time."""
    tenants = dict(
        Tenant.objects.filter(
            realm_id__in={event.realm_id for event in events}, state=Tenant.State.CONNECTED
        ).values_list("realm_id", "pk")
    )
    with_sales = set(
        SalesData.objects.filter(tenant_id__in=tenants.values(), enabled=True).values_list(
            "tenant_id", flat=True
        )
    )
    known = set(
        WebhookEvent.objects.filter(
            realm_id__in=tenants, event_id__in={event.event_id for event in events}
        ).values_list("realm_id", "event_id")
    )
    rows: dict[tuple[str, str], WebhookEvent] = {}
    for event in events:
        key = (event.realm_id, event.event_id)
        wanted = event.entity == "Customer" or tenants.get(event.realm_id) in with_sales
        if event.realm_id in tenants and key not in known and wanted:
            rows.setdefault(
                key,
                WebhookEvent(
                    tenant_id=tenants[event.realm_id],
                    event_id=event.event_id,
                    realm_id=event.realm_id,
                    customer_id=event.customer_id,
                    entity=event.entity,
                    transaction_id=event.transaction_id,
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
        TenantSync.objects.filter(tenant_id=row["tenant_id"]).update(incremental_scheduled=False)
        schedule_changes(tenant_id=row["tenant_id"])


# PostgreSQL's: unnest turns the columns into rows, a data-modifying CTE feeds the claim.
_RECORD_EVENTS = """
WITH stored AS (
    INSERT INTO sync_webhookevent
        (tenant_id, event_id, realm_id, customer_id, entity, transaction_id, operation,
         deleted_id, occurred_at, received_at)
    SELECT tenant.id, incoming.*, %(received)s
    FROM unnest(
        %(event_ids)s::varchar[], %(realm_ids)s::varchar[], %(customer_ids)s::varchar[],
        %(entities)s::varchar[], %(transaction_ids)s::varchar[], %(operations)s::varchar[],
        %(deleted_ids)s::varchar[], %(occurred)s::timestamptz[]
    ) AS incoming (event_id, realm_id, customer_id, entity, transaction_id, operation,
                   deleted_id, occurred_at)
    JOIN tenants_tenant AS tenant
        ON tenant.realm_id = incoming.realm_id AND tenant.state = %(connected)s
    WHERE incoming.entity = 'Customer' OR EXISTS (
        SELECT 1 FROM tenants_salesdata AS sales
        WHERE sales.tenant_id = tenant.id AND sales.enabled
    )
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

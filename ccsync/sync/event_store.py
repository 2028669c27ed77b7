"""Events stored: QuickBooks' change notices (webhooks, the catch-up, an operator's retry)
written the moment they arrive, each company's change window claimed with them
(change_window.py).

Which events are stored is one rule, `receiving_tenants`: a connected company's; of a
customer always, of a sales transaction only while the company sends sales data. Others
are ignored; an event stored already (the same id for the same company, delivered again)
is not stored twice.
"""

import functools
import logging
from collections import Counter
from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import CharField, Exists, OuterRef, QuerySet
from django.utils import timezone

from ccsync.sync.change_window import end_window_later, schedule_changes
from ccsync.sync.models import WebhookEvent
from integrations.quickbooks.webhooks import ChangeEvent, Delivery, Dropped
from tenants.models import SalesData, Tenant

logger = logging.getLogger(__name__)

ALWAYS_STORED = "Customer"  # the entity stored for every company; others with sales data


def receiving_tenants() -> QuerySet[Tenant, tuple[str, int, bool]]:
    """The companies whose events are stored, as (realm id, id, `takes_sales`): whether its
    sales transactions' events are stored too (it sends sales data); a customer's always
    are."""
    sends_sales = SalesData.objects.filter(tenant=OuterRef("pk"), enabled=True)
    return (
        Tenant.objects.filter(state=Tenant.State.CONNECTED)
        .annotate(takes_sales=Exists(sends_sales))
        .values_list("realm_id", "id", "takes_sales")
        .order_by()
    )


def has_pending_events(*, tenant: Tenant) -> bool:
    return WebhookEvent.objects.filter(tenant=tenant, processed_at__isnull=True).exists()


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
    """Store the events `receiving_tenants` takes and schedule the sync of their companies
    not paused. Returns how many were stored.

    One statement does it all, as it runs for each of hundreds of deliveries a second: each
    ORM query costs about a millisecond of CPU to build. No transaction spans a delivery, so
    a burst for one company never queues on its sync-state row. Scheduling that did not
    happen is caught by beat's recover_runs."""
    if not events:
        return 0
    if connection.vendor != "postgresql":
        return record_events_portably(events=events)
    receiving, receiving_params = _receiving_sql()
    with connection.cursor() as cursor:
        cursor.execute(
            _RECORD_EVENTS.format(receiving=receiving),
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
                "always": ALWAYS_STORED,
                **receiving_params,
            },
        )
        stored, claimed = cursor.fetchone()
    for tenant_id in claimed:
        end_window_later(tenant_id=tenant_id)
    return stored


@functools.cache
def _receiving_sql() -> tuple[str, dict[str, Any]]:
    """`receiving_tenants` as SQL for the statement, its parameters named; built once (the
    ORM's query building is the statement's largest cost)."""
    sql, params = receiving_tenants().query.sql_with_params()
    names = [f"receiving_{index}" for index in range(len(params))]
    return sql % tuple(f"%({name})s" for name in names), dict(zip(names, params, strict=True))


def record_events_portably(*, events: Sequence[ChangeEvent]) -> int:
    """record_events in several ORM queries, for databases without PostgreSQL's unnest and
    data-modifying CTEs: the demo's SQLite, one writer at a time."""
    realms = {event.realm_id for event in events}
    tenants = {
        realm_id: (pk, takes_sales)
        for realm_id, pk, takes_sales in receiving_tenants().filter(realm_id__in=realms)
    }
    known = set(
        WebhookEvent.objects.filter(
            realm_id__in=tenants, event_id__in={event.event_id for event in events}
        ).values_list("realm_id", "event_id")
    )
    rows: dict[tuple[str, str], WebhookEvent] = {}
    for event in events:
        key = (event.realm_id, event.event_id)
        tenant_id, takes_sales = tenants.get(event.realm_id, (None, False))
        wanted = event.entity == ALWAYS_STORED or takes_sales
        if tenant_id is not None and key not in known and wanted:
            rows.setdefault(key, _row(event, tenant_id))
    WebhookEvent.objects.bulk_create(rows.values(), ignore_conflicts=True)
    changed = {row.tenant_id for row in rows.values()}
    for tenant_id in Tenant.objects.filter(pk__in=changed, paused=False).values_list(
        "pk", flat=True
    ):
        schedule_changes(tenant_id=tenant_id)
    return len(rows)


def _row(event: ChangeEvent, tenant_id: int) -> WebhookEvent:
    return WebhookEvent(
        tenant_id=tenant_id,
        event_id=event.event_id,
        realm_id=event.realm_id,
        customer_id=event.customer_id,
        entity=event.entity,
        transaction_id=event.transaction_id,
        operation=event.operation,
        deleted_id=event.deleted_id or "",
        occurred_at=event.occurred_at,
    )


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
    JOIN ({receiving}) AS tenant ON tenant.realm_id = incoming.realm_id
    WHERE incoming.entity = %(always)s OR tenant.takes_sales
    ON CONFLICT DO NOTHING
    RETURNING tenant_id
), claimed AS (
    UPDATE sync_tenantsync SET changes_scheduled = true
    WHERE NOT changes_scheduled AND tenant_id IN (
        SELECT tenant.id FROM tenants_tenant AS tenant
        WHERE tenant.id IN (SELECT tenant_id FROM stored) AND NOT tenant.paused
    )
    RETURNING tenant_id
)
SELECT (SELECT count(*) FROM stored), ARRAY(SELECT tenant_id FROM claimed)
"""

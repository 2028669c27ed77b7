"""The catch-up: beat's read of QuickBooks' change data capture (CDC), every 15 minutes, for
what webhooks missed. Customers and (with sales data on) sales transactions changed since
the last catch-up that we have not seen as they are now become events, as if their
webhook had arrived: the next run of changes syncs them. When CDC cannot answer in full
(its last read is older than the 30 days CDC reaches, or its answer is capped), a full
check reads everyone instead.
"""

import logging
from collections import Counter
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from ccsync.base import jobs
from ccsync.sync import sales_changes
from ccsync.sync.broken_connections import connection_refused
from ccsync.sync.clients import clients_for
from ccsync.sync.customer_state import mark_deleted
from ccsync.sync.errors import BROKEN
from ccsync.sync.event_store import record_events
from ccsync.sync.judging import unchanged_in_quickbooks
from ccsync.sync.models import Run, TenantSync
from ccsync.sync.runs import create_run
from ccsync.sync.selectors import syncing_tenants
from ccsync.sync.state import sync_state
from ccsync.sync.unsubscribes import CLOCK_OVERLAP
from integrations.limiter import QuotaPaused
from integrations.quickbooks.client import CDC_MAX_OBJECTS
from integrations.quickbooks.webhooks import ChangeEvent
from tenants.models import Tenant

logger = logging.getLogger(__name__)

CDC_MAX_AGE = timedelta(days=29)  # CDC reaches 30 days back; past that a full check


def catch_up_all() -> None:
    """Beat: a catch-up for each tenant whose first sync is done."""
    done = Run.objects.filter(kind=Run.Kind.FIRST, state=Run.State.COMPLETED)
    for tenant_id in syncing_tenants().filter(sync_runs__in=done).values_list("pk", flat=True):
        jobs.enqueue("sync.catch_up", tenant_id)


def catch_up(*, tenant_id: int) -> None:
    """CDC since the last catch-up, or a full check when that is older than CDC reaches or
    when CDC's answer is capped. Passing errors (RETRYABLE) go to the caller, to retry."""
    tenant = syncing_tenants().filter(pk=tenant_id).first()
    if tenant is None:
        return
    state = sync_state(tenant=tenant)
    if state.caught_up_at is None or timezone.now() - state.caught_up_at > CDC_MAX_AGE:
        create_run(tenant=tenant, kind=Run.Kind.FULL_CHECK)
        return
    try:
        if catch_up_changes(tenant=tenant, since=state.caught_up_at) is None:
            create_run(tenant=tenant, kind=Run.Kind.FULL_CHECK)  # more changes than CDC says
    except BROKEN as error:
        connection_refused(tenant=tenant, error=error)
        logger.warning("catch-up skipped, a connection refused: tenant=%s", tenant_id)
    except QuotaPaused:
        logger.warning("catch-up skipped: tenant=%s", tenant_id)


def catch_up_changes(*, tenant: Tenant, since: datetime) -> int | None:
    """CDC: customers changed since `since` that we have not seen as they are now become
    events for the next run of changes (as if their webhook had arrived). Returns how many;
    None when QuickBooks' answer was capped (CDC_MAX_OBJECTS): changes may be left unread,
    so `caught_up_at` stays where it is, for the caller to start a full check."""
    started = timezone.now()
    qb, _ = clients_for(tenant=tenant, calls=Counter())
    changed = qb.changed_customers(since=since - CLOCK_OVERLAP)
    deleted = [str(c["Id"]) for c in changed if c.get("status") == "Deleted"]
    if len(changed) >= CDC_MAX_OBJECTS:
        # CDC takes no end to its window, so no smaller one can be asked: the full check
        # reads every customer, and moves caught_up_at once it has.
        mark_deleted(tenant=tenant, customer_ids=deleted)
        logger.info("changes past CDC's cap, a full check follows: tenant=%s", tenant.pk)
        return None
    alive = [c for c in changed if c.get("status") != "Deleted"]
    known = unchanged_in_quickbooks(tenant=tenant, customers=alive)
    transactions = sales_changes.cdc_events(
        tenant=tenant, qb=qb, since=since - CLOCK_OVERLAP, now=started
    )
    if transactions is None:
        mark_deleted(tenant=tenant, customer_ids=deleted)
        logger.info("sales changes past CDC's cap, a full check follows: tenant=%s", tenant.pk)
        return None
    events = transactions + [
        ChangeEvent(
            event_id=f"cdc:{c['Id']}:{(c.get('MetaData') or {}).get('LastUpdatedTime', '')}",
            realm_id=tenant.realm_id,
            customer_id=str(c["Id"]),
            operation="update",
            occurred_at=started,
        )
        for c in alive
        if str(c["Id"]) not in known
    ]
    with transaction.atomic():
        mark_deleted(tenant=tenant, customer_ids=deleted)
        record_events(events=events)
        TenantSync.objects.filter(tenant=tenant).update(caught_up_at=started)
    return len(events)

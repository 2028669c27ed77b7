"""Scheduled deletion: a disconnected tenant's customer data after the grace period, and old
webhook events and runs of every tenant."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from ccsync.datacare import describe_counts
from ccsync.sync.models import CustomerRecord, Run, TenantSync, UnsubscribedAddress, WebhookEvent
from ccsync.sync.selectors import HISTORY_LENGTH
from tenants.models import Tenant, model_name

logger = logging.getLogger(__name__)

# What a disconnect leaves behind for the grace period. The tenant, its people, its list
# history and its runs (counts, no personal data) stay: a reinstall picks them up again.
CUSTOMER_DATA = (CustomerRecord, UnsubscribedAddress, WebhookEvent, TenantSync)


def purge_due(*, now: datetime | None = None) -> list[int]:
    """Ids of the tenants disconnected for longer than the grace period that still hold
    customer data."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.DATA_RETENTION_AFTER_DISCONNECT_DAYS)
    holds_data = Q()
    for model in CUSTOMER_DATA:
        holds_data |= Q(Exists(model.objects.filter(tenant=OuterRef("pk"))))
    return list(
        Tenant.objects.filter(
            holds_data, state=Tenant.State.DISCONNECTED, disconnected_at__lte=cutoff
        ).values_list("pk", flat=True)
    )


def purge_customer_data(*, tenant_id: int, now: datetime | None = None) -> dict[str, int]:
    """Delete one disconnected tenant's customer data once its grace period is over.

    Checked again under the tenant's row lock, which install() also takes: a reinstall that
    got there first cancels the deletion. Returns the rows deleted by kind ({} if none)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.DATA_RETENTION_AFTER_DISCONNECT_DAYS)
    with transaction.atomic():
        tenant = (
            Tenant.objects.select_for_update()
            .filter(pk=tenant_id, state=Tenant.State.DISCONNECTED, disconnected_at__lte=cutoff)
            .first()
        )
        if tenant is None:
            return {}
        # TenantSync goes too: without it the next install reads every unsubscribed address
        # again instead of only those since a read whose results are gone.
        deleted = {
            model_name(model): model.objects.filter(tenant=tenant).delete()[0]
            for model in CUSTOMER_DATA
        }
    logger.info(
        "customer data purged after disconnect: tenant=%s %s", tenant_id, describe_counts(deleted)
    )
    return deleted


def purge_disconnected(*, now: datetime | None = None) -> int:
    """Purge every tenant whose grace period is over; returns how many were purged."""
    return sum(bool(purge_customer_data(tenant_id=pk, now=now)) for pk in purge_due(now=now))


def prune_webhook_events(*, now: datetime | None = None) -> int:
    """Delete processed events older than the retention; waiting ones are never touched."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.WEBHOOK_EVENT_RETENTION_DAYS)
    deleted, _ = WebhookEvent.objects.filter(processed_at__lt=cutoff).delete()
    if deleted:
        logger.info("webhook events pruned: count=%s", deleted)
    return deleted


def prune_runs(*, now: datetime | None = None) -> int:
    """Delete finished runs older than the retention, except each tenant's latest ones (the
    status page's history) and its latest completed first sync (which tells the engine that
    the first sync is done: full checks and the catch-up depend on it)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.RUN_HISTORY_RETENTION_DAYS)
    old = Run.objects.filter(created_at__lt=cutoff).exclude(state__in=Run.OPEN_STATES)
    deleted = 0
    for tenant_id in old.order_by().values_list("tenant_id", flat=True).distinct():
        runs = Run.objects.filter(tenant_id=tenant_id)  # ordered newest first
        keep = [
            *runs.values_list("pk", flat=True)[:HISTORY_LENGTH],
            *runs.filter(kind=Run.Kind.FIRST, state=Run.State.COMPLETED).values_list(
                "pk", flat=True
            )[:1],
        ]
        deleted += old.filter(tenant_id=tenant_id).exclude(pk__in=keep).delete()[0]
    if deleted:
        logger.info("runs pruned: count=%s", deleted)
    return deleted

"""Operators' actions on a tenant's sync (the Django admin's actions call these)."""

import logging
from collections.abc import Collection

from django.db import transaction
from django.utils import timezone

from ccsync.sync import customer_state
from ccsync.sync.event_store import record_events
from ccsync.sync.models import CustomerRecord
from integrations.quickbooks.webhooks import ChangeEvent
from tenants.models import Tenant

logger = logging.getLogger(__name__)


def retry_failed(*, tenant: Tenant, customer_ids: Collection[str] | None = None) -> int:
    """Send the tenant's failed customers (or those of `customer_ids` that failed) again.

    Each becomes a change, as if QuickBooks had announced it: the next run of changes reads it
    afresh, applies the rules and sends it (a failed customer still due is sent again).
    Until then it shows as waiting to be sent. Returns how many were queued: none for a
    disconnected tenant; a paused one keeps them until it resumes."""
    failed = CustomerRecord.objects.filter(tenant=tenant, outcome=CustomerRecord.Outcome.FAILED)
    if customer_ids is not None:
        failed = failed.filter(customer_id__in=list(customer_ids))
    asked_at = timezone.now().isoformat()
    with transaction.atomic():
        records = list(failed.select_for_update().only("pk", "customer_id", "seen_at"))
        events = [
            ChangeEvent(
                event_id=f"retry:{record.customer_id}:{asked_at}",
                realm_id=tenant.realm_id,
                customer_id=record.customer_id,
                operation="update",
                # Not a change in QuickBooks: the time it was last read, not now.
                occurred_at=record.seen_at,
            )
            for record in records
        ]
        queued = record_events(events=events)
        if queued:
            customer_state.waiting_again([record.pk for record in records])
    logger.info("failed customers queued again: tenant=%s count=%s", tenant.pk, queued)
    return queued

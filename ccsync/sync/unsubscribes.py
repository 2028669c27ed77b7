"""Unsubscribed addresses: read from the tenant's Constant Contact account and never sent.

Constant Contact has no webhook for opt-outs: they are read (GET /contacts?status=
unsubscribed, opted out since the last read, usually one call) before every first sync and
full check, and before a run of changes as fresh as the day allows (ccsync/sync/pacing.py):
before every run while the day's share holds more than the rest of the day is expected to
need (the slack pays for the call), else when the last read is older than 4 hours, up to 24
under pressure. Between two reads, an import still never re-subscribes anyone nor adds an
unsubscribed contact to a list (Constant Contact refuses both); it may update the fields of
a contact who opted out since the last read. The status page says which freshness applies
now (selectors.freshness).
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from ccsync.sync.judging import judge
from ccsync.sync.models import CustomerRecord, UnsubscribedAddress
from ccsync.sync.rules import SkipReason
from ccsync.sync.state import sync_state
from integrations.constantcontact.client import ConstantContactClient
from tenants import selectors as tenant_selectors
from tenants.models import Tenant

CLOCK_OVERLAP = timedelta(minutes=5)  # read a little further back than needed: clocks differ


def refresh_unsubscribes(*, tenant: Tenant, cc: ConstantContactClient) -> int:
    """Read the account's unsubscribed addresses (all of them the first time, then those
    opted out since the last read) and re-judge customers using them. Returns how many."""
    state = sync_state(tenant=tenant)
    started = timezone.now()
    since = state.unsubscribes_read_at - CLOCK_OVERLAP if state.unsubscribes_read_at else None
    emails = {
        str((contact.get("email_address") or {}).get("address", "")).lower()
        for contact in cc.iter_contacts(status="unsubscribed", optout_after=since, limit=500)
    } - {""}
    with transaction.atomic():
        UnsubscribedAddress.objects.bulk_create(
            [UnsubscribedAddress(tenant=tenant, email=email) for email in emails],
            ignore_conflicts=True,
            batch_size=1000,
        )
        state.unsubscribes_read_at = started
        state.save(update_fields=["unsubscribes_read_at"])
        affected = list(
            CustomerRecord.objects.filter(tenant=tenant, email__in=emails)
            .exclude(reason=SkipReason.UNSUBSCRIBED)
            .values_list("customer_id", flat=True)
        )
        selection = tenant_selectors.current_list(tenant=tenant)
        if affected and selection is not None:
            judge(
                tenant=tenant, list_id=selection.list_id, customer_ids=affected, ensure_list=False
            )
    return len(emails)

"""Sending: every PENDING customer goes to Constant Contact. Its outcome is recorded only
once Constant Contact has confirmed it (confirming.py for imports).

- A synced customer whose address changed, or whose row lost a field since it was last
  sent, gets its whole contact by PUT: the same contact (no duplicate), and the only
  documented way to clear a property (an import leaves alone what it is not sent a value
  for). The contact is read right before (GET, every subresource), what QuickBooks does
  not own is carried back, the permission is never sent, and an unsubscribed contact is
  never PUT. The PUT's answer confirms it: 2 calls a customer.
- Everyone else goes in contacts_json_import chunks under 4 MB: 1 call a chunk. The
  customers become SENT, waiting for the confirmation.
Never sign_up_form: it re-subscribes.
"""

from collections.abc import Iterator, Mapping

from django.conf import settings
from django.db import transaction

from ccsync.base import counters
from ccsync.sync import customer_state, runs, sales
from ccsync.sync.mapping import chunk_rows, contact_update, emptied
from ccsync.sync.models import ContactImport, CustomerRecord, UnsubscribedAddress
from ccsync.sync.runs import Sync
from integrations.constantcontact import errors as cc_errors
from integrations.constantcontact.client import ConstantContactClient

# Every subresource, so that a PUT carries back all that it does not change.
CONTACT_PARTS = (
    "custom_fields",
    "list_memberships",
    "phone_numbers",
    "street_addresses",
    "notes",
    "taggings",
)
Outcome = CustomerRecord.Outcome


def send_pending(sync: Sync) -> None:
    """Send every PENDING customer: whole contacts by PUT where an import cannot do it, the
    rest by bulk import."""
    for record in _needing_put(sync):
        _put_contact(sync, record)
    pending = CustomerRecord.objects.filter(tenant=sync.tenant, outcome=Outcome.PENDING)
    while True:
        batch = list(
            pending.order_by("created_in_quickbooks", "pk").values_list("pk", "row")[
                : settings.SYNC_IMPORT_CHUNK_ROWS
            ]
        )
        if not batch:
            return
        chunk = next(
            chunk_rows(
                batch,
                list_ids=[sync.list_id],
                max_bytes=settings.SYNC_IMPORT_MAX_BYTES,
                max_rows=settings.SYNC_IMPORT_CHUNK_ROWS,
            )
        )
        activity = sync.cc.import_contacts(rows=[row for _, row in chunk], list_ids=[sync.list_id])
        _sent(sync, activity_id=str(activity["activity_id"]), pks=[pk for pk, _ in chunk])


def _sent(sync: Sync, *, activity_id: str, pks: list[int]) -> None:
    """The import is Constant Contact's now: its customers wait for the confirmation. (A
    worker killed before this commits sends them again: the same contacts, none created.)"""
    with transaction.atomic():
        sent = ContactImport.objects.create(
            tenant=sync.tenant,
            run=sync.run,
            activity_id=activity_id,
            list_id=sync.list_id,
            rows=len(pks),
        )
        customer_state.sent(pks, contact_import=sent)
        runs.tally(sync, sent=len(pks), done=len(pks))
        runs.checkpoint(sync)


def record_unsubscribed(*, tenant_id: int, pks: list[int], emails: list[str]) -> None:
    """Constant Contact says these addresses are unsubscribed: never sent again."""
    UnsubscribedAddress.objects.bulk_create(
        [UnsubscribedAddress(tenant_id=tenant_id, email=email) for email in emails],
        ignore_conflicts=True,
    )
    customer_state.unsubscribed(pks)


# --- whole contacts by PUT -------------------------------------------------------------------


def _needing_put(sync: Sync) -> Iterator[CustomerRecord]:
    """Synced customers whose address changed or whose row lost a field since it was sent."""
    synced_before = CustomerRecord.objects.filter(
        tenant=sync.tenant, outcome=Outcome.PENDING, in_list=True
    ).exclude(sent_email="")
    for record in synced_before.order_by("pk").iterator():
        if record.sent_email != record.email or emptied(record.row, sent=record.sent_row):
            yield record


def _put_contact(sync: Sync, record: CustomerRecord) -> None:
    contact = _read_contact(sync.cc, record)
    permission = ((contact or {}).get("email_address") or {}).get("permission_to_send")
    if contact is None or contact.get("deleted_at"):
        # Nothing to update: the import makes a new contact of it.
        customer_state.contact_lost(record.pk)
        return
    if permission == "unsubscribed":
        with transaction.atomic():
            record_unsubscribed(tenant_id=record.tenant_id, pks=[record.pk], emails=[record.email])
            _count(sync, skipped=1)
        return
    new_email = record.sent_email != record.email
    body = contact_update(
        record.row,
        existing=contact,
        list_ids=[sync.list_id],
        new_email=new_email,
        custom_field_ids=sales.columns(tenant=sync.tenant).field_ids,
    )
    try:
        sync.cc.put_contact(contact_id=str(contact["contact_id"]), contact=body)
    except cc_errors.Conflict:
        # The new address is another contact already: the import updates that one.
        customer_state.contact_lost(record.pk)
        return
    except cc_errors.BadRequest as error:
        with transaction.atomic():
            customer_state.refused([record.pk], detail=str(error)[:500])
            _count(sync, failed=1)
        return
    with transaction.atomic():
        customer_state.synced(
            [record.pk],
            list_ids=record.list_ids,
            list_id=sync.list_id,
            contact_id=str(contact["contact_id"]),
        )
        _count(sync, synced=1)


def _read_contact(cc: ConstantContactClient, record: CustomerRecord) -> Mapping | None:
    """The contact as Constant Contact holds it now, every subresource included: by its id
    when we know it, else by the address it was last sent with."""
    if record.contact_id:
        try:
            return cc.get_contact(contact_id=record.contact_id, include=CONTACT_PARTS)
        except cc_errors.NotFound:
            pass
    return cc.find_contact(email=record.sent_email, include=CONTACT_PARTS)


def _count(sync: Sync, *, synced: int = 0, failed: int = 0, skipped: int = 0) -> None:
    kind = sync.run.kind
    transaction.on_commit(
        lambda: counters.contacts_confirmed(kind=kind, synced=synced, failed=failed)
    )
    runs.tally(sync, synced=synced, failed=failed, skipped=skipped, done=synced + failed + skipped)
    runs.checkpoint(sync)

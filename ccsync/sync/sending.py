"""Sending: every PENDING customer goes to Constant Contact. Its outcome is recorded only
once Constant Contact has confirmed it (confirming.py for imports).

- A synced customer whose address changed, or whose row lost a field since it was last
  sent, or whose address is too long for an import (51 to 80 characters), gets its whole
  contact by PUT: the same contact (no duplicate), and the only documented way to clear a
  property (an import leaves alone what it is not sent a value for). The contact is read
  right before (GET, every subresource), what QuickBooks does not own is carried back,
  the address is always sent and the permission never, and an unsubscribed contact is
  never PUT. The PUT's answer confirms it, its permission included (a contact who
  unsubscribed meanwhile is recorded so, nothing more sent): 2 calls a customer.
- A customer never synced whose address is too long for an import is created by POST
  /contacts (see `_create_contacts`): 1 call, 3 when the address is a contact already.
- Everyone else goes in contacts_json_import chunks under 4 MB: 1 call a chunk. The
  customers become SENT, waiting for the confirmation.
Never sign_up_form: it re-subscribes.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet

from ccsync.base import counters
from ccsync.sync import customer_state, runs, sales
from ccsync.sync.mapping import SALES_PREFIX, chunk_rows, contact_update, emptied
from ccsync.sync.models import ContactImport, CustomerRecord, UnsubscribedAddress
from ccsync.sync.runs import Sync
from integrations.constantcontact import errors as cc_errors
from integrations.constantcontact.client import (
    MAX_IMPORT_EMAIL,
    MAX_MEMBERSHIP_CONTACTS,
    ConstantContactClient,
    permission_of,
)

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
    """Send every PENDING customer: whole contacts by PUT or POST where an import cannot do
    it, the rest by bulk import."""
    for record in _needing_put(sync):
        _put_contact(sync, record)
    _create_contacts(sync)
    pending = _pending(sync, too_long_for_import=False)
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
        rows = [row for _, row in chunk]
        try:
            activity = sync.cc.import_contacts(rows=rows, list_ids=[sync.list_id])
        except cc_errors.BadRequest:
            known = sales.known_field_ids(tenant_id=sync.tenant.pk)
            carried = {known[key] for row in rows for key in row if key in known}
            if not carried:
                raise
            # Refused, with figures: the same contacts go again without them (a refusal of
            # that too is the contacts' own, and goes on to the run). Taken, the figures were
            # what it refused: their fields leave what is sent, and the person is told.
            bare = [{k: v for k, v in r.items() if not k.startswith(SALES_PREFIX)} for r in rows]
            activity = sync.cc.import_contacts(rows=bare, list_ids=[sync.list_id])
            sales.fields_refused(tenant_id=sync.tenant.pk, field_ids=carried)
        _sent(sync, activity_id=str(activity["activity_id"]), pks=[pk for pk, _ in chunk])


def _pending(sync: Sync, *, too_long_for_import: bool) -> QuerySet[CustomerRecord]:
    """The PENDING customers whose address an import cannot take, or all the others."""
    pending = CustomerRecord.objects.filter(tenant=sync.tenant, outcome=Outcome.PENDING)
    long = Q(email__regex=rf"^.{{{MAX_IMPORT_EMAIL + 1},}}$")
    return pending.filter(long) if too_long_for_import else pending.exclude(long)


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
    """Synced customers whose address changed, whose row lost a field since it was sent, or
    whose address an import cannot carry."""
    synced_before = CustomerRecord.objects.filter(
        tenant=sync.tenant, outcome=Outcome.PENDING, in_list=True
    ).exclude(sent_email="")
    for record in synced_before.order_by("pk").iterator():
        if (
            record.sent_email != record.email
            or emptied(record.row, sent=record.sent_row)
            or len(record.email) > MAX_IMPORT_EMAIL
        ):
            yield record


def _put_contact(sync: Sync, record: CustomerRecord) -> None:
    contact = _read_contact(sync.cc, record)
    if contact is None or contact.get("deleted_at"):
        # Nothing to update: the import (or for a long address the POST) makes a new one.
        customer_state.contact_lost(record.pk)
        return
    _put_read_contact(sync, record, contact)


def _put_read_contact(sync: Sync, record: CustomerRecord, contact: Mapping[str, Any]) -> None:
    """PUT the record's row over `contact` as just read, unless it is unsubscribed; the
    answer's permission says whether it still is a contact we send to."""
    if permission_of(contact) == "unsubscribed":
        _unsubscribed(sync, record)
        return
    body = contact_update(
        record.row,
        existing=contact,
        list_ids=[sync.list_id],
        custom_field_ids=sales.columns(tenant=sync.tenant).field_ids,
    )
    try:
        answer = sync.cc.put_contact(contact_id=str(contact["contact_id"]), contact=body)
    except cc_errors.Conflict:
        # The new address is another contact already: the import (or the POST's read of
        # that contact) updates that one.
        customer_state.contact_lost(record.pk)
        return
    except cc_errors.BadRequest as error:
        with transaction.atomic():
            customer_state.refused([record.pk], detail=str(error)[:500])
            _count(sync, failed=1)
        return
    if permission_of(answer) == "unsubscribed":  # unsubscribed between the GET and the PUT
        _unsubscribed(sync, record)
        return
    with transaction.atomic():
        customer_state.synced(
            [record.pk],
            list_ids=record.list_ids,
            list_id=sync.list_id,
            contact_id=str(contact["contact_id"]),
        )
        _count(sync, synced=1)


def _unsubscribed(sync: Sync, record: CustomerRecord) -> None:
    with transaction.atomic():
        record_unsubscribed(tenant_id=record.tenant_id, pks=[record.pk], emails=[record.email])
        _count(sync, skipped=1)


# --- addresses too long for an import: POST /contacts ---------------------------------------


def _create_contacts(sync: Sync) -> None:
    """Customers never synced whose address an import cannot take (51 to 80 characters).

    Each is created by POST /contacts with the import's permission (implicit) and source
    (Account): 1 call. POST only creates (409 for an address that is a contact already,
    unsubscribed or deleted included), so it opts nobody back in; such an address is read
    (GET) and PUT like any synced contact, without the permission: 3 calls. The POST's
    list_memberships puts the contact in the list; where the answer does not show the list
    (the spec marks the ids read-only on create), they are added by one add_list_memberships
    activity per 500 contacts, confirmed like an import."""
    waiting = _pending(sync, too_long_for_import=True)
    unlisted: list[tuple[int, str]] = []
    for record in waiting.order_by("pk").iterator():
        created = _create_contact(sync, record)
        if created is not None and sync.list_id not in (created.get("list_memberships") or []):
            unlisted.append((record.pk, str(created["contact_id"])))
    for start in range(0, len(unlisted), MAX_MEMBERSHIP_CONTACTS):
        batch = unlisted[start : start + MAX_MEMBERSHIP_CONTACTS]
        activity = sync.cc.add_list_memberships(
            contact_ids=[contact_id for _, contact_id in batch], list_ids=[sync.list_id]
        )
        _sent(sync, activity_id=str(activity["activity_id"]), pks=[pk for pk, _ in batch])


def _create_contact(sync: Sync, record: CustomerRecord) -> Mapping[str, Any] | None:
    """The contact created for the record (recorded synced if it is in the list), or None
    when the record's outcome was settled otherwise."""
    body = contact_update(
        record.row,
        existing={},
        list_ids=[sync.list_id],
        custom_field_ids=sales.columns(tenant=sync.tenant).field_ids,
    )
    try:
        created = sync.cc.create_contact(contact=body)
    except cc_errors.Conflict:
        found = sync.cc.find_contact(email=record.email, include=CONTACT_PARTS)
        if found is None:  # gone between the two calls: the next run creates it
            return None
        _put_read_contact(sync, record, found)
        return None
    except cc_errors.BadRequest as error:
        with transaction.atomic():
            customer_state.refused([record.pk], detail=str(error)[:500])
            _count(sync, failed=1)
        return None
    contact_id = str(created["contact_id"])
    if sync.list_id in (created.get("list_memberships") or []):
        with transaction.atomic():
            customer_state.synced(
                [record.pk], list_ids=record.list_ids, list_id=sync.list_id, contact_id=contact_id
            )
            _count(sync, synced=1)
    else:
        customer_state.contact_made(record.pk, contact_id=contact_id)
    return created


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

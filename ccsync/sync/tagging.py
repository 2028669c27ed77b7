"""The tag of sales data (Settings: "tag every contact the app syncs"): synced contacts get
it by contacts_taggings_add, 500 contact ids a call.

An import does not say which contacts it made, so their ids are read: the list's contacts
updated since they were synced (500 a page), with their tags. A contact already holding
the tag is recorded as tagged (Constant Contact says so); the others are tagged, and the
next pass reads them again to see it done. For N new contacts: about N/500 reads and N/500
taggings, then N/500 reads; nothing while no contact waits for its tag.
"""

import logging
from datetime import timedelta

from django.db.models import Min

from ccsync.sync.judging import update_records
from ccsync.sync.models import CustomerRecord
from integrations.constantcontact.client import MAX_MEMBERSHIP_CONTACTS, ConstantContactClient
from tenants.models import SalesData, Tenant

logger = logging.getLogger(__name__)

# A contact is updated by its import before it is confirmed, which can be hours later
# (pacing.py confirms within 12 h): read that far back from the first one waiting.
UPDATED_BEFORE_SYNCED = timedelta(hours=13)


def tag_synced(*, tenant: Tenant, cc: ConstantContactClient, list_id: str) -> int:
    """Tag the synced contacts not known to hold the tag. Returns how many were asked to be
    tagged."""
    choice = SalesData.objects.filter(tenant=tenant, enabled=True, tag_enabled=True).first()
    if choice is None or not choice.tag_id:
        return 0
    waiting = CustomerRecord.objects.filter(
        tenant=tenant, outcome=CustomerRecord.Outcome.SYNCED, in_list=True, tagged=False
    ).exclude(email="")
    oldest = waiting.aggregate(oldest=Min("synced_at"))["oldest"]
    if oldest is None:
        return 0
    by_email = {email.lower(): pk for pk, email in waiting.values_list("pk", "email")}
    holding: list[int] = []
    untagged: list[str] = []
    contacts = cc.iter_contacts(
        lists=[list_id], updated_after=oldest - UPDATED_BEFORE_SYNCED, include=["taggings"]
    )
    for contact in contacts:
        pk = by_email.get(str((contact.get("email_address") or {}).get("address", "")).lower())
        if pk is None:
            continue
        if choice.tag_id in (contact.get("taggings") or []):
            holding.append(pk)
        else:
            untagged.append(str(contact["contact_id"]))
    update_records(holding, tagged=True)
    for start in range(0, len(untagged), MAX_MEMBERSHIP_CONTACTS):
        cc.add_taggings(
            tag_ids=[choice.tag_id], contact_ids=untagged[start : start + MAX_MEMBERSHIP_CONTACTS]
        )
    if untagged:
        logger.info("contacts tagged: tenant=%s count=%s", tenant.pk, len(untagged))
    return len(untagged)

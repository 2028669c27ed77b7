"""The tag of sales data (Settings: "tag every contact the app syncs"), given by
contacts_taggings_add. An import does not say which contacts it made, so there are two ways:

- The whole list, when every member of it is one of ours: its membership count (1 call for
  the account's lists) equals the contacts we put there. One tagging of the list (1 call)
  covers them all, and is recorded done once Constant Contact says the activity completed
  (1 call, a pass later). A first sync of 10,000 contacts into its own list: 3 calls.
- Otherwise, by contact: the list's contacts updated since ours were synced are read (500 a
  page) with their tags; one already holding the tag is recorded as tagged (Constant
  Contact says so), the others are tagged, 500 contact ids a call, and the next pass reads
  them again to see it done. N new contacts: about 3 x N/500 calls. A contact is asked for
  at most MAX_ASKS times (not found by a read, or tagged and still without the tag): a
  contact that never takes it does not cost reads at every pass. A tagging that failed
  counts no ask: its contacts wait for a later pass (a passing error is tried again at
  once, the call alone, the pages not read again: TaggingPass).
Nothing is called while no synced contact waits for its tag.
"""

import logging
from datetime import timedelta

from django.db.models import Min
from django.utils import timezone

from ccsync.sync import customer_state, sales_state
from ccsync.sync.confirming import ACTIVITY_FINISHED
from ccsync.sync.models import CustomerRecord, SalesDataState
from integrations.constantcontact.client import MAX_MEMBERSHIP_CONTACTS, ConstantContactClient
from tenants.models import SalesData, Tenant

logger = logging.getLogger(__name__)

# A contact is updated by its import before it is confirmed, which can be hours later
# (pacing.py confirms within 12 h): read that far back from the first one waiting.
UPDATED_BEFORE_SYNCED = timedelta(hours=13)
# Fewer waiting than a page of contacts: reading them costs no more than counting the list.
WHOLE_LIST_FROM = MAX_MEMBERSHIP_CONTACTS
MAX_ASKS = 2


def tag_synced(*, tenant: Tenant, cc: ConstantContactClient, list_id: str) -> int:
    """Tag the synced contacts not known to hold the tag, once. Returns how many were asked
    to be tagged."""
    return TaggingPass(tenant=tenant, cc=cc, list_id=list_id)()


class TaggingPass:
    """One pass of the tag, for optional.attempt: tried again at once after a passing error,
    it keeps what it read and the taggings that went through, so a try again costs the
    failed call alone, never the list's pages again."""

    def __init__(self, *, tenant: Tenant, cc: ConstantContactClient, list_id: str) -> None:
        self.tenant, self.cc, self.list_id = tenant, cc, list_id
        self.only_ours: bool | None = None  # the list's count, once asked
        self.to_tag: dict[str, int] | None = None  # read without the tag: contact id -> pk
        self.asked = 0

    def __call__(self) -> int:
        tenant, cc = self.tenant, self.cc
        chosen = SalesData.objects.filter(tenant=tenant, enabled=True, tag_enabled=True).exists()
        state = SalesDataState.objects.filter(tenant=tenant).first() if chosen else None
        if state is None or not state.tag_id:
            return 0
        if state.tagging_activity_id and not _list_tagging_finished(tenant, state, cc):
            return 0
        # Whatever stops the tag (an account's full queue of activities included) is
        # optional.py's to handle: the contacts not asked for wait for a later pass.
        if self.to_tag is None:
            waiting = _waiting(tenant)
            count = waiting.count()
            if not count:
                return 0
            if count >= WHOLE_LIST_FROM and self._only_ours():
                return _tag_list(state, cc, self.list_id, count)
            self.to_tag = _read(state, cc, self.list_id, waiting)
        return self._tag_contacts(state, self.to_tag)

    def _only_ours(self) -> bool:
        if self.only_ours is None:
            self.only_ours = _only_ours(self.tenant, self.cc, self.list_id)
        return self.only_ours

    def _tag_contacts(self, state: SalesDataState, to_tag: dict[str, int]) -> int:
        """The contacts read without the tag, 500 a call, each counted as asked once its
        call went through: one whose tagging failed waits for a later pass, asks left."""
        while to_tag:
            chunk = list(to_tag)[:MAX_MEMBERSHIP_CONTACTS]
            self.cc.add_taggings(tag_ids=[state.tag_id], contact_ids=chunk)
            pks = [to_tag.pop(contact_id) for contact_id in chunk]
            customer_state.asked_for_tag(CustomerRecord.objects.filter(pk__in=pks))
            self.asked += len(chunk)
        if self.asked:
            logger.info("contacts tagged: tenant=%s count=%s", state.tenant_id, self.asked)
        return self.asked


def start_over(*, tenant: Tenant) -> None:
    """Another tag: every synced contact is to get it."""
    customer_state.untag_all(tenant=tenant)


def _waiting(tenant: Tenant):
    return CustomerRecord.objects.filter(
        tenant=tenant,
        outcome=CustomerRecord.Outcome.SYNCED,
        in_list=True,
        tagged=False,
        tag_asks__lt=MAX_ASKS,
    ).exclude(email="")


def _only_ours(tenant: Tenant, cc: ConstantContactClient, list_id: str) -> bool:
    """Whether the list holds exactly the contacts we put there (its count says so)."""
    held = next(
        (item.get("membership_count") for item in cc.all_lists(include_membership_count=True)
         if str(item.get("list_id")) == list_id),
        None,
    )  # fmt: skip
    placed = CustomerRecord.objects.filter(tenant=tenant, in_list=True)
    ours = sum(list_id in ids for ids in placed.values_list("list_ids", flat=True).iterator())
    return isinstance(held, int) and held == ours


def _tag_list(state: SalesDataState, cc: ConstantContactClient, list_id: str, count: int) -> int:
    upto = timezone.now()
    activity = cc.add_taggings(tag_ids=[state.tag_id], list_ids=[list_id])
    sales_state.tagging_started(state=state, activity_id=str(activity["activity_id"]), upto=upto)
    logger.info("list tagged: tenant=%s contacts=%s", state.tenant_id, count)
    return count


def _list_tagging_finished(
    tenant: Tenant, state: SalesDataState, cc: ConstantContactClient
) -> bool:
    """Whether the list's tagging is over (its contacts recorded as tagged if it
    completed); False while Constant Contact is still at it."""
    activity = cc.get_activity(activity_id=state.tagging_activity_id)
    ended = str(activity.get("state", ""))
    if ended not in ACTIVITY_FINISHED:
        return False
    if ended == "completed" and not activity.get("activity_errors"):
        customer_state.tagged(_waiting(tenant).filter(synced_at__lte=state.tagging_upto))
    else:
        logger.warning("list tagging did not complete: tenant=%s state=%s", tenant.pk, ended)
    sales_state.tagging_ended(state=state)
    return True


def _read(
    state: SalesDataState, cc: ConstantContactClient, list_id: str, waiting
) -> dict[str, int]:
    """The waiting contacts as the list's pages show them: those holding the tag are
    recorded tagged, those not found asked for once more; those without it, returned by
    contact id, are to be tagged."""
    oldest = waiting.aggregate(oldest=Min("synced_at"))["oldest"]
    by_email = {email.lower(): pk for pk, email in waiting.values_list("pk", "email")}
    holding: list[int] = []
    untagged: dict[str, int] = {}
    contacts = cc.iter_contacts(
        lists=[list_id], updated_after=oldest - UPDATED_BEFORE_SYNCED, include=["taggings"]
    )
    for contact in contacts:
        pk = by_email.get(str((contact.get("email_address") or {}).get("address", "")).lower())
        if pk is None:
            continue
        if state.tag_id in (contact.get("taggings") or []):
            holding.append(pk)
        else:
            untagged[str(contact["contact_id"])] = pk
    customer_state.tagged(CustomerRecord.objects.filter(pk__in=holding))
    customer_state.asked_for_tag(waiting.exclude(pk__in=[*holding, *untagged.values()]))
    return untagged

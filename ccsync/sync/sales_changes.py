"""Which customers' figures changed: from the sales transactions webhooks name, and from
Change Data Capture, which catches what webhooks missed. No call while sales data is off.
"""

from datetime import datetime

from django.db.models import QuerySet

from ccsync.sync import optional, sales, sales_state
from ccsync.sync.models import WebhookEvent
from ccsync.sync.sales_state import Source
from integrations.quickbooks.client import CDC_MAX_OBJECTS, QuickBooksClient
from integrations.quickbooks.webhooks import ChangeEvent
from tenants.models import Tenant


def whose_sales_changed(
    *,
    tenant: Tenant,
    qb: QuickBooksClient,
    events: QuerySet[WebhookEvent],
    customer_ids: list[str],
) -> list[str] | None:
    """The changed customers and the customers of the changed sales transactions (1 query
    a kind of transaction); None (everyone) when one QuickBooks no longer has was deleted:
    whose it was is not known. A transaction without a customer (a receipt may have none)
    is nobody's figures."""
    if not sales.is_on(tenant=tenant):
        return customer_ids
    transactions = events.exclude(entity="Customer").values_list("entity", "transaction_id")
    by_entity: dict[str, set[str]] = {}
    for entity, transaction_id in transactions:
        by_entity.setdefault(entity, set()).add(transaction_id)

    def customers_of_transactions() -> tuple[bool, set[str]]:
        """(whether one is gone, the customers of the others)."""
        theirs: set[str] = set()
        for entity, ids in sorted(by_entity.items()):
            found = qb.transaction_customers(entity=entity, ids=sorted(ids))
            if len(found) < len(ids):
                return True, theirs
            theirs |= {customer_id for customer_id in found.values() if customer_id}
        return False, theirs

    if not by_entity:
        return customer_ids
    answer = optional.attempt(
        customers_of_transactions, tenant_id=tenant.pk, source=Source.TRANSACTIONS
    )
    if answer is None:
        # Whose figures changed is not known: everyone's are owed, read again later.
        sales_state.figures_owed(tenant=tenant, everyone_since=None)
        return customer_ids
    gone, theirs = answer
    return None if gone else sorted(set(customer_ids) | theirs)


def cdc_events(
    *, tenant: Tenant, qb: QuickBooksClient, since: datetime, now: datetime
) -> list[ChangeEvent] | None:
    """The sales transactions changed since `since` whose webhook did not arrive, as events
    for the next run of changes (1 call); None when the answer was capped (the caller's
    full check reads everyone's figures)."""
    if not sales.is_on(tenant=tenant):
        return []
    changed = qb.changed_transactions(since=since)
    if len(changed) >= CDC_MAX_OBJECTS:
        return None
    heard = set(
        WebhookEvent.objects.filter(tenant=tenant, received_at__gte=since)
        .exclude(entity="Customer")
        .values_list("entity", "transaction_id")
    )
    return [
        ChangeEvent(
            event_id=f"cdc:{entity}:{item['Id']}:{_updated(item)}",
            realm_id=tenant.realm_id,
            customer_id="",
            operation="delete" if item.get("status") == "Deleted" else "update",
            occurred_at=now,
            entity=entity,
            transaction_id=str(item["Id"]),
        )
        for entity, item in changed
        if (entity, str(item["Id"])) not in heard
    ]


def _updated(item: dict) -> str:
    return str((item.get("MetaData") or {}).get("LastUpdatedTime", ""))

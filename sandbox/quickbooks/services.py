"""Changes to customers, as QuickBooks makes them, each recorded in the webhook outbox.

The customers page and the control API both call these; so the app hears of every change
the way it would from Intuit. Times are kept to the microsecond but shown in whole seconds,
as QuickBooks does: a client asking for changes after a LastUpdatedTime it was shown may
see that change again, but never misses one made later in the same second.
"""

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from sandbox.intuit.services import webhook_targets
from sandbox.quickbooks.models import Customer, CustomerSequence, WebhookEvent
from sandbox.quickbooks.rules import (
    CustomerError,
    CustomerNotFound,
    settle_name,
    with_changes,
)


class Outbox:
    """Collects one service call's events and records them once per subscribed app."""

    def __init__(self, realm_id: str):
        self.realm_id = realm_id
        self.events: list[tuple[str, str, str, str]] = []

    def add(
        self, operation: str, entity_id: str, deleted_id: str = "", *, entity: str = "Customer"
    ) -> None:
        self.events.append((operation, entity_id, deleted_id, entity))

    def record(self) -> None:
        if not self.events:
            return
        occurred_at = timezone.now()
        WebhookEvent.objects.bulk_create(
            WebhookEvent(
                realm_id=self.realm_id,
                entity=entity,
                customer_id=entity_id,
                operation=operation,
                deleted_id=deleted_id,
                occurred_at=occurred_at,
                target_url=target.url,
                verifier_token=target.verifier_token,
            )
            for target in webhook_targets(realm_id=self.realm_id)
            for operation, entity_id, deleted_id, entity in self.events
        )


def next_ids(*, realm_id: str, count: int) -> int:
    """Reserve `count` consecutive customer Ids in a company; returns the first."""
    sequence, _ = CustomerSequence.objects.select_for_update().get_or_create(realm_id=realm_id)
    first = sequence.last_id + 1
    sequence.last_id += count
    sequence.save(update_fields=["last_id"])
    return first


def create_customers(*, realm_id: str, customers: Iterable[dict[str, Any]]) -> list[Customer]:
    """Create customers from Customer-shaped dicts (all or none)."""
    with transaction.atomic():
        outbox = Outbox(realm_id)
        created = []
        for fields in customers:
            moment = timezone.now()
            customer = Customer(
                realm_id=realm_id,
                number=next_ids(realm_id=realm_id, count=1),
                data=with_changes({}, fields),
                created_at=moment,
                updated_at=moment,
            )
            _settle(customer)
            customer.save()
            outbox.add(WebhookEvent.CREATED, customer.customer_id)
            created.append(customer)
        outbox.record()
    return created


def create_customer(*, realm_id: str, fields: dict[str, Any]) -> Customer:
    return create_customers(realm_id=realm_id, customers=[fields])[0]


def update_customer(*, realm_id: str, customer_id: str, changes: dict[str, Any]) -> Customer:
    """A sparse update: the given top-level properties replace the stored ones (None
    removes one); SyncToken and LastUpdatedTime move on."""
    with transaction.atomic():
        outbox = Outbox(realm_id)
        customer = _live(realm_id, customer_id)
        data = with_changes(customer.data, changes)
        customer.data = data
        _save_change(customer, outbox)
        if data.get("Active", True) is False:
            _deactivate_subcustomers(customer, outbox)
        outbox.record()
    return customer


def set_active(*, realm_id: str, customer_id: str, active: bool) -> Customer:
    """Deactivate (QuickBooks' "Make inactive", which takes the sub-customers along) or
    reactivate a customer."""
    return update_customer(realm_id=realm_id, customer_id=customer_id, changes={"Active": active})


def delete_customer(*, realm_id: str, customer_id: str) -> None:
    with transaction.atomic():
        outbox = Outbox(realm_id)
        customer = _live(realm_id, customer_id)
        if _subcustomers(customer).exists():
            raise CustomerError("This customer has sub-customers: delete or move them first.")
        _bury(customer, Customer.DELETED)
        outbox.add(WebhookEvent.DELETED, customer.customer_id)
        outbox.record()


def merge_customer(*, realm_id: str, customer_id: str, into_id: str) -> Customer:
    """Merge `customer_id` into `into_id`: the first disappears (CDC reports it deleted),
    its sub-customers move to the second, which is updated. Returns the survivor."""
    with transaction.atomic():
        outbox = Outbox(realm_id)
        merged = _live(realm_id, customer_id)
        survivor = _live(realm_id, into_id)
        if merged.pk == survivor.pk:
            raise CustomerError("A customer cannot be merged into itself.")
        if _is_descendant(survivor, of=merged):
            raise CustomerError("A customer cannot be merged into one of its sub-customers.")
        for child in _subcustomers(merged):
            child.data = {**child.data, "ParentRef": {"value": survivor.customer_id}}
            _save_change(child, outbox)
        merged.merged_into = survivor.number
        _bury(merged, Customer.MERGED)
        _touch(survivor)
        survivor.save()
        outbox.add(WebhookEvent.MERGED, survivor.customer_id, deleted_id=merged.customer_id)
        outbox.record()
    return survivor


def _live(realm_id: str, customer_id: str) -> Customer:
    customer = (
        Customer.objects.select_for_update()
        .filter(realm_id=realm_id, number=_number(customer_id), state=Customer.LIVE)
        .first()
    )
    if customer is None:
        raise CustomerNotFound(f"There is no customer {customer_id}.")
    return customer


def _number(customer_id: str) -> int:
    try:
        return int(customer_id)
    except (TypeError, ValueError):
        raise CustomerNotFound(f"There is no customer {customer_id}.") from None


def _subcustomers(customer: Customer):
    return Customer.objects.filter(
        realm_id=customer.realm_id, state=Customer.LIVE, parent_number=customer.number
    )


def _is_descendant(customer: Customer, *, of: Customer) -> bool:
    parent = customer.parent_number
    while parent is not None:
        if parent == of.number:
            return True
        parent = (
            Customer.objects.filter(realm_id=customer.realm_id, number=parent)
            .values_list("parent_number", flat=True)
            .first()
        )
    return False


def _touch(customer: Customer) -> None:
    customer.sync_token += 1
    customer.updated_at = timezone.now()


def _bury(customer: Customer, state: str) -> None:
    _touch(customer)
    customer.state = state
    customer.save()


def _save_change(customer: Customer, outbox: Outbox) -> None:
    """Validate, bump and save an edited customer, then bring its sub-customers' full
    names along (QuickBooks shows them as "Parent:Child")."""
    _touch(customer)
    _settle(customer)
    customer.save()
    outbox.add(WebhookEvent.UPDATED, customer.customer_id)
    for child in _subcustomers(customer):
        before = child.data.get("FullyQualifiedName")
        _settle(child)
        if child.data.get("FullyQualifiedName") != before:
            _save_change(child, outbox)


def _deactivate_subcustomers(customer: Customer, outbox: Outbox) -> None:
    for child in _subcustomers(customer).filter(active=True):
        child.data = {**child.data, "Active": False}
        _save_change(child, outbox)
        _deactivate_subcustomers(child, outbox)


def _settle(customer: Customer) -> None:
    """Fill what QuickBooks derives (DisplayName, Job, Level, FullyQualifiedName) and
    refuse what it refuses (no name, a name in use, a bad parent, a too long email)."""
    data = customer.data
    settle_name(data)
    duplicate = Customer.objects.filter(
        realm_id=customer.realm_id, state=Customer.LIVE, display_name__iexact=data["DisplayName"]
    ).exclude(pk=customer.pk)
    if duplicate.exists():
        raise CustomerError("Another customer is already using this name. Use a different name.")
    parent_id = (data.get("ParentRef") or {}).get("value")
    if parent_id:
        parent = (
            Customer.objects.filter(
                realm_id=customer.realm_id, number=_number(parent_id), state=Customer.LIVE
            ).first()
            if str(parent_id).isdigit()
            else None
        )
        if parent is None:
            raise CustomerError(f"The parent customer {parent_id} does not exist.")
        if parent.pk == customer.pk or (customer.pk and _is_descendant(parent, of=customer)):
            raise CustomerError("A customer cannot be its own parent.")
        data["ParentRef"] = {"value": parent.customer_id}
        data["Job"] = True
        data["Level"] = int(parent.data.get("Level", 0)) + 1
        full_name = f"{parent.data['FullyQualifiedName']}:{data['DisplayName']}"
    else:
        data.pop("ParentRef", None)
        data.pop("Level", None)
        data["Job"] = False
        full_name = data["DisplayName"]
    data["FullyQualifiedName"] = full_name
    customer.copy_columns()

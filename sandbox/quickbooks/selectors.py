"""Reads of customers in the Accounting API's JSON shapes: query, read and CDC."""

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from sandbox.quickbooks.models import Customer
from sandbox.quickbooks.query import COMPANY_TIMEZONE, Condition, Query, like_regex
from sandbox.quickbooks.rules import quickbooks_time

CDC_MAX_DAYS = 30
CDC_MAX_OBJECTS = 1000
_COLUMNS = {
    "Id": "number",
    "Active": "active",
    "DisplayName": "display_name",
    "GivenName": "given_name",
    "FamilyName": "family_name",
    "CompanyName": "company_name",
    "PrimaryEmailAddr": "email",
    "MetaData.CreateTime": "created_at",
    "MetaData.LastUpdatedTime": "updated_at",
}
_LOOKUPS = {"=": "exact", "<": "lt", ">": "gt", "<=": "lte", ">=": "gte", "IN": "in"}
ADDRESSES = ("BillAddr", "ShipAddr")
# What QuickBooks shows for properties the sandbox does not model (no taxes).
_DEFAULTS = {
    "BillWithParent": False,
    "Taxable": False,
    "PreferredDeliveryMethod": "Print",
}


def response_time() -> str:
    return timezone.now().astimezone(COMPANY_TIMEZONE).isoformat(timespec="milliseconds")


def customer_json(customer: Customer) -> dict[str, Any]:
    data = dict(customer.data)
    data.setdefault("PrintOnCheckName", data.get("DisplayName", ""))
    for offset, kind in enumerate(ADDRESSES):
        if isinstance(data.get(kind), dict):
            data[kind] = _placed(data[kind], address_id=2 * customer.number + offset)
    return {
        "domain": "QBO",
        "sparse": False,
        "Id": customer.customer_id,
        "SyncToken": str(customer.sync_token),
        **_DEFAULTS,
        **data,
        # Kept by sandbox.quickbooks.sales as invoices, credits and payments come and go.
        "Balance": customer.balance_cents / 100,
        "BalanceWithJobs": customer.balance_with_jobs_cents / 100,
        "MetaData": {
            "CreateTime": quickbooks_time(customer.created_at),
            "LastUpdatedTime": quickbooks_time(customer.updated_at),
        },
    }


def _placed(address: dict[str, Any], *, address_id: int) -> dict[str, Any]:
    """An address as QuickBooks shows it: with its own Id, and geocoded ("INVALID" where
    QuickBooks could not place it, as in Intuit's Customer samples). The sandbox places
    nothing; a customer's billing and shipping addresses are numbered 2n and 2n + 1, so
    each Id is the company's own and stays through edits."""
    return {"Lat": "INVALID", "Long": "INVALID", **address, "Id": str(address_id)}


def deleted_json(customer: Customer) -> dict[str, Any]:
    """How CDC reports a deleted or merged-away customer."""
    return {
        "domain": "QBO",
        "status": "Deleted",
        "Id": customer.customer_id,
        "MetaData": {"LastUpdatedTime": quickbooks_time(customer.updated_at)},
    }


def live_customers(*, realm_id: str) -> QuerySet[Customer]:
    return Customer.objects.filter(realm_id=realm_id, state=Customer.LIVE)


def read_customer(*, realm_id: str, customer_id: str) -> Customer | None:
    if not customer_id.isdigit():
        return None
    return live_customers(realm_id=realm_id).filter(number=int(customer_id)).first()


def query_response(*, realm_id: str, query: Query) -> dict[str, Any]:
    """The QueryResponse object of a parsed Customer query."""
    customers = live_customers(realm_id=realm_id).filter(_where(query.where))
    # QuickBooks answers with active customers only unless the query says something
    # about Active (e.g. "Active IN (true, false)"); the sandbox does the same, so a
    # client that wants inactive ones must ask for them.
    if not query.names("Active"):
        customers = customers.filter(active=True)
    if query.count:
        return {"totalCount": customers.count()}
    order = [("-" if descending else "") + _COLUMNS[field] for field, descending in query.order_by]
    if not any(field == "Id" for field, _ in query.order_by):
        order.append("number")  # a stable order for paging
    first = query.start_position - 1
    page = list(customers.order_by(*order)[first : first + query.max_results])
    if not page:
        return {}
    rows = [customer_json(customer) for customer in page]
    if query.fields is not None:
        rows = [_project(row, query.fields) for row in rows]
    return {"Customer": rows, "startPosition": query.start_position, "maxResults": len(rows)}


def changed_since_too_old(since: datetime) -> bool:
    return since < timezone.now() - timedelta(days=CDC_MAX_DAYS)


def cdc_customers(*, realm_id: str, since: datetime, limit: int) -> list[dict[str, Any]]:
    """CDC's customers changed at or after `since` (inactive, deleted and merged ones
    too), oldest change first."""
    changed = Customer.objects.filter(realm_id=realm_id, updated_at__gte=since).order_by(
        "updated_at", "number"
    )[:limit]
    return [
        customer_json(customer) if customer.is_live else deleted_json(customer)
        for customer in changed
    ]


def _where(conditions: tuple[Condition, ...]) -> Q:
    where = Q()
    for condition in conditions:
        column = _COLUMNS[condition.field]
        if condition.operator == "LIKE":
            # Intuit does not say whether LIKE minds case; the sandbox does not.
            where &= Q(**{f"{column}__iregex": like_regex(str(condition.value))})
        else:
            where &= Q(**{f"{column}__{_LOOKUPS[condition.operator]}": condition.value})
    return where


def _project(row: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    wanted = {field.split(".")[0].lower() for field in fields} | {"id", "synctoken", "domain"}
    projected = {name: value for name, value in row.items() if name.lower() in wanted}
    projected["sparse"] = True
    return projected

"""Sales transactions and customer types in the Accounting API's JSON shapes: query, read
and CDC (the Customer ones are in selectors.py)."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet

from sandbox.quickbooks.models import Customer, CustomerType, SalesTransaction
from sandbox.quickbooks.query import Condition, Query, like_regex
from sandbox.quickbooks.rules import customer_type_json, quickbooks_time
from sandbox.quickbooks.selectors import CDC_MAX_OBJECTS, cdc_customers

_TRANSACTION_COLUMNS = {
    "Id": "number",
    "DocNumber": "doc_number",
    "TxnDate": "txn_date",
    "CustomerRef": "customer_number",
    "MetaData.CreateTime": "created_at",
    "MetaData.LastUpdatedTime": "updated_at",
}
_TYPE_COLUMNS = {
    "Id": "number",
    "Name": "name",
    "Active": "active",
    "MetaData.CreateTime": "created_at",
    "MetaData.LastUpdatedTime": "updated_at",
}
_LOOKUPS = {"=": "exact", "<": "lt", ">": "gt", "<=": "lte", ">=": "gte", "IN": "in"}
CURRENCIES = {
    "USD": "United States Dollar",
    "CAD": "Canadian Dollar",
    "EUR": "Euro",
    "GBP": "British Pound Sterling",
}


def money(amount_cents: int) -> float:
    """An amount as QuickBooks' JSON writes it: a number with up to two decimals."""
    return float(Decimal(amount_cents) / 100)


def _meta(row: SalesTransaction | CustomerType) -> dict[str, str]:
    return {
        "CreateTime": quickbooks_time(row.created_at),
        "LastUpdatedTime": quickbooks_time(row.updated_at),
    }


def transaction_json(sale: SalesTransaction, *, customer_name: str = "") -> dict[str, Any]:
    """An Invoice, SalesReceipt, CreditMemo, RefundReceipt or Payment as QuickBooks shows it."""
    body: dict[str, Any] = {
        "domain": "QBO",
        "sparse": False,
        "Id": sale.transaction_id,
        "SyncToken": str(sale.sync_token),
        "MetaData": _meta(sale),
        "TxnDate": sale.txn_date.isoformat(),
        "CurrencyRef": {"value": sale.currency, "name": CURRENCIES.get(sale.currency, "")},
        "ExchangeRate": float(sale.exchange_rate),
        "TotalAmt": money(sale.total_cents),
    }
    if sale.customer_number is not None:  # optional on a SalesReceipt and a RefundReceipt
        body["CustomerRef"] = {"value": str(sale.customer_number), "name": customer_name}
    if sale.state == SalesTransaction.VOIDED:
        body["PrivateNote"] = "Voided"
    if sale.entity == SalesTransaction.PAYMENT:
        body["UnappliedAmt"] = money(sale.balance_cents)
        body["Line"] = (
            [
                {
                    "Amount": money(sale.total_cents),
                    "LinkedTxn": [{"TxnId": str(sale.applied_to), "TxnType": "Invoice"}],
                }
            ]
            if sale.applied_to
            else []
        )
        return body
    body["DocNumber"] = sale.doc_number
    body["Line"] = [
        {
            "Id": "1",
            "LineNum": 1,
            "Description": sale.description,
            "Amount": money(sale.subtotal_cents),
            "DetailType": "SalesItemLineDetail",
            "SalesItemLineDetail": {"ItemRef": {"value": "1", "name": "Services"}},
        },
        {
            "Amount": money(sale.subtotal_cents),
            "DetailType": "SubTotalLineDetail",
            "SubTotalLineDetail": {},
        },
    ]
    body["TxnTaxDetail"] = {"TotalTax": money(sale.tax_cents)}
    if sale.entity == SalesTransaction.INVOICE:
        body["Balance"] = money(sale.balance_cents)
    if sale.entity == SalesTransaction.CREDIT_MEMO:
        body["RemainingCredit"] = money(sale.balance_cents)
        body["Balance"] = money(sale.balance_cents)
    return body


def deleted_json(row: SalesTransaction) -> dict[str, Any]:
    return {
        "domain": "QBO",
        "status": "Deleted",
        "Id": row.transaction_id,
        "MetaData": {"LastUpdatedTime": quickbooks_time(row.updated_at)},
    }


def transactions(*, realm_id: str, entity: str) -> QuerySet[SalesTransaction]:
    return SalesTransaction.objects.filter(realm_id=realm_id, entity=entity).exclude(
        state=SalesTransaction.DELETED
    )


def render_transactions(sales: list[SalesTransaction]) -> list[dict[str, Any]]:
    """Transactions as JSON, their customers' names looked up at once."""
    names = _names(sales)
    return [
        transaction_json(sale, customer_name=names.get(sale.customer_number, "")) for sale in sales
    ]


def read_transaction(*, realm_id: str, entity: str, transaction_id: str) -> dict | None:
    if not transaction_id.isdigit():
        return None
    sale = transactions(realm_id=realm_id, entity=entity).filter(number=int(transaction_id))
    rendered = render_transactions(list(sale[:1]))
    return rendered[0] if rendered else None


def query_response(*, realm_id: str, query: Query) -> dict[str, Any]:
    """The QueryResponse of a parsed CustomerType or transaction query."""
    if query.entity == "CustomerType":
        rows: QuerySet = CustomerType.objects.filter(realm_id=realm_id)
        if not query.names("Active"):
            rows = rows.filter(active=True)  # name lists answer active ones unless asked
        columns = _TYPE_COLUMNS
    else:
        rows = transactions(realm_id=realm_id, entity=query.entity)
        columns = _TRANSACTION_COLUMNS
    rows = rows.filter(_where(query.where, columns))
    if query.count:
        return {"totalCount": rows.count()}
    order = [("-" if descending else "") + columns[field] for field, descending in query.order_by]
    first = query.start_position - 1
    page = list(rows.order_by(*order, "number")[first : first + query.max_results])
    if not page:
        return {}
    rendered = (
        [customer_type_json(kind) for kind in page]
        if query.entity == "CustomerType"
        else render_transactions(page)
    )
    return {
        query.entity: rendered,
        "startPosition": query.start_position,
        "maxResults": len(rendered),
    }


def cdc_response(*, realm_id: str, since: datetime, entities: list[str]) -> list[dict]:
    """CDCResponse: a QueryResponse entry for each entity asked for that changed, oldest
    change first; at most 1,000 objects in all, as QuickBooks caps an answer. Nothing
    changed is one empty entry, as in Intuit's example (tests/samples/quickbooks/
    cdc-no-changes.json)."""
    left = CDC_MAX_OBJECTS
    answers = []
    for name in entities:
        if name == "Customer":
            rows = cdc_customers(realm_id=realm_id, since=since, limit=left)
        else:
            rows = cdc_entries(realm_id=realm_id, entity=name, since=since, limit=left)
        left -= len(rows)
        if rows:
            answers.append({name: rows, "startPosition": 1, "maxResults": len(rows)})
    return [{"QueryResponse": answers or [{}]}]


def cdc_entries(*, realm_id: str, entity: str, since: datetime, limit: int) -> list[dict]:
    """CDC's objects of one entity changed at or after `since` (deleted ones as tombstones)."""
    if entity == "CustomerType":
        kinds = CustomerType.objects.filter(realm_id=realm_id, updated_at__gte=since)
        return [customer_type_json(kind) for kind in kinds.order_by("updated_at")[:limit]]
    changed = list(
        SalesTransaction.objects.filter(
            realm_id=realm_id, entity=entity, updated_at__gte=since
        ).order_by("updated_at", "number")[:limit]
    )
    live = render_transactions([sale for sale in changed if sale.state != sale.DELETED])
    by_id = {row["Id"]: row for row in live}
    return [by_id.get(sale.transaction_id) or deleted_json(sale) for sale in changed]


def _names(sales: list[SalesTransaction]) -> dict[int | None, str]:
    if not sales:
        return {}
    return dict(
        Customer.objects.filter(
            realm_id=sales[0].realm_id,
            number__in={s.customer_number for s in sales if s.customer_number is not None},
        ).values_list("number", "display_name")
    )


def _where(conditions: tuple[Condition, ...], columns: dict[str, str]) -> Q:
    where = Q()
    for condition in conditions:
        column = columns[condition.field]
        if condition.operator == "LIKE":
            where &= Q(**{f"{column}__iregex": like_regex(str(condition.value))})
        else:
            where &= Q(**{f"{column}__{_LOOKUPS[condition.operator]}": condition.value})
    return where

"""Control API for sales: create an invoice, sales receipt, credit memo or refund receipt
for a customer (or a receipt for no customer), receive a payment on an invoice, void or
delete a transaction, list a customer's transactions, add a customer type, set the
company's preferences (multicurrency, the language of its reports). Each change emits its
webhook events."""

from datetime import date
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_http_methods, require_POST

from sandbox.common import json_object
from sandbox.quickbooks import sales, sales_selectors
from sandbox.quickbooks.control import control_api
from sandbox.quickbooks.models import CustomerType, SalesTransaction
from sandbox.quickbooks.services import CustomerError


def _date(body: dict[str, Any]) -> date | None:
    raw = body.get("TxnDate")
    if raw in (None, ""):
        return None
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise CustomerError("TxnDate is YYYY-MM-DD.") from None


def _rendered(sale: SalesTransaction) -> dict[str, Any]:
    return {sale.entity: sales_selectors.render_transactions([sale])[0]}


@require_http_methods(["GET", "POST"])
@control_api
def customer_sales(request: HttpRequest, realm_id: str, customer_id: str) -> Any:
    """GET: the customer's transactions (voided ones too), each as {entity: transaction}.
    POST {"entity": "Invoice", "amount": "120.00", "tax": "9.90", "TxnDate": "2025-01-31",
    "description": "...", "currency": "EUR", "ExchangeRate": "1.10"}."""
    if request.method == "GET":
        rows = SalesTransaction.objects.filter(
            realm_id=realm_id, customer_number=int(customer_id) if customer_id.isdigit() else -1
        ).exclude(state=SalesTransaction.DELETED)
        found = list(rows.order_by("number"))
        rendered = sales_selectors.render_transactions(found)
        return {
            "Transactions": [
                {sale.entity: body} for sale, body in zip(found, rendered, strict=True)
            ]
        }
    return _create(realm_id, customer_id, json_object(request))


@require_POST
@control_api
def sales_without_customer(request: HttpRequest, realm_id: str) -> Any:
    """A SalesReceipt or RefundReceipt without a customer (a walk-in sale): the same body
    as a customer's sales, "entity" one of those two."""
    body = json_object(request)
    return _create(realm_id, None, {"entity": SalesTransaction.SALES_RECEIPT, **body})


def _create(realm_id: str, customer_id: str | None, body: dict[str, Any]) -> JsonResponse:
    """The body may name a "currency" and its "ExchangeRate" (multicurrency companies)."""
    sale = sales.create_transaction(
        realm_id=realm_id,
        entity=str(body.get("entity", SalesTransaction.INVOICE)),
        customer_id=customer_id,
        amount=body.get("amount"),
        tax=body.get("tax", 0),
        txn_date=_date(body),
        description=str(body.get("description", "")),
        currency=str(body.get("currency", "")),
        exchange_rate=body.get("ExchangeRate"),
    )
    return JsonResponse(_rendered(sale), status=201)


@require_http_methods(["GET", "POST"])
@control_api
def preferences(request: HttpRequest, realm_id: str) -> Any:
    """GET: the company's preferences. POST {"MultiCurrencyEnabled": true, "HomeCurrency":
    "CAD", "Language": "fr"} (each optional): set them."""
    if request.method == "POST":
        body = json_object(request)
        multicurrency = body.get("MultiCurrencyEnabled")
        if multicurrency is not None and not isinstance(multicurrency, bool):
            raise CustomerError("MultiCurrencyEnabled is true or false.")
        prefs = sales.set_preferences(
            realm_id=realm_id,
            multicurrency=multicurrency,
            home_currency=_text(body, "HomeCurrency"),
            language=_text(body, "Language"),
        )
    else:
        prefs = sales.preferences(realm_id=realm_id)
    return {
        "MultiCurrencyEnabled": prefs.multicurrency,
        "HomeCurrency": prefs.home_currency,
        "Language": prefs.language,
    }


def _text(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    return None if value is None else str(value)


@require_POST
@control_api
def pay(request: HttpRequest, realm_id: str, transaction_id: str) -> Any:
    """Receive a payment on an invoice: {"amount": "50.00"} (default its whole balance)."""
    body = json_object(request)
    payment = sales.receive_payment(
        realm_id=realm_id,
        invoice_id=transaction_id,
        amount=body.get("amount"),
        txn_date=_date(body),
    )
    return JsonResponse(_rendered(payment), status=201)


@require_POST
@control_api
def void(request: HttpRequest, realm_id: str, transaction_id: str) -> Any:
    return _rendered(sales.void_transaction(realm_id=realm_id, transaction_id=transaction_id))


@require_POST
@control_api
def delete(request: HttpRequest, realm_id: str, transaction_id: str) -> Any:
    sales.delete_transaction(realm_id=realm_id, transaction_id=transaction_id)
    return {"deleted": transaction_id}


@require_http_methods(["GET", "POST"])
@control_api
def customer_types(request: HttpRequest, realm_id: str) -> Any:
    """GET: the company's customer types. POST {"Name": "Wholesale"}: add one."""
    if request.method == "GET":
        kinds = CustomerType.objects.filter(realm_id=realm_id).order_by("number")
        return {"CustomerType": [sales_selectors.customer_type_json(kind) for kind in kinds]}
    name = str(json_object(request).get("Name", "")).strip()
    if not name:
        raise CustomerError('send {"Name": <the customer type\'s name>}')
    kind = sales.create_customer_type(realm_id=realm_id, name=name)
    return JsonResponse({"CustomerType": sales_selectors.customer_type_json(kind)}, status=201)

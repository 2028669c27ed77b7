"""Sales transactions as QuickBooks makes them: create, receive a payment, void, delete.

Each change keeps the customer's Balance and its ancestors' BalanceWithJobs in step and is
recorded in the webhook outbox under the transaction's own entity name (Invoice,
SalesReceipt, CreditMemo, RefundReceipt, Payment), as Intuit's webhooks name them.
"""

import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from sandbox.quickbooks.models import (
    CompanyPreferences,
    Customer,
    CustomerType,
    SalesTransaction,
    TransactionSequence,
    WebhookEvent,
)
from sandbox.quickbooks.rules import CustomerError, CustomerNotFound, cents
from sandbox.quickbooks.services import Outbox

SALES = (SalesTransaction.INVOICE, SalesTransaction.SALES_RECEIPT)
RETURNS = (SalesTransaction.CREDIT_MEMO, SalesTransaction.REFUND_RECEIPT)
KINDS = (*SALES, *RETURNS)
# The kinds whose CustomerRef Intuit's references mark optional.
ANONYMOUS = (SalesTransaction.SALES_RECEIPT, SalesTransaction.REFUND_RECEIPT)
# Open amounts that lower what a customer owes (credit not yet used, payments not applied).
_CREDITS = (SalesTransaction.CREDIT_MEMO, SalesTransaction.PAYMENT)


class TransactionNotFound(CustomerNotFound):
    pass


def next_transaction_ids(*, realm_id: str, count: int) -> int:
    """Reserve `count` consecutive transaction Ids (shared by every kind); the first."""
    sequence, _ = TransactionSequence.objects.select_for_update().get_or_create(realm_id=realm_id)
    first = sequence.last_id + 1
    sequence.last_id += count
    sequence.save(update_fields=["last_id"])
    return first


def create_transaction(
    *,
    realm_id: str,
    entity: str,
    customer_id: str | None,
    amount: object,
    txn_date: date | None = None,
    tax: object = 0,
    description: str = "",
    currency: str = "",
    exchange_rate: object = None,
) -> SalesTransaction:
    """An Invoice (open for its total), SalesReceipt, CreditMemo (a credit the customer can
    use: it lowers the Balance) or RefundReceipt for `amount` before tax. A SalesReceipt or
    RefundReceipt may have no customer (CustomerRef is optional on them, required on the
    others). In a multicurrency company a sale may be in another currency than the home
    one, at `exchange_rate` home units per unit."""
    if entity not in KINDS:
        raise CustomerError(f"A sale is one of {', '.join(KINDS)}, not {entity}.")
    subtotal, tax_cents = cents(amount), cents(tax, what="tax")
    with transaction.atomic():
        if not customer_id and entity not in ANONYMOUS:
            raise CustomerError(f"A {entity} needs a customer (its CustomerRef is required).")
        customer = _customer(realm_id, customer_id) if customer_id else None
        currency, rate = _currency(realm_id, currency, exchange_rate)
        moment = timezone.now()
        total = subtotal + tax_cents
        number = next_transaction_ids(realm_id=realm_id, count=1)
        sale = SalesTransaction.objects.create(
            realm_id=realm_id,
            entity=entity,
            number=number,
            customer_number=customer.number if customer else None,
            txn_date=txn_date or timezone.localdate(),
            doc_number=str(1000 + number),
            subtotal_cents=subtotal,
            tax_cents=tax_cents,
            total_cents=total,
            balance_cents=total if entity in (SalesTransaction.INVOICE, *_CREDITS) else 0,
            currency=currency,
            exchange_rate=rate,
            description=description[:200],
            created_at=moment,
            updated_at=moment,
        )
        refresh_balances(realm_id=realm_id, numbers=[customer.number] if customer else [])
        outbox = Outbox(realm_id)
        outbox.add(WebhookEvent.CREATED, sale.transaction_id, entity=entity)
        outbox.record()
    return sale


def receive_payment(
    *, realm_id: str, invoice_id: str, amount: object = None, txn_date: date | None = None
) -> SalesTransaction:
    """A Payment applied to an open invoice: its whole balance, or `amount` of it."""
    with transaction.atomic():
        invoice = _live(realm_id, invoice_id)
        if invoice.entity != SalesTransaction.INVOICE or invoice.state != SalesTransaction.LIVE:
            raise CustomerError(f"Transaction {invoice_id} is not an invoice one can pay.")
        paid = invoice.balance_cents if amount in (None, "") else cents(amount)
        if not 0 < paid <= invoice.balance_cents:
            raise CustomerError("A payment is more than 0 and at most the invoice's balance.")
        moment = timezone.now()
        payment = SalesTransaction.objects.create(
            realm_id=realm_id,
            entity=SalesTransaction.PAYMENT,
            number=next_transaction_ids(realm_id=realm_id, count=1),
            customer_number=invoice.customer_number,
            txn_date=txn_date or timezone.localdate(),
            subtotal_cents=paid,
            total_cents=paid,
            applied_to=invoice.number,
            created_at=moment,
            updated_at=moment,
        )
        invoice.balance_cents -= paid
        _touch(invoice)
        refresh_balances(realm_id=realm_id, numbers=_customers_of(invoice))
        outbox = Outbox(realm_id)
        outbox.add(WebhookEvent.CREATED, payment.transaction_id, entity=SalesTransaction.PAYMENT)
        outbox.add(WebhookEvent.UPDATED, invoice.transaction_id, entity=SalesTransaction.INVOICE)
        outbox.record()
    return payment


def void_transaction(*, realm_id: str, transaction_id: str) -> SalesTransaction:
    """QuickBooks' Void: the transaction stays, every amount 0 ("Voided" in its note)."""
    return _end(realm_id, transaction_id, SalesTransaction.VOIDED, WebhookEvent.VOIDED)


def delete_transaction(*, realm_id: str, transaction_id: str) -> SalesTransaction:
    return _end(realm_id, transaction_id, SalesTransaction.DELETED, WebhookEvent.DELETED)


def _end(realm_id: str, transaction_id: str, state: str, operation: str) -> SalesTransaction:
    with transaction.atomic():
        sale = _live(realm_id, transaction_id)
        if sale.state == SalesTransaction.DELETED or (
            state == SalesTransaction.VOIDED and sale.state == SalesTransaction.VOIDED
        ):
            raise CustomerError(f"Transaction {transaction_id} is already {sale.state}.")
        outbox = Outbox(realm_id)
        if sale.entity == SalesTransaction.PAYMENT and sale.applied_to and sale.total_cents:
            # The invoice it paid is open again for that amount.
            invoice = _live(realm_id, str(sale.applied_to))
            invoice.balance_cents += sale.total_cents
            _touch(invoice)
            outbox.add(WebhookEvent.UPDATED, invoice.transaction_id, entity=invoice.entity)
        if sale.entity == SalesTransaction.INVOICE:
            # Its payments stay, unapplied: credit the customer can use.
            for payment in SalesTransaction.objects.filter(
                realm_id=realm_id, applied_to=sale.number, state=SalesTransaction.LIVE
            ):
                payment.applied_to = None
                payment.balance_cents = payment.total_cents
                _touch(payment)
                outbox.add(WebhookEvent.UPDATED, payment.transaction_id, entity=payment.entity)
        sale.state = state
        for name in ("subtotal_cents", "tax_cents", "total_cents", "balance_cents"):
            setattr(sale, name, 0)
        _touch(sale)
        refresh_balances(realm_id=realm_id, numbers=_customers_of(sale))
        outbox.add(operation, sale.transaction_id, entity=sale.entity)
        outbox.record()
    return sale


def refresh_balances(*, realm_id: str, numbers: Iterable[int]) -> None:
    """Recompute Balance (open invoices less unused credits and unapplied payments) of
    these customers, and BalanceWithJobs of them and every ancestor."""
    pending = set(numbers)
    seen: set[int] = set()
    while pending:
        number = pending.pop()
        if number in seen:
            continue
        seen.add(number)
        customer = Customer.objects.filter(realm_id=realm_id, number=number).first()
        if customer is None:
            continue
        own = _open(realm_id, [number], (SalesTransaction.INVOICE,)) - _open(
            realm_id, [number], _CREDITS
        )
        children = Customer.objects.filter(
            realm_id=realm_id, parent_number=number, state=Customer.LIVE
        ).aggregate(total=Sum("balance_with_jobs_cents"))["total"]
        Customer.objects.filter(pk=customer.pk).update(
            balance_cents=own, balance_with_jobs_cents=own + (children or 0)
        )
        if customer.parent_number is not None:
            seen.discard(customer.parent_number)  # its total moved with this one's
            pending.add(customer.parent_number)


def _open(realm_id: str, numbers: list[int], entities: tuple[str, ...]) -> int:
    return (
        SalesTransaction.objects.filter(
            realm_id=realm_id,
            customer_number__in=numbers,
            entity__in=entities,
            state=SalesTransaction.LIVE,
        ).aggregate(total=Sum("balance_cents"))["total"]
        or 0
    )


def preferences(*, realm_id: str) -> CompanyPreferences:
    """The company's preferences (the defaults, unsaved, until someone sets them)."""
    return CompanyPreferences.objects.filter(realm_id=realm_id).first() or CompanyPreferences(
        realm_id=realm_id
    )


def set_preferences(
    *,
    realm_id: str,
    multicurrency: bool | None = None,
    home_currency: str | None = None,
    language: str | None = None,
) -> CompanyPreferences:
    """Multicurrency on (QuickBooks cannot turn it off again), the home currency (fixed
    once multicurrency is on) and the language of report texts."""
    with transaction.atomic():
        prefs, _ = CompanyPreferences.objects.select_for_update().get_or_create(realm_id=realm_id)
        if multicurrency is False and prefs.multicurrency:
            raise CustomerError("Multicurrency cannot be turned off once it is on.")
        if home_currency is not None:
            code = home_currency.strip().upper()
            if not re.fullmatch(r"[A-Z]{3}", code):
                raise CustomerError("The home currency is a three-letter code.")
            if prefs.multicurrency and code != prefs.home_currency:
                raise CustomerError("The home currency is fixed once multicurrency is on.")
            prefs.home_currency = code
        if multicurrency:
            prefs.multicurrency = True
        if language is not None:
            if language not in dict(CompanyPreferences.LANGUAGES):
                raise CustomerError(
                    f"The language is one of {', '.join(dict(CompanyPreferences.LANGUAGES))}."
                )
            prefs.language = language
        prefs.save()
    return prefs


def _currency(realm_id: str, currency: str, rate: object) -> tuple[str, Decimal]:
    """The sale's currency and its exchange rate to the home currency."""
    prefs = preferences(realm_id=realm_id)
    code = (currency or prefs.home_currency).strip().upper()
    if code == prefs.home_currency:
        return code, Decimal(1)
    if not prefs.multicurrency:
        raise CustomerError("Only a multicurrency company sells in another currency.")
    try:
        value = Decimal(str(rate))
    except (InvalidOperation, ValueError):
        value = Decimal(0)
    if not value.is_finite() or value <= 0:
        raise CustomerError("A sale in another currency needs its exchange rate, above 0.")
    return code, value


def create_customer_type(*, realm_id: str, name: str) -> CustomerType:
    with transaction.atomic():
        moment = timezone.now()
        number = CustomerType.objects.filter(realm_id=realm_id).order_by("-number").first()
        return CustomerType.objects.create(
            realm_id=realm_id,
            number=(number.number if number else 0) + 1,
            name=name,
            created_at=moment,
            updated_at=moment,
        )


def _customer(realm_id: str, customer_id: str | None) -> Customer:
    customer = (
        Customer.objects.filter(
            realm_id=realm_id, number=int(customer_id), state=Customer.LIVE
        ).first()
        if customer_id and customer_id.isdigit()
        else None
    )
    if customer is None:
        raise CustomerNotFound(f"There is no customer {customer_id}.")
    return customer


def _customers_of(sale: SalesTransaction) -> list[int]:
    return [] if sale.customer_number is None else [sale.customer_number]


def _live(realm_id: str, transaction_id: str) -> SalesTransaction:
    sale = (
        SalesTransaction.objects.select_for_update()
        .filter(realm_id=realm_id, number=int(transaction_id))
        .exclude(state=SalesTransaction.DELETED)
        .first()
        if str(transaction_id).isdigit()
        else None
    )
    if sale is None:
        raise TransactionNotFound(f"There is no transaction {transaction_id}.")
    return sale


def _touch(sale: SalesTransaction) -> None:
    sale.sync_token += 1
    sale.updated_at = timezone.now()
    sale.save()

"""Seeded sales: customer types and a few years of invoices, sales receipts, credit memos,
refunds and payments for a company's customers, in bulk (no webhooks)."""

import random
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from sandbox.quickbooks.models import Customer, CustomerType, SalesTransaction
from sandbox.quickbooks.query import COMPANY_TIMEZONE
from sandbox.quickbooks.sales import next_transaction_ids

CUSTOMER_TYPES = ("Wholesale", "Retail", "Nonprofit")
_KINDS = (
    (SalesTransaction.INVOICE, 0.60),
    (SalesTransaction.SALES_RECEIPT, 0.30),
    (SalesTransaction.CREDIT_MEMO, 0.05),
    (SalesTransaction.REFUND_RECEIPT, 0.05),
)
TAX_RATE = 0.0825
_KIND_NAMES = [kind for kind, _ in _KINDS]
_KIND_WEIGHTS = [weight for _, weight in _KINDS]
_PURCHASES = (SalesTransaction.INVOICE, SalesTransaction.SALES_RECEIPT)
_CREDITS = (SalesTransaction.CREDIT_MEMO, SalesTransaction.REFUND_RECEIPT)


def seed_sales(*, realm_id: str, random_seed: int = 0, per_customer: float = 3.0) -> int:
    """Give a company's live customers sales; returns how many transactions were made.

    Deterministic for a seed (dates are offsets from today). By share of customers:
    about 25% none at all; the rest 1 to 2 x `per_customer` - 1 transactions (mean
    about `per_customer`) dated between the customer's creation (at most three years ago)
    and today: 60% invoices, 30% sales receipts, 5% credit memos, 5% refund receipts,
    amounts 20.00-2,000.00 plus 8.25% tax on half of them. A credit memo or refund, as in a
    real company, gives back part or all of one earlier purchase of the customer, within
    60 days of it: never before the customer's first purchase, never more than it bought
    (a customer with no purchase to give back on gets a purchase instead), so no total is
    below zero. Of the invoices about 70% are paid in full and 10% in part (a Payment
    each, a few weeks later), the rest open; about 2% of transactions are voided. The
    customer types Wholesale, Retail and Nonprofit exist; about 60% of customers have one
    (CustomerTypeRef). Sub-customers (jobs) get sales of their own like anyone else.
    """
    rng = random.Random(f"sales-{random_seed}")
    today = timezone.now().astimezone(COMPANY_TIMEZONE).date()
    moment = timezone.now()
    with transaction.atomic():
        types = _customer_types(realm_id, moment)
        customers = list(
            Customer.objects.filter(realm_id=realm_id, state=Customer.LIVE).order_by("number")
        )
        planned: list[SalesTransaction] = []
        for customer in customers:
            if rng.random() < 0.6:
                customer.data = {
                    **customer.data,
                    "CustomerTypeRef": {"value": str(rng.choice(types).number)},
                }
            if rng.random() < 0.25:
                continue
            count = rng.randint(1, max(1, round(2 * per_customer - 1)))
            planned += _history(rng, realm_id, customer, count, today, moment)
        first = next_transaction_ids(realm_id=realm_id, count=len(planned))
        for offset, sale in enumerate(planned):
            sale.number = first + offset
            sale.doc_number = str(1000 + sale.number)
        # A payment names its invoice's Id, known only now: payments follow their invoice.
        for previous, sale in zip(planned, planned[1:], strict=False):
            if sale.entity == SalesTransaction.PAYMENT:
                sale.applied_to = previous.number
        SalesTransaction.objects.bulk_create(planned, batch_size=2000)
        _settle_balances(customers, planned)
        Customer.objects.bulk_update(
            customers, ["data", "balance_cents", "balance_with_jobs_cents"], batch_size=1000
        )
    return len(planned)


def _customer_types(realm_id: str, moment: datetime) -> list[CustomerType]:
    existing = {kind.name: kind for kind in CustomerType.objects.filter(realm_id=realm_id)}
    last = max((kind.number for kind in existing.values()), default=0)
    for name in CUSTOMER_TYPES:
        if name not in existing:
            last += 1
            existing[name] = CustomerType.objects.create(
                realm_id=realm_id, number=last, name=name, created_at=moment, updated_at=moment
            )
    return [existing[name] for name in CUSTOMER_TYPES]


def _history(
    rng: random.Random, realm_id: str, customer: Customer, count: int, today: date, moment: datetime
) -> list[SalesTransaction]:
    """A customer's `count` transactions (and the payments of invoices paid): purchases
    first, then each credit memo or refund giving back part or all of one of them."""
    created = customer.created_at.astimezone(COMPANY_TIMEZONE).date()
    since = min(today, max(created, today - timedelta(days=3 * 365)))
    kinds = [rng.choices(_KIND_NAMES, weights=_KIND_WEIGHTS)[0] for _ in range(count)]
    planned: list[SalesTransaction] = []
    for kind in (kind for kind in kinds if kind not in _CREDITS):
        planned += _sale(
            rng, realm_id, customer.number, kind, _day(rng, since, today), today, moment
        )
    bought = [
        sale
        for sale in planned
        if sale.entity in _PURCHASES and sale.state == SalesTransaction.LIVE
    ]
    for kind in (kind for kind in kinds if kind in _CREDITS):
        if not bought:  # nothing to give back: a purchase instead
            day = _day(rng, since, today)
            planned += _sale(rng, realm_id, customer.number, _PURCHASES[1], day, today, moment)
            continue
        purchase = bought.pop(rng.randrange(len(bought)))
        day = min(today, purchase.txn_date + timedelta(days=rng.randint(0, 60)))
        back = max(1, round(purchase.subtotal_cents * rng.choice((0.25, 0.5, 1.0))))
        planned += _sale(rng, realm_id, customer.number, kind, day, today, moment, subtotal=back)
    return planned


def _day(rng: random.Random, since: date, today: date) -> date:
    return since + timedelta(days=rng.randint(0, (today - since).days))


def _sale(
    rng: random.Random,
    realm_id: str,
    customer: int,
    entity: str,
    txn_date: date,
    today: date,
    moment: datetime,
    *,
    subtotal: int | None = None,
) -> list[SalesTransaction]:
    """One sale (and the payment of an invoice paid), not yet numbered; `subtotal` in
    cents (None: a random amount)."""
    subtotal = subtotal if subtotal is not None else rng.randint(2_000, 200_000)
    tax = round(subtotal * TAX_RATE) if rng.random() < 0.5 else 0
    total = subtotal + tax
    voided = rng.random() < 0.02
    sale = SalesTransaction(
        realm_id=realm_id,
        entity=entity,
        number=0,
        customer_number=customer,
        txn_date=txn_date,
        subtotal_cents=0 if voided else subtotal,
        tax_cents=0 if voided else tax,
        total_cents=0 if voided else total,
        state=SalesTransaction.VOIDED if voided else SalesTransaction.LIVE,
        description=rng.choice(["Consulting", "Supplies", "Annual service", "Installation"]),
        created_at=moment,
        updated_at=moment,
    )
    if voided or entity not in (SalesTransaction.INVOICE, SalesTransaction.CREDIT_MEMO):
        return [sale]
    sale.balance_cents = total
    if entity == SalesTransaction.CREDIT_MEMO:
        return [sale]
    roll = rng.random()
    paid = total if roll < 0.7 else (total // 2 if roll < 0.8 else 0)
    if not paid:
        return [sale]
    sale.balance_cents = total - paid
    payment = SalesTransaction(
        realm_id=realm_id,
        entity=SalesTransaction.PAYMENT,
        number=0,
        customer_number=customer,
        txn_date=min(today, txn_date + timedelta(days=rng.randint(1, 45))),
        subtotal_cents=paid,
        total_cents=paid,
        created_at=moment,
        updated_at=moment,
    )
    return [sale, payment]


def _settle_balances(customers: list[Customer], sales: list[SalesTransaction]) -> None:
    """Balance and BalanceWithJobs from the planned sales (sales.refresh_balances' rule)."""
    own: dict[int | None, int] = {}
    for sale in sales:
        if sale.entity == SalesTransaction.INVOICE:
            own[sale.customer_number] = own.get(sale.customer_number, 0) + sale.balance_cents
        elif sale.entity == SalesTransaction.CREDIT_MEMO:
            own[sale.customer_number] = own.get(sale.customer_number, 0) - sale.balance_cents
    by_number = {customer.number: customer for customer in customers}
    for customer in customers:
        customer.balance_cents = own.get(customer.number, 0)
        customer.balance_with_jobs_cents = 0
    for customer in customers:
        # Each customer's balance counts for it and every ancestor.
        node: Customer | None = customer
        while node is not None:
            node.balance_with_jobs_cents += customer.balance_cents
            node = by_number.get(node.parent_number) if node.parent_number else None

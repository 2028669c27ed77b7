"""Sales data: a burst of invoices, one for each of 100 different synced customers, made in
the sandbox's QuickBooks through its control API (as people would, in QuickBooks), each
delivered by the sandbox as a signed webhook to the app under gunicorn and synced by the
Celery worker. Figures: the Constant Contact calls of the runs until every one of those
customers' figures is in Constant Contact, and the time from the last invoice to the last
contact updated (the sandbox's record of the change)."""

import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.db.models import Sum

from bench import provision
from bench.changes import settled
from bench.harness import Bench
from bench.report import Row
from bench.sales_check import held_figures
from support.stack import wait_for

NAME = "Sales data"
SETTLE_SECONDS = 300
AMOUNT = Decimal("100.00")
MAX_CALLS = 5


def _customers(installed: provision.Installed, count: int) -> list[tuple[str, str]]:
    """(customer id, address) of synced customers without jobs: an invoice changes only
    their own contact's figures."""
    from ccsync.sync.models import CustomerRecord

    records = CustomerRecord.objects.filter(tenant_id=installed.tenant_id)
    parents = set(records.exclude(parent_id="").values_list("parent_id", flat=True))
    return list(
        records.filter(outcome=CustomerRecord.Outcome.SYNCED, parent_id="")
        .exclude(customer_id__in=parents)
        .order_by("pk")
        .values_list("customer_id", "email")[:count]
    )


def invoice_burst(bench: Bench, installed: provision.Installed) -> list[Row]:
    from ccsync.sync.models import Run

    customers = _customers(installed, bench.sizes.sales_invoices)
    before = held_figures(bench, installed.cc_username)
    expected = {
        customer_id: str(int(before[email.lower()].get("invoices", "0")) + 1)
        for customer_id, email in customers
    }
    bench.reset_usage()
    began_at, began = datetime.now(UTC), time.monotonic()
    provision.in_parallel(
        lambda customer_id: bench.stack.control(
            "POST",
            f"/_sandbox/quickbooks/{installed.realm_id}/customers/{customer_id}/sales",
            {"entity": "Invoice", "amount": str(AMOUNT), "tax": "0"},
        ),
        [customer_id for customer_id, _ in customers],
    )
    last_invoice_at, made_seconds = datetime.now(UTC), time.monotonic() - began
    wait_for(
        # Each customer's figures read with the new invoice, in Constant Contact's hands.
        lambda: settled(installed.tenant_id, expected, field="sales", key="invoices"),
        timeout=SETTLE_SECONDS,
        what="the invoices' figures to reach Constant Contact",
    )
    contacts = {c["email"].lower(): c for c in bench.contacts(installed.cc_username)}
    after = held_figures(bench, installed.cc_username)
    updated, changed = 0, []
    for customer_id, email in customers:
        old, new = before[email.lower()], after.get(email.lower(), {})
        total = Decimal(old.get("total_sales", "0")) + AMOUNT
        if new.get("invoices") == expected[customer_id] and Decimal(new["total_sales"]) == total:
            updated += 1
            changed.append(datetime.fromisoformat(contacts[email.lower()]["changed_at"]))
    runs = Run.objects.filter(
        tenant_id=installed.tenant_id, kind=Run.Kind.CHANGES, created_at__gte=began_at
    )
    totals = runs.aggregate(cc=Sum("constantcontact_calls"), qb=Sum("quickbooks_calls"))
    return rows(
        {
            "invoices": len(customers),
            "updated": updated,
            "cc_calls": totals["cc"] or 0,
            "qb_calls": totals["qb"] or 0,
            "runs": runs.count(),
            "made_seconds": made_seconds,
            "to_last_update": (max(changed) - last_invoice_at).total_seconds() if changed else None,
            "usage": bench.usage(),
        }
    )


def rows(burst: dict[str, Any]) -> list[Row]:
    name = f"{NAME}: a burst of {burst['invoices']} invoices for as many synced customers"
    last = burst["to_last_update"]
    return [
        Row(
            name,
            "Constant Contact calls until every figure is in Constant Contact",
            f"{burst['cc_calls']} in {burst['runs']} runs (the sandbox counted "
            f"{burst['usage']['calls_total']}, {burst['usage']['throttled']} throttled; "
            f"QuickBooks: {burst['qb_calls']} calls)",
            f"≤ {MAX_CALLS}",
            burst["cc_calls"] <= MAX_CALLS and burst["updated"] == burst["invoices"],
        ),
        Row(
            name,
            "contacts whose figures were updated (invoices + 1, total sales + the amount)",
            f"{burst['updated']} of {burst['invoices']}",
            "all",
            burst["updated"] == burst["invoices"],
        ),
        Row(
            name,
            "invoices made in / last invoice → last contact updated in Constant Contact",
            f"{burst['made_seconds']:.1f} s / "
            + (f"{last:.1f} s" if last is not None else "never"),
        ),
    ]

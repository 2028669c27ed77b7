"""Whether the sales figures reached Constant Contact, read through the sandbox's control
API (no call counted): each synced contact's custom fields against the figures the app read,
a sample recomputed from QuickBooks' transactions themselves (queries, not the reports the
app reads), and the tag on every synced contact."""

import time
from collections import Counter
from decimal import Decimal
from typing import Any

import requests

from bench import provision
from bench.harness import Bench
from tenants.sales_facts import BY_KEY, DEFAULT_TAG

SAMPLE = 50
TAGGING_SECONDS = 180
PURCHASES = {"Invoice": "invoices", "SalesReceipt": "sales_receipts"}
RETURNS = ("CreditMemo", "RefundReceipt")


def fields_and_tags(bench: Bench, username: str) -> dict[str, list[dict[str, Any]]]:
    answer = requests.get(
        f"{bench.sandbox_url}/_sandbox/cc/accounts/{username}/custom_fields", timeout=30
    )
    answer.raise_for_status()
    return answer.json()


def held_figures(bench: Bench, username: str) -> dict[str, dict[str, str]]:
    """Every contact's custom fields by fact key (the field's label says which), by email."""
    facts = {fact.label: key for key, fact in BY_KEY.items()}
    labels = {
        field["custom_field_id"]: facts.get(field["label"], field["label"])
        for field in fields_and_tags(bench, username)["custom_fields"]
    }
    return {
        contact["email"].lower(): {
            labels[held["custom_field_id"]]: str(held["value"])
            for held in contact.get("custom_fields") or []
        }
        for contact in bench.contacts(username)
    }


def _synced(installed: provision.Installed):
    from ccsync.sync.models import CustomerRecord

    return CustomerRecord.objects.filter(
        tenant_id=installed.tenant_id, outcome=CustomerRecord.Outcome.SYNCED
    )


def figures_held(bench: Bench, installed: provision.Installed) -> dict[str, Any]:
    """Every synced contact holds exactly the figures the app read for its customer."""
    held = held_figures(bench, installed.cc_username)
    synced = matching = values = notes = 0
    first_mismatch = ""
    for customer_id, email, sales, note in _synced(installed).values_list(
        "customer_id", "email", "sales", "sales_note"
    ):
        synced += 1
        notes += bool(note)
        found = held.get(email.lower(), {})
        if found == sales and sales:
            matching += 1
            values += len(sales)
        elif not first_mismatch:
            first_mismatch = f"customer {customer_id}: read {sales}, held {found}"
    return {
        "synced": synced,
        "matching": matching,
        "values": values,
        "notes": notes,
        "first_mismatch": first_mismatch[:400],
    }


def recomputed_from_quickbooks(bench: Bench, installed: provision.Installed) -> dict[str, Any]:
    """For a sample of synced customers without jobs: their figures recomputed from their
    transactions (as the sandbox's QuickBooks holds them) equal what their contacts hold."""
    records = _synced(installed)
    parents = set(
        records.model.objects.filter(tenant_id=installed.tenant_id)
        .exclude(parent_id="")
        .values_list("parent_id", flat=True)
    )
    candidates = list(
        records.filter(parent_id="")
        .exclude(customer_id__in=parents)
        .order_by("pk")
        .values_list("customer_id", "email")
    )
    sample = candidates[:: max(1, len(candidates) // SAMPLE)][:SAMPLE]
    expected = {customer_id: _Expected(customer_id) for customer_id, _ in sample}
    for customer_id, _ in sample:
        # The sandbox's own record of the customer's sales: not the reports the app reads.
        path = f"/_sandbox/quickbooks/{installed.realm_id}/customers/{customer_id}/sales"
        for item in bench.stack.control("GET", path)["Transactions"]:
            [(entity, sale)] = item.items()
            if entity in PURCHASES or entity in RETURNS:
                expected[customer_id].add(entity, sale)
    held = held_figures(bench, installed.cc_username)
    matching, first_mismatch = 0, ""
    for customer_id, email in sample:
        want = expected[customer_id].figures()
        found = {key: value for key, value in held.get(email.lower(), {}).items() if key in want}
        if found == want:
            matching += 1
        elif not first_mismatch:
            first_mismatch = f"customer {customer_id}: recomputed {want}, held {found}"
    return {"checked": len(sample), "matching": matching, "first_mismatch": first_mismatch[:400]}


class _Expected:
    """One customer's figures from its transactions, as the facts define them."""

    def __init__(self, customer_id: str) -> None:
        self.customer_id = customer_id
        self.total = Decimal(0)
        self.counts: Counter[str] = Counter()
        self.dates: list[str] = []

    def add(self, entity: str, sale: dict[str, Any]) -> None:
        if sale.get("PrivateNote") == "Voided":
            return  # counts nothing
        subtotal = sum(
            Decimal(str(line["Amount"]))
            for line in sale.get("Line", [])
            if line.get("DetailType") == "SalesItemLineDetail"
        )
        if entity in PURCHASES:
            self.total += subtotal
            self.counts[PURCHASES[entity]] += 1
            self.dates.append(sale["TxnDate"])
        else:
            self.total -= subtotal

    def figures(self) -> dict[str, str]:
        figures = {
            "total_sales": str(self.total.quantize(Decimal("0.01"))),
            "invoices": str(self.counts["invoices"]),
            "sales_receipts": str(self.counts["sales_receipts"]),
            "customer_id": self.customer_id,
        }
        if self.dates:
            figures |= {"first_purchase": min(self.dates), "last_purchase": max(self.dates)}
        return figures


def tags_held(bench: Bench, installed: provision.Installed) -> dict[str, Any]:
    """Once Constant Contact has tagged the list, the app's next pass (tagging.tag_synced,
    as a run of changes makes it) confirms it: its calls counted; then the synced contacts
    holding the tag."""
    from ccsync.sync import tagging
    from tenants import selectors as tenant_selectors
    from tenants.clients import constantcontact_client
    from tenants.models import Tenant

    tenant = Tenant.objects.get(pk=installed.tenant_id)
    emails = {email.lower() for email in _synced(installed).values_list("email", flat=True)}
    tag_ids = {tag["tag_id"] for tag in fields_and_tags(bench, installed.cc_username)["tags"]
               if tag["name"] == DEFAULT_TAG}  # fmt: skip
    deadline = time.monotonic() + TAGGING_SECONDS
    while True:  # reading the contacts brings the sandbox's activities up to date
        tagged = {
            contact["email"].lower()
            for contact in bench.contacts(installed.cc_username)
            if tag_ids & set(contact.get("taggings") or [])
        }
        if emails <= tagged or time.monotonic() > deadline:
            break
        time.sleep(2.0)
    calls: Counter[str] = Counter()
    cc = constantcontact_client(
        tenant=tenant, before_request=lambda endpoint: calls.update([endpoint])
    )
    selection = tenant_selectors.current_list(tenant=tenant)
    assert selection is not None
    tagging.tag_synced(tenant=tenant, cc=cc, list_id=selection.list_id)
    recorded = _synced(installed).filter(tagged=True).count()
    return {
        "synced": len(emails),
        "tagged": len(emails & tagged),
        "recorded": recorded,
        "confirmation_calls": sum(calls.values()),
    }

"""Reads for the sales data page: each customer's figures, as Constant Contact confirmed
them and on their way, by the facts the person chose and the fields set up for them."""

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from ccsync.sync.mapping import SALES_PREFIX
from ccsync.sync.models import CustomerRecord, SalesDataState
from ccsync.sync.selectors import (
    ON_ITS_WAY,
    OUTSIDE_TIMES,
    matching,
    problems_of,
    quickbooks_customer_url,
    standing,
)
from tenants.models import SalesData, Tenant
from tenants.sales_facts import FACTS

Outcome = CustomerRecord.Outcome


def customer_figures(*, tenant: Tenant, query: str) -> QuerySet[CustomerRecord]:
    """Customers matching `query` (name, email or QuickBooks id), for their figures."""
    records = CustomerRecord.objects.filter(tenant=tenant, deleted=False).defer(*OUTSIDE_TIMES)
    query = query.strip()
    if query:
        records = records.filter(matching(query))
    return records.order_by("display_name", "customer_id")


@dataclass(frozen=True)
class SalesSetup:
    """The facts the person chose (tenants.SalesData) and the custom fields the sync set up
    for them in Constant Contact (SalesDataState), by fact key."""

    facts: list[str]
    fields: dict[str, dict[str, Any]]


def sales_setup(*, tenant: Tenant) -> SalesSetup | None:
    """The tenant's sales data as its pages show it; None while it was never chosen."""
    choice = SalesData.objects.filter(tenant=tenant).first()
    if choice is None:
        return None
    state = SalesDataState.objects.filter(tenant=tenant).first()
    return SalesSetup(facts=choice.facts, fields=state.fields if state is not None else {})


def sales_problems(*, tenant: Tenant) -> list[str]:
    """Why some of the sales data is not sent or not read, for the person, each with what
    to do (none when all of it is)."""
    return problems_of(SalesDataState.objects.filter(tenant=tenant).first())


def has_problem(*, tenant_id: int, source: str) -> bool:
    """Whether the optional step of `source` failed and has not gone through since."""
    return SalesDataState.objects.filter(tenant_id=tenant_id, problems__has_key=source).exists()


def figure_columns(setup: SalesSetup | None) -> list[dict[str, Any]]:
    """The chosen facts whose field is set up, in Settings' order; each a column of the
    sales page but the customer id (the row's own), which only the detail repeats."""
    if setup is None:
        return []
    return [
        {
            "key": fact.key,
            "heading": fact.heading,
            "label": fact.label,
            "column": fact.key != "customer_id",
        }
        for fact in FACTS
        if fact.key in setup.facts and fact.key in setup.fields
    ]


def figures_row(record: CustomerRecord, *, setup: SalesSetup | None) -> dict[str, Any]:
    """A customer's figures: as Constant Contact confirmed them, and those on their way
    (sent and waiting for its confirmation, or waiting to be sent). A customer that is not
    sent (not synced, or refused) has nothing on its way."""
    fields = setup.fields if setup else {}
    columns = {f"{SALES_PREFIX}{spec['name']}": key for key, spec in fields.items()}
    held = {columns[k]: v for k, v in record.sent_row.items() if k in columns and record.in_list}
    coming: dict[str, str] = {}
    if record.outcome in (Outcome.NEW, *ON_ITS_WAY) or (
        record.outcome == Outcome.SYNCED and record.row_hash != record.sent_hash
    ):
        now = {columns[k]: v for k, v in record.row.items() if k in columns}
        coming = {key: value for key, value in now.items() if held.get(key) != value}
    sent = record.outcome == Outcome.SENT and record.queued_hash == record.row_hash
    return {
        "customer_id": record.customer_id,
        "name": record.display_name,
        "email": record.email or record.email_in_quickbooks,
        "outcome": standing(record),
        "reason": record.reason_label if record.outcome == Outcome.SKIPPED else "",
        "quickbooks_url": quickbooks_customer_url(record.customer_id),
        "figures": [
            {**column, "held": held.get(column["key"], ""), "coming": coming.get(column["key"], "")}
            for column in figure_columns(setup)
        ],
        "coming": bool(coming),
        "coming_label": (
            "sent, waiting for Constant Contact to confirm" if sent else "waiting to be sent"
        ),
        "note": record.sales_note,
    }

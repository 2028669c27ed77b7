"""Reads for the status page: the run, counts by outcome, history, customers not in the list."""

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, Q, QuerySet
from django.urls import reverse

from ccsync.sync import sales
from ccsync.sync.mapping import SALES_PREFIX
from ccsync.sync.models import CustomerRecord, Run, SalesDataState, TenantSync, WebhookEvent
from ccsync.sync.rules import SKIP_LABELS, email_parts
from tenants.models import SalesData, Tenant
from tenants.sales_facts import BY_KEY

HISTORY_LENGTH = 10
NOT_IN_LIST_PREVIEW = 20
NOT_IN_LIST = (CustomerRecord.Outcome.SKIPPED, CustomerRecord.Outcome.FAILED)
# In the list (or on its way) by the first valid of several addresses: the others are not.
LEFT_OUT = (
    Q(email_from_several=True)
    & ~Q(email="")
    & ~Q(outcome__in=NOT_IN_LIST)
    & ~Q(outcome=CustomerRecord.Outcome.NEW)
)
SEVERAL_LABEL = "In the list with the first valid of several addresses"


def syncing_tenants() -> QuerySet[Tenant]:
    """The tenants the sync works for: connected, not paused."""
    return Tenant.objects.filter(state=Tenant.State.CONNECTED, paused=False)


def open_run(*, tenant: Tenant) -> Run | None:
    return Run.objects.filter(tenant=tenant, state__in=Run.OPEN_STATES).first()


def run_summary(run: Run) -> dict[str, Any]:
    expected = int(run.checkpoint.get("expected") or 0)
    percent = 100 if run.state == Run.State.COMPLETED else 0
    if run.is_open and expected:
        percent = min(99, run.done * 100 // expected)
    # Until QuickBooks has said how many customers there are, "0 of 0" would be a lie.
    waiting = run.is_open and "expected" not in run.checkpoint
    return {
        "id": run.pk,
        "kind": run.kind,
        "kind_label": run.get_kind_display(),
        "state": run.state,
        "state_label": run.get_state_display(),
        "percent": percent,
        "expected": expected,
        "waiting": waiting,
        "progress_label": (
            "Waiting to read your customers from QuickBooks Online"
            if waiting
            else f"{run.done} of {expected} customers"
        ),
        "total": run.total,
        "done": run.done,
        "synced": run.synced,
        "unchanged": run.unchanged,
        "skipped": run.skipped,
        "failed": run.failed,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "paused_until": run.paused_until,
        "error": run.error,
    }


def outcome_counts(*, tenant: Tenant) -> dict[str, int]:
    rows = CustomerRecord.objects.filter(tenant=tenant).values("outcome").annotate(n=Count("id"))
    counts = {outcome.value: 0 for outcome in CustomerRecord.Outcome}
    counts |= {row["outcome"]: row["n"] for row in rows}
    counts["total"] = sum(counts.values())
    return counts


def skip_reason_counts(*, tenant: Tenant) -> list[dict[str, Any]]:
    rows = (
        CustomerRecord.objects.filter(tenant=tenant, outcome=CustomerRecord.Outcome.SKIPPED)
        .values("reason")
        .annotate(n=Count("id"))
    )
    found = {row["reason"]: row["n"] for row in rows}
    return [
        {"reason": reason.value, "label": label, "count": found[reason.value]}
        for reason, label in SKIP_LABELS.items()
        if found.get(reason.value)
    ]


def last_change_at(*, tenant: Tenant, state: TenantSync | None) -> datetime | None:
    """The latest change seen in QuickBooks: synced ones are on the sync state, those still
    waiting only in their events (the webhook endpoint writes nothing else)."""
    waiting = WebhookEvent.objects.filter(tenant=tenant, processed_at__isnull=True).aggregate(
        latest=Max("occurred_at")
    )["latest"]
    seen = [at for at in (waiting, state.last_change_at if state else None) if at is not None]
    return max(seen, default=None)


def freshness() -> str:
    """How old the unsubscribes checked before a send may be, in the status page's words."""
    low, high = (round(seconds / 3600) for seconds in settings.SYNC_UNSUBSCRIBES_FRESH_SECONDS)
    busy = "a day" if high == 24 else f"{high} hours"
    return (
        "Contacts who unsubscribe in Constant Contact are never sent again: before it sends, "
        f"the app checks Constant Contact's unsubscribes, at most {low} hours old ({busy} on "
        "the busiest days, when changes also wait longer). A customer counts as in the list "
        "once Constant Contact confirms it has them, a few hours after they were sent."
    )


def tenant_sync_status(*, tenant: Tenant) -> dict[str, Any]:
    """Everything the status panel shows; the JSON endpoint serves the same."""
    runs = list(Run.objects.filter(tenant=tenant)[:HISTORY_LENGTH])
    current = next((run for run in runs if run.is_open), runs[0] if runs else None)
    state = TenantSync.objects.filter(tenant=tenant).first()
    return {
        "run": run_summary(current) if current else None,
        "running": bool(current and current.is_open),
        "paused": tenant.paused,
        "counts": outcome_counts(tenant=tenant),
        "reasons": skip_reason_counts(tenant=tenant),
        "several": CustomerRecord.objects.filter(LEFT_OUT, tenant=tenant).count(),
        "several_label": SEVERAL_LABEL,
        "freshness": freshness(),
        "sales": sales_status(tenant=tenant),
        "history": [run_summary(run) for run in runs],
        "last_change_at": last_change_at(tenant=tenant, state=state),
        # "None yet" before it; after it, no change has been made since.
        "first_sync_done": Run.objects.filter(
            tenant=tenant, kind=Run.Kind.FIRST, state=Run.State.COMPLETED
        ).exists(),
        "not_in_list": [
            customer_row(record)
            for record in customers_not_in_list(tenant=tenant)[:NOT_IN_LIST_PREVIEW]
        ],
        "urls": {
            "status": reverse("sync:status_json"),
            "pause": reverse("sync:pause"),
            "resume": reverse("sync:resume"),
            "sync_now": reverse("sync:sync_now"),
            "customers": reverse("sync:customers"),
            "csv": reverse("sync:customers_csv"),
        },
    }


def customers_not_in_list(*, tenant: Tenant, query: str = "") -> QuerySet[CustomerRecord]:
    """Customers that are not in the list, and why, with those in it by one of several
    addresses (the others are not); `query` matches name, email (any address QuickBooks
    holds) or id."""
    records = CustomerRecord.objects.filter(Q(outcome__in=NOT_IN_LIST) | LEFT_OUT, tenant=tenant)
    query = query.strip()
    if query:
        records = records.filter(_matching(query) | Q(reason__icontains=query.replace(" ", "_")))
    return records.order_by("reason", "display_name", "customer_id")


def customer_row(record: CustomerRecord) -> dict[str, str]:
    """One customer as the table and the CSV show it. An address that is not valid is shown
    as QuickBooks holds it, for the user to find and fix."""
    if record.outcome == CustomerRecord.Outcome.FAILED:
        why = "Refused by Constant Contact"
    elif record.outcome == CustomerRecord.Outcome.SKIPPED:
        why = record.reason_label
    else:
        why = SEVERAL_LABEL
    notes = [record.detail] if record.detail else []
    if record.email_from_several:
        notes.append(_several_note(record))
    return {
        "customer_id": record.customer_id,
        "name": record.display_name,
        "email": record.email or record.email_in_quickbooks,
        "outcome": record.get_outcome_display(),
        "reason": why,
        "detail": "; ".join(notes),
    }


def _several_note(record: CustomerRecord) -> str:
    if not record.email:
        return "none of several addresses is valid"
    used = f"used {record.email}, the first valid of several addresses"
    parts = email_parts(record.email_in_quickbooks)
    left_out = [part for part in parts if part.lower() != record.email]
    # Recorded before QuickBooks' field itself was kept: the next read tells the rest.
    return f"{used}; left out: {', '.join(left_out)}" if left_out else used


def not_in_list_rows(*, tenant: Tenant, query: str = "") -> Iterator[dict[str, str]]:
    for record in customers_not_in_list(tenant=tenant, query=query).iterator(chunk_size=2000):
        yield customer_row(record)


def sales_status(*, tenant: Tenant) -> dict[str, Any] | None:
    """The status page's sales data panel; None while the option is off."""
    if not SalesData.objects.filter(tenant=tenant, enabled=True).exists():
        return None
    state = SalesDataState.objects.filter(tenant=tenant).first()
    # As figures_row: confirmed figures stay the contact's while newer ones are on their way.
    columns = list(sales.known_field_ids(tenant_id=tenant.pk))
    carrying = CustomerRecord.objects.filter(
        tenant=tenant, in_list=True, sent_row__has_any_keys=columns
    )
    return {
        "refreshed_at": state.figures_read_at if state else None,
        "contacts": carrying.count() if columns else 0,
        "problem": state.problem if state else "",
        "unsent": CustomerRecord.objects.filter(tenant=tenant).exclude(sales_note="").count(),
        "url": reverse("sync:sales"),
    }


def customer_figures(*, tenant: Tenant, query: str) -> QuerySet[CustomerRecord]:
    """Customers matching `query` (name, email or QuickBooks id), for their figures."""
    records = CustomerRecord.objects.filter(tenant=tenant, deleted=False)
    query = query.strip()
    if query:
        records = records.filter(_matching(query))
    return records.order_by("display_name", "customer_id")


def _matching(query: str) -> Q:
    """A customer's name, any address QuickBooks holds for it, or its id."""
    return (
        Q(display_name__icontains=query)
        | Q(email__icontains=query)
        | Q(email_in_quickbooks__icontains=query)
        | Q(customer_id=query)
    )


def sales_fields(*, tenant: Tenant) -> dict[str, dict[str, Any]]:
    """The custom fields set up for the tenant's sales data, by fact key."""
    state = SalesDataState.objects.filter(tenant=tenant).first()
    return state.fields if state is not None else {}


def sales_problem(*, tenant: Tenant) -> str:
    """Why some of the sales data is not sent, for the person ("" when all of it is)."""
    state = SalesDataState.objects.filter(tenant=tenant).first()
    return state.problem if state is not None else ""


def figures_row(record: CustomerRecord, *, fields: Mapping[str, Any]) -> dict[str, Any]:
    """A customer's figures as Constant Contact was sent them (and confirmed), by label;
    those waiting to be sent; and those that could not be."""
    labels = {
        f"{SALES_PREFIX}{spec['name']}": BY_KEY[key].label
        for key, spec in fields.items()
        if key in BY_KEY
    }
    sent = {labels[k]: v for k, v in record.sent_row.items() if k in labels and record.in_list}
    now = {labels[k]: v for k, v in record.row.items() if k in labels}
    return {
        "customer_id": record.customer_id,
        "name": record.display_name,
        "email": record.email or record.email_in_quickbooks,
        "outcome": record.get_outcome_display(),
        "sent": sent,
        "waiting": {label: v for label, v in now.items() if sent.get(label) != v},
        "note": record.sales_note,
    }

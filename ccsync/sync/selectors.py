"""Reads for the status page: the run, the numbers, history, the customers not in the list and
why, the notes on customers in it, and each customer's sales data figures.

The numbers never go backwards: a customer counts as in the list from Constant Contact's
first confirmation on, and an update on its way (sent, or waiting to be sent) does not take
it out. "Not in the list" counts the same customers its listing shows."""

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Case, Count, IntegerField, Max, Q, QuerySet, Value, When
from django.urls import reverse

from ccsync.base import times
from ccsync.sync import pacing, reasons, sales
from ccsync.sync.models import CustomerRecord, Run, SalesDataState, TenantSync, WebhookEvent
from ccsync.sync.reasons import Guidance
from ccsync.sync.rules import email_parts
from ccsync.sync.sales_state import Source
from tenants.models import SalesData, Tenant

HISTORY_LENGTH = 10
PREVIEW = 20
Outcome = CustomerRecord.Outcome
ON_ITS_WAY = (Outcome.PENDING, Outcome.SENT)

# Constant Contact confirmed the contact in the list once, and the customer was not given
# up since (unsubscribed, or its address taken by another customer).
IN_LIST = Q(in_list=True) & ~Q(outcome=Outcome.SKIPPED)
NOT_IN_LIST = Q(outcome=Outcome.SKIPPED) | Q(outcome=Outcome.FAILED, in_list=False)
UPDATING = IN_LIST & Q(outcome__in=ON_ITS_WAY)
# In the list or on its way, with something to say: the first valid of several addresses
# (the others are not in the list), or its last update refused.
WITH_NOTE = (IN_LIST | Q(outcome__in=ON_ITS_WAY)) & (
    (Q(email_from_several=True) & ~Q(email="")) | Q(outcome=Outcome.FAILED)
)


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
            else f"{run.done} of {expected} customer{'' if expected == 1 else 's'}"
        ),
        "total": run.total,
        "done": run.done,
        # Every contact the run sent: confirmed, refused, or still waiting for Constant
        # Contact's word (a run of changes is confirmed hours later, with others).
        "sent": run.synced + run.sent + run.failed,
        "unconfirmed": run.sent,
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


# A record's times from QuickBooks, which no page shows: left unread, so that one stored
# before intake checked them (ccsync.base.times) cannot fail a page.
OUTSIDE_TIMES = ("created_in_quickbooks",)


def _shown(tenant: Tenant) -> QuerySet[CustomerRecord]:
    """The customers the pages speak of: those deleted or merged away in QuickBooks count
    only while their contact is in the list (it stays there)."""
    return (
        CustomerRecord.objects.filter(tenant=tenant)
        .exclude(deleted=True, in_list=False)
        .defer(*OUTSIDE_TIMES)
    )


def outcome_counts(*, tenant: Tenant) -> dict[str, int]:
    """The status page's numbers, each customer in one of: in the list, not in the list,
    waiting to be sent, sent and waiting for Constant Contact to confirm, not checked yet."""
    groups = {
        "in_list": IN_LIST,
        "updating": UPDATING,
        "skipped": Q(outcome=Outcome.SKIPPED),
        "refused": Q(outcome=Outcome.FAILED, in_list=False),
        "pending": Q(outcome=Outcome.PENDING, in_list=False),
        "sent": Q(outcome=Outcome.SENT, in_list=False),
        "new": Q(outcome=Outcome.NEW),
        "with_note": WITH_NOTE,
        "total": Q(),
    }
    # Aliased: an aggregate may not take the name of a field its filters use (in_list).
    found = _shown(tenant).aggregate(
        **{f"n_{name}": Count("pk", filter=where) for name, where in groups.items()}
    )
    counts = {name: found[f"n_{name}"] for name in groups}
    counts["not_in_list"] = counts["skipped"] + counts["refused"]
    return counts


def reason_counts(*, tenant: Tenant) -> list[dict[str, Any]]:
    """How many customers are not in the list for each reason, what the person can fix
    first, each with what to do and its Help section."""
    found = {
        row["key"]: row["n"]
        for row in _shown(tenant)
        .filter(NOT_IN_LIST)
        .annotate(key=_reason_key())
        .values("key")
        .annotate(n=Count("pk"))
    }
    return [
        {**_guidance(guide), "count": found[guide.key]}
        for guide in reasons.NOT_IN_LIST
        if found.get(guide.key)
    ]


def note_counts(*, tenant: Tenant) -> list[dict[str, Any]]:
    """How many customers in the list (or on their way) carry each note."""
    records = _shown(tenant).filter(WITH_NOTE)
    found = records.aggregate(
        several=Count("pk", filter=Q(email_from_several=True) & ~Q(email="")),
        update_refused=Count("pk", filter=Q(outcome=Outcome.FAILED)),
    )
    return [
        {**_guidance(guide), "count": found[guide.key]}
        for guide in reasons.IN_LIST_NOTES
        if found.get(guide.key)
    ]


def _reason_key() -> Case:
    return Case(When(outcome=Outcome.FAILED, then=Value(reasons.REFUSED)), default="reason")


def _guidance(guide: Guidance) -> dict[str, Any]:
    return {
        "reason": guide.key,
        "label": guide.label,
        "what_to_do": guide.what_to_do,
        "help_url": help_url(guide.anchor),
        "fixable": guide.fixable,
    }


def help_url(anchor: str = "") -> str:
    return reverse("help") + (f"#{anchor}" if anchor else "")


def quickbooks_customer_url(customer_id: str) -> str:
    """The customer's page in QuickBooks Online (the company open in the person's browser),
    where a fix is made: QUICKBOOKS_APP_BASE is the sandbox's in the demo."""
    query = urlencode({"nameId": customer_id})
    return f"{settings.QUICKBOOKS_APP_BASE}/app/customerdetail?{query}"


def last_change_at(*, tenant: Tenant) -> datetime | None:
    """The latest change seen in QuickBooks: synced ones are on the sync state, those still
    waiting only in their events (the webhook endpoint writes nothing else). Only times
    within the range kept are read (ccsync.base.times): one stored before intake checked
    them may be one no page could read back."""
    kept = times.window()
    waiting = WebhookEvent.objects.filter(
        tenant=tenant, processed_at__isnull=True, occurred_at__range=kept
    ).aggregate(latest=Max("occurred_at"))["latest"]
    synced = (
        TenantSync.objects.filter(tenant=tenant, last_change_at__range=kept)
        .values_list("last_change_at", flat=True)
        .first()
    )
    return max((at for at in (waiting, synced) if at is not None), default=None)


def freshness() -> str:
    """The freshness of the unsubscribes that applies now (the pacer's: before every change
    while the day's share has slack, else every 4 hours up to a day), in the status page's
    words."""
    seconds = pacing.get_pacer().snapshot().unsubscribes_fresh
    if seconds <= 0:
        checked = (
            "Unsubscribes in Constant Contact are checked before every change is sent: a "
            "contact who unsubscribes there is never sent again."
        )
    else:
        hours = max(round(seconds / 3600), 1)
        every = "once a day" if hours >= 24 else f"every {hours} hour{'' if hours == 1 else 's'}"
        checked = (
            f"Unsubscribes in Constant Contact are checked at most {every} now (before "
            "every change when the app knows the day's Constant Contact calls have room to "
            "spare): a contact who unsubscribed since the last check may still get a change's "
            "details until the next one (never a subscription), and nothing after it."
        )
    return (
        f"{checked} A customer counts as in the list once Constant Contact confirms it has "
        "them, a few hours after they were first sent; later updates do not take them out of "
        "the count while they wait for that."
    )


def tenant_sync_status(*, tenant: Tenant) -> dict[str, Any]:
    """Everything the status panel shows; the JSON endpoint serves the same."""
    runs = list(Run.objects.filter(tenant=tenant)[:HISTORY_LENGTH])
    current = next((run for run in runs if run.is_open), runs[0] if runs else None)
    return {
        "run": run_summary(current) if current else None,
        "running": bool(current and current.is_open),
        "paused": tenant.paused,
        "counts": outcome_counts(tenant=tenant),
        "reasons": reason_counts(tenant=tenant),
        "notes": note_counts(tenant=tenant),
        "freshness": freshness(),
        "sales": sales_status(tenant=tenant),
        "history": [run_summary(run) for run in runs],
        "last_change_at": last_change_at(tenant=tenant),
        # "None yet" before it; after it, no change has been made since.
        "first_sync_done": Run.objects.filter(
            tenant=tenant, kind=Run.Kind.FIRST, state=Run.State.COMPLETED
        ).exists(),
        "not_in_list": [
            customer_row(record) for record in customers_not_in_list(tenant=tenant)[:PREVIEW]
        ],
        "urls": {
            "status": reverse("status_json"),
            "pause": reverse("pause"),
            "resume": reverse("resume"),
            "sync_now": reverse("sync_now"),
            "customers": reverse("customers"),
            "notes": reverse("customer_notes"),
            "csv": reverse("customers_csv"),
            "help": help_url(),
        },
    }


def customers_not_in_list(*, tenant: Tenant, query: str = "") -> QuerySet[CustomerRecord]:
    """Customers that are not in the list, those whose reason the person can fix first;
    `query` matches name, email (any address QuickBooks holds), id or reason."""
    order = Case(
        *(When(key=key, then=Value(place)) for key, place in reasons.ORDER.items()),
        default=Value(len(reasons.ORDER)),
        output_field=IntegerField(),
    )
    records = _searched(_shown(tenant).filter(NOT_IN_LIST), query)
    return records.annotate(key=_reason_key(), place=order).order_by(
        "place", "display_name", "customer_id"
    )


def customers_with_notes(*, tenant: Tenant, query: str = "") -> QuerySet[CustomerRecord]:
    """Customers in the list (or on their way) with a note: the first valid of several
    addresses, or their last update refused."""
    records = _searched(_shown(tenant).filter(WITH_NOTE), query)
    return records.order_by("display_name", "customer_id")


def _searched(records: QuerySet[CustomerRecord], query: str) -> QuerySet[CustomerRecord]:
    query = query.strip()
    if not query:
        return records
    return records.filter(matching(query) | Q(reason__icontains=query.replace(" ", "_")))


def standing(record: CustomerRecord) -> str:
    """Where the customer stands, in the outcome's words; in the list, whatever is on its
    way."""
    if record.outcome == Outcome.SKIPPED:
        return "Not synced"
    if record.in_list and record.outcome in ON_ITS_WAY:
        return "Synced; an update is on its way"
    if record.in_list and record.outcome == Outcome.FAILED:
        return "Synced; its last update was refused"
    if record.in_list:
        return "Synced"
    return {
        Outcome.NEW: "Not checked yet",
        Outcome.PENDING: "Waiting to be sent",
        Outcome.SENT: "Sent, waiting for Constant Contact to confirm",
        Outcome.FAILED: "Refused by Constant Contact",
    }.get(Outcome(record.outcome), "")


def customer_row(record: CustomerRecord) -> dict[str, str]:
    """One customer as the tables and the CSV show it: why, what to do, and the link to the
    customer in QuickBooks Online. An address that is not valid is shown as QuickBooks holds
    it, for the person to find and fix."""
    guide = _guide_for(record)
    notes = [record.detail] if record.detail else []
    if record.email_from_several:
        notes.append(_several_note(record))
    return {
        "customer_id": record.customer_id,
        "name": record.display_name,
        "email": record.email or record.email_in_quickbooks,
        "outcome": standing(record),
        "reason": guide.label if guide else "",
        "detail": "; ".join(notes),
        "what_to_do": guide.what_to_do if guide else "",
        "help_url": help_url(guide.anchor) if guide else "",
        "quickbooks_url": quickbooks_customer_url(record.customer_id),
    }


def _guide_for(record: CustomerRecord) -> Guidance | None:
    if record.outcome == Outcome.FAILED:
        return reasons.BY_KEY[reasons.UPDATE_REFUSED if record.in_list else reasons.REFUSED]
    if record.outcome == Outcome.SKIPPED and record.reason:
        return reasons.BY_KEY.get(record.reason)
    if record.email_from_several and record.email:
        return reasons.BY_KEY[reasons.SEVERAL]
    return None


def _several_note(record: CustomerRecord) -> str:
    if not record.email:
        return "none of several addresses is valid"
    used = f"used {record.email}, the first valid of several addresses"
    parts = email_parts(record.email_in_quickbooks)
    left_out = [part for part in parts if part.lower() != record.email]
    # Recorded before QuickBooks' field itself was kept: the next read tells the rest.
    return f"{used}; left out: {', '.join(left_out)}" if left_out else used


def csv_rows(*, tenant: Tenant, query: str = "") -> Iterator[dict[str, str]]:
    """The CSV: every customer not in the list, then every one in it with a note, each
    with its outcome."""
    for records in (
        customers_not_in_list(tenant=tenant, query=query),
        customers_with_notes(tenant=tenant, query=query),
    ):
        for record in records.iterator(chunk_size=2000):
            yield customer_row(record)


# --- sales data ------------------------------------------------------------------------------


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
        "problems": problems_of(state),
        "unsent": CustomerRecord.objects.filter(tenant=tenant).exclude(sales_note="").count(),
        "url": reverse("sales"),
    }


def problems_of(state: SalesDataState | None) -> list[str]:
    """What the person is told of the sales data not sent or not read: the set-up's, then
    each optional step's by source."""
    if state is None:
        return []
    by_source = [state.problems[source] for source in Source if state.problems.get(source)]
    return [state.problem, *by_source] if state.problem else by_source


def matching(query: str) -> Q:
    """A customer's name, any address QuickBooks holds for it, or its id."""
    return (
        Q(display_name__icontains=query)
        | Q(email__icontains=query)
        | Q(email_in_quickbooks__icontains=query)
        | Q(customer_id=query)
    )

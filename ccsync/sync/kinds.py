"""The kinds of run: what a first sync, a full check and a run of changes each do, step by
step, with a checkpoint after every step (the worker's loop around them: worker.py).

- First sync and full check: unsubscribed addresses, then every customer page by page
  (`Active IN (true, false)` so the inactive ones are reported too, ordered by Id), then
  the rules over all of them (the cap and the duplicate winner need everyone: they are
  read as a stream, address by address), then the sends.
  They end once Constant Contact has confirmed their imports: asked when the last should
  be done (from the account's recent pace), then again as it says.
- Changes (webhooks, CDC), when the pacer gives the company its turn: unsubscribes first
  while the day's slack pays for it, else, like the confirmation of earlier imports, only
  when the plan says they are due (pacing.py); the changed customers in one `Id IN (...)`
  query, the rules over them and every customer sharing their addresses, then the sends.
  Their imports are confirmed later, with others.
A run killed anywhere resumes from its checkpoint without losing or repeating anyone
(Constant Contact identifies contacts by email: re-sending a chunk whose answer was lost
updates the same contacts, it creates none).
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from ccsync.base import counters
from ccsync.sync import (
    custom_fields,
    optional,
    pacing,
    runs,
    sales,
    sales_changes,
    sales_selectors,
    tagging,
)
from ccsync.sync.confirming import confirm_imports
from ccsync.sync.customer_state import mark_deleted
from ccsync.sync.judging import count_decisions, judge, observe
from ccsync.sync.models import ContactImport, Run, WebhookEvent
from ccsync.sync.runs import Sync
from ccsync.sync.sales_state import Source
from ccsync.sync.sending import send_pending
from ccsync.sync.state import sync_state, update_tenant_sync
from ccsync.sync.unsubscribes import refresh_unsubscribes
from integrations.constantcontact import errors as cc_errors
from integrations.quickbooks.client import ALL_CUSTOMERS
from tenants.models import Tenant

logger = logging.getLogger(__name__)

CONFIRM_GIVE_UP = timedelta(minutes=30)  # an import still unfinished: a passing error
RECHECK_MAX_SECONDS = 120.0


def full_scan(sync: Sync) -> None:
    """First sync and full check: every customer of the company."""
    run, tenant = sync.run, sync.tenant
    if not run.checkpoint.get("unsubscribes"):
        refresh_unsubscribes(tenant=tenant, cc=sync.cc)
        with transaction.atomic():
            runs.checkpoint(sync, unsubscribes=True)
    if "expected" not in run.checkpoint:
        expected = sync.qb.count_customers(where=ALL_CUSTOMERS)
        with transaction.atomic():
            runs.checkpoint(sync, expected=expected, phase="read", position=1)
    if run.checkpoint["phase"] == "read":
        pages = sync.qb.iter_customer_pages(
            where=ALL_CUSTOMERS,
            page_size=settings.SYNC_PAGE_SIZE,
            start_position=run.checkpoint["position"],
        )
        for position, page in pages:
            with transaction.atomic():
                observe(tenant=tenant, customers=page)
                runs.tally(sync, total=len(page))
                runs.checkpoint(sync, position=position + len(page))
        # Sales data (when on) for everyone, in the rows before they are judged and sent.
        custom_fields.set_up(tenant=tenant, cc=sync.cc)
        sales.refresh(tenant=tenant, qb=sync.qb, customer_ids=None)
        with transaction.atomic():
            first = run.kind == Run.Kind.FIRST
            # The read began after the run's first claim: those not seen since are gone.
            counts = judge(
                tenant=tenant,
                list_id=sync.list_id,
                customer_ids=None,
                ensure_list=first,
                seen_since=run.started_at,
            )
            count_decisions(sync, counts)
            runs.checkpoint(sync, phase="send")
    send_pending(sync)
    await_confirmations(sync)
    _tag_synced(sync)


def await_confirmations(sync: Sync) -> None:
    """Wait until Constant Contact has confirmed this run's imports, asking as few times as
    it can: first when the last should be done, then at growing intervals."""
    waited = 0.0
    pause = None
    while True:
        waiting = ContactImport.objects.filter(run=sync.run, state="sent")
        last = waiting.order_by("-sent_at").first()
        if last is None:
            return
        if pause is None:
            rows = sum(waiting.values_list("rows", flat=True))
            per_row = sync_state(tenant=sync.tenant).import_seconds_per_row
            pause = pacing.check_after(rows=rows, seconds_per_row=per_row)
            pause -= (timezone.now() - last.sent_at).total_seconds()
        if waited > CONFIRM_GIVE_UP.total_seconds():
            raise cc_errors.TransientError("Constant Contact import still running: retry later")
        _pause(sync, max(pause, 0.0))
        waited += max(pause, 0.0)
        confirm_imports(tenant=sync.tenant, cc=sync.cc, sync=sync)
        pause = min(max(pause, 1.0) * 2, RECHECK_MAX_SECONDS)


def _pause(sync: Sync, seconds: float) -> None:
    """Sleep, telling the run's heartbeat every few seconds that the worker is alive."""
    clock = pacing.CLOCK
    deadline = clock.monotonic() + seconds
    while (left := deadline - clock.monotonic()) > 0:
        clock.sleep(min(left, 5.0))
        runs.heartbeat(sync)


def apply_changes(sync: Sync) -> None:
    """The customers named by webhook (or CDC) events waiting for this tenant."""
    run, tenant = sync.run, sync.tenant
    if "events_upto" not in run.checkpoint:
        waiting = WebhookEvent.objects.filter(tenant=tenant, processed_at__isnull=True)
        upto = waiting.aggregate(upto=Max("pk"))["upto"] or 0
        with transaction.atomic():
            runs.checkpoint(sync, events_upto=upto, phase="read")
    events = WebhookEvent.objects.filter(
        tenant=tenant, processed_at__isnull=True, pk__lte=run.checkpoint["events_upto"]
    )
    if run.checkpoint["phase"] == "read":
        slack_read = _due_reads(sync)
        pairs = set(events.filter(entity="Customer").values_list("customer_id", "deleted_id"))
        ids = sorted({cid for cid, _ in pairs})
        merged_away = {deleted for _, deleted in pairs if deleted}
        lookup = sync.qb.customers_by_ids(ids=ids)
        customers = lookup.customers
        if lookup.refused:
            # Events no run of changes can ever read (stored before the webhook checked ids):
            # dropped with the others of this run, never read again.
            logger.warning(
                "customer ids refused by QuickBooks, their events dropped: tenant=%s count=%s",
                tenant.pk,
                len(lookup.refused),
            )
        ids = [customer_id for customer_id in ids if customer_id not in lookup.refused]
        with transaction.atomic():
            observe(tenant=tenant, customers=customers)
            found = {str(c["Id"]) for c in customers}
            mark_deleted(tenant=tenant, customer_ids=(set(ids) - found) | merged_away)
        # Their figures, and those of the customers whose sales transactions changed.
        refreshed = sales.refresh(
            tenant=tenant,
            qb=sync.qb,
            customer_ids=sales_changes.whose_sales_changed(
                tenant=tenant, qb=sync.qb, events=events, customer_ids=ids
            ),
        )
        with transaction.atomic():
            ids = sorted(set(ids) | set(refreshed))
            runs.tally(sync, total=len(customers))
            runs.expect(sync, customers=len(ids))
            counts = judge(tenant=tenant, list_id=sync.list_id, customer_ids=ids, ensure_list=False)
            count_decisions(sync, counts)
            runs.checkpoint(sync, phase="send", slack_read=slack_read)
    send_pending(sync)
    _events_done(tenant, events)


def _due_reads(sync: Sync) -> bool:
    """Unsubscribes read and earlier imports confirmed, as the pacer's plan says. Returns
    whether the day's slack paid for the read (it was not due yet)."""
    state = sync_state(tenant=sync.tenant)
    oldest = (
        ContactImport.objects.filter(tenant=sync.tenant, state="sent")
        .order_by("sent_at")
        .values_list("sent_at", flat=True)
        .first()
    )
    plan = pacing.get_pacer().plan(
        unsubscribes_read_at=_seconds(state.unsubscribes_read_at),
        oldest_unconfirmed=_seconds(oldest),
    )
    if plan.read_unsubscribes:
        refresh_unsubscribes(tenant=sync.tenant, cc=sync.cc)
    if plan.confirm:
        confirm_imports(tenant=sync.tenant, cc=sync.cc, sync=sync)
        _tag_synced(sync)
    return plan.slack_pays


def _tag_synced(sync: Sync) -> None:
    """The tag is optional: whatever stops it is told, and the run goes on. A try again
    after a passing error takes up the pass where it stopped (tagging.TaggingPass). A
    tagging that failed waits for the next full check (Sync now), as the person is told: a
    lasting refusal never costs the list's pages at every run of changes."""
    if sync.run.kind == Run.Kind.CHANGES and sales_selectors.has_problem(
        tenant_id=sync.tenant.pk, source=Source.TAGGING
    ):
        return
    optional.attempt(
        tagging.TaggingPass(tenant=sync.tenant, cc=sync.cc, list_id=sync.list_id),
        tenant_id=sync.tenant.pk,
        source=Source.TAGGING,
    )


def _seconds(moment: datetime | None) -> float | None:
    return moment.timestamp() if moment is not None else None


def _events_done(tenant: Tenant, events) -> None:
    """The run's events are synced: marked processed, the last change seen moved on."""
    now = timezone.now()
    times = list(events.values_list("received_at", "occurred_at"))
    events.update(processed_at=now)
    if times:
        latest = max(occurred for _, occurred in times)
        update_tenant_sync(
            tenant_id=tenant.pk,
            where=Q(last_change_at__lt=latest) | Q(last_change_at__isnull=True),
            last_change_at=latest,
        )
    counters.webhook_events_processed((now - received).total_seconds() for received, _ in times)

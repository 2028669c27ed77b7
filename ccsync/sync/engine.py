"""The sync: QuickBooks customers read, judged by the rules and sent to Constant Contact.

Every run works in steps that each end with a checkpoint saved in the same transaction as
the customers' outcomes, so a run killed anywhere resumes without losing or repeating
anyone (Constant Contact identifies contacts by email: re-sending a chunk whose answer was
lost updates the same contacts, it creates none).

- First sync and full check: unsubscribed addresses, then every customer page by page
  (`Active IN (true, false)` so the inactive ones are reported too, ordered by Id), then
  the rules over all of them (the cap and the duplicate winner need everyone: they are
  read as a stream, address by address), then the sends.
- Changes (webhooks, CDC): the changed customers in one `Id IN (...)` query, the rules over
  them and every customer sharing their addresses, then the sends.
- Sends: email changes of synced contacts one by one (find the contact by its old address,
  PUT it with the new one), everything else in contacts_json_import chunks under 4 MB
  (a field emptied since the last send is sent empty), each activity polled with backoff.
  Never sign_up_form: it re-subscribes.
"""

import logging
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import groupby
from typing import Any, ClassVar

import redis
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, Max, OuterRef, Q
from django.utils import timezone

from ccsync.ops import metrics
from ccsync.ops.logs import log_context
from ccsync.sync import services
from ccsync.sync.limiter import QuotaPaused, get_limiter, next_utc_midnight
from ccsync.sync.mapping import chunk_rows, contact_update, import_row, import_update, row_hash
from ccsync.sync.models import (
    CustomerRecord,
    Run,
    TenantSync,
    UnsubscribedAddress,
    WebhookEvent,
)
from ccsync.sync.rules import (
    Candidate,
    Decision,
    EmailChoice,
    SkipReason,
    Verdict,
    admit,
    created_at,
    customer_email,
    decide_address,
    is_active,
    is_top_level,
)
from integrations.constantcontact import errors as cc_errors
from integrations.constantcontact.client import ConstantContactClient
from integrations.quickbooks import errors as qb_errors
from integrations.quickbooks.client import ALL_CUSTOMERS, QuickBooksClient
from integrations.quickbooks.webhooks import CustomerEvent
from tenants import selectors as tenant_selectors
from tenants.clients import constantcontact_client, quickbooks_client
from tenants.models import Connection, Tenant
from tenants.tokens import ConnectionUnavailable, mark_broken

logger = logging.getLogger(__name__)

FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)
ACTIVITY_DONE = {"completed", "failed", "cancelled", "timed_out"}
_LINE = re.compile(r"\s*Line (\d+)\b")
POLL_FIRST_SECONDS = 0.3
POLL_MAX_SECONDS = 8.0
POLL_GIVE_UP = timedelta(minutes=30)
CLOCK_OVERLAP = timedelta(minutes=5)  # read a little further back than needed: clocks differ
FACT_FIELDS = [
    "display_name",
    "email",
    "email_from_several",
    "email_problem",
    "active",
    "top_level",
    "deleted",
    "created_in_quickbooks",
    "row",
    "row_hash",
    "seen_at",
]
RETRYABLE = (
    qb_errors.TransientError,
    qb_errors.Throttled,
    cc_errors.TransientError,
    cc_errors.Throttled,
    # Redis (the shared limiter) restarting: a passing error too.
    redis.ConnectionError,
    redis.TimeoutError,
)
# The connection is gone until the user reconnects: the run fails, the page shows a banner.
BROKEN = (
    ConnectionUnavailable,
    qb_errors.InvalidGrant,
    qb_errors.Unauthorized,
    cc_errors.InvalidGrant,
    cc_errors.Unauthorized,
    cc_errors.Forbidden,
)


class Stop(Exception):
    """The run was cancelled or taken over (leave it as it is), or paused by the user."""

    def __init__(self, *, paused: bool = False) -> None:
        super().__init__("paused" if paused else "stopped")
        self.paused = paused


@dataclass
class Sync:
    run: Run
    worker: str
    list_id: str
    qb: QuickBooksClient
    cc: ConstantContactClient
    calls: Counter[str] = field(default_factory=Counter)

    @property
    def tenant(self) -> Tenant:
        return self.run.tenant


def _counting(provider: str, acquire: Callable[[str], None], calls: Counter[str]):
    def before_request(endpoint: str) -> None:
        acquire(endpoint)
        calls[provider] += 1

    return before_request


def clients_for(
    *, tenant: Tenant, calls: Counter[str]
) -> tuple[QuickBooksClient, ConstantContactClient]:
    """Both clients of a tenant, behind the shared limiter, counting their calls."""
    limiter = get_limiter()
    qb_hook = limiter.quickbooks_hook(realm_id=tenant.realm_id)
    cc_hook = limiter.constantcontact_hook(tenant=str(tenant.pk))
    return (
        quickbooks_client(tenant=tenant, before_request=_counting("quickbooks", qb_hook, calls)),
        constantcontact_client(
            tenant=tenant, before_request=_counting("constantcontact", cc_hook, calls)
        ),
    )


# --- running a run --------------------------------------------------------------------------


def execute(*, run_id: int, worker: str) -> Run | None:
    """Claim the run and work on it until it is done, paused or stopped.

    Passing errors (RETRYABLE) propagate with the claim kept, for the caller to retry.
    Every log line meanwhile carries the tenant and the run."""
    tenant_id = Run.objects.filter(pk=run_id).values_list("tenant_id", flat=True).first()
    with log_context(tenant=tenant_id, run=run_id):
        return _execute(run_id=run_id, worker=worker)


def _execute(*, run_id: int, worker: str) -> Run | None:
    if not services.claim(run_id=run_id, worker=worker):
        return None
    run = Run.objects.select_related("tenant").get(pk=run_id)
    selection = tenant_selectors.current_list(tenant=run.tenant)
    if selection is None:
        return _finish(run, worker, Run.State.FAILED, error="No Constant Contact list chosen.")
    calls: Counter[str] = Counter()
    qb, cc = clients_for(tenant=run.tenant, calls=calls)
    sync = Sync(run=run, worker=worker, list_id=selection.list_id, qb=qb, cc=cc, calls=calls)
    logger.info("sync run started: tenant=%s run=%s kind=%s", run.tenant_id, run.pk, run.kind)
    try:
        if run.kind == Run.Kind.INCREMENTAL:
            sync_changes(sync)
        else:
            full_scan(sync)
    except Stop as stop:
        if stop.paused:  # recorded here: the step that noticed it was rolled back
            Run.objects.filter(pk=run.pk, claimed_by=worker).update(
                state=Run.State.PAUSED, claimed_by=""
            )
            run.state = Run.State.PAUSED
        return run
    except (QuotaPaused, cc_errors.QuotaExceeded) as error:
        if isinstance(error, cc_errors.QuotaExceeded):
            get_limiter().exhaust_constantcontact_today()
        return _pause_for_quota(sync)
    except BROKEN as error:
        _mark_connection_broken(sync, error)
        return _finish(run, worker, Run.State.FAILED, error=_broken_message(error), sync=sync)
    except RETRYABLE:
        _save_calls(sync)
        raise
    except Exception as error:
        logger.exception("sync run failed: tenant=%s run=%s", run.tenant_id, run.pk)
        return _finish(run, worker, Run.State.FAILED, error=_describe(error), sync=sync)
    if run.kind != Run.Kind.INCREMENTAL:
        TenantSync.objects.filter(tenant=run.tenant).update(reconciled_at=run.started_at)
    finished = _finish(run, worker, Run.State.COMPLETED, sync=sync)
    if services.has_pending_events(tenant=run.tenant):
        services.schedule_changes(tenant_id=run.tenant_id)
    return finished


def fail(*, run_id: int, worker: str, error: Exception) -> None:
    """Give up on a run after its retries (passing errors that did not pass)."""
    run = Run.objects.get(pk=run_id)
    _finish(run, worker, Run.State.FAILED, error=_describe(error))


def _describe(error: Exception) -> str:
    # Provider errors say what failed without personal data; others only by their type.
    if isinstance(error, qb_errors.QuickBooksError | cc_errors.ConstantContactError):
        return str(error)[:500]
    return f"Unexpected error ({type(error).__name__})."


def _broken_message(error: Exception) -> str:
    provider = "QuickBooks" if isinstance(error, qb_errors.QuickBooksError) else "Constant Contact"
    if isinstance(error, ConnectionUnavailable):
        return "A connection is broken or disconnected: reconnect it to resume syncing."
    return f"{provider} refused the app's authorization: reconnect it to resume syncing."


def _mark_connection_broken(sync: Sync, error: Exception) -> None:
    if isinstance(error, ConnectionUnavailable | qb_errors.InvalidGrant | cc_errors.InvalidGrant):
        return  # the token source has recorded it already
    tenant = sync.tenant
    if isinstance(error, qb_errors.QuickBooksError):
        connection: Connection | None = tenant_selectors.intuit_connection(tenant=tenant)
    else:
        connection = tenant_selectors.constantcontact_connection(tenant=tenant)
    if connection is not None and connection.is_connected:
        mark_broken(connection, reason=_broken_message(error))


def _run_fields(run: Run) -> dict[str, Any]:
    return {
        name: getattr(run, name)
        for name in ("total", "done", "synced", "unchanged", "skipped", "failed", "checkpoint")
    }


def _save_calls(sync: Sync) -> None:
    run = sync.run
    run.quickbooks_calls += sync.calls.pop("quickbooks", 0)
    run.constantcontact_calls += sync.calls.pop("constantcontact", 0)
    Run.objects.filter(pk=run.pk).update(
        quickbooks_calls=run.quickbooks_calls, constantcontact_calls=run.constantcontact_calls
    )


def _finish(run: Run, worker: str, state: str, *, error: str = "", sync: Sync | None = None) -> Run:
    if sync is not None:
        _save_calls(sync)
    run.state, run.error, run.finished_at = state, error, timezone.now()
    ended = Run.objects.filter(pk=run.pk, claimed_by=worker).update(
        state=state, error=error, finished_at=run.finished_at, claimed_by="", **_run_fields(run)
    )
    if ended:  # counted once, by the worker that held the run
        metrics.run_ended(kind=run.kind, outcome=state, synced=run.synced, failed=run.failed)
    logger.info("sync run %s: tenant=%s run=%s", state, run.tenant_id, run.pk)
    return run


def _pause_for_quota(sync: Sync) -> Run:
    run = sync.run
    _save_calls(sync)
    run.state, run.paused_until = Run.State.PAUSED, next_utc_midnight()
    run.error = "Constant Contact's daily request quota is used up: paused until 00:00 UTC."
    if Run.objects.filter(pk=run.pk, claimed_by=sync.worker).update(
        state=run.state, paused_until=run.paused_until, error=run.error, claimed_by=""
    ):
        metrics.run_ended(kind=run.kind, outcome=run.state)
    logger.warning("sync run paused for the daily quota: tenant=%s run=%s", run.tenant_id, run.pk)
    return run


def checkpoint(sync: Sync, **changes: Any) -> None:
    """Save progress (call it inside the transaction that saved the outcomes) and make sure
    the run is still ours to continue: paused, cancelled or taken over runs stop here."""
    run = sync.run
    run.checkpoint = {**run.checkpoint, **changes}
    _save_calls(sync)
    still_ours = Run.objects.filter(
        pk=run.pk, claimed_by=sync.worker, state=Run.State.RUNNING
    ).update(heartbeat_at=timezone.now(), **_run_fields(run))
    if not still_ours:
        raise Stop
    if Tenant.objects.filter(pk=run.tenant_id, paused=True).exists():
        raise Stop(paused=True)


# --- what we know of customers ----------------------------------------------------------------


def observe(*, tenant: Tenant, customers: Iterable[Mapping[str, Any]]) -> None:
    """Record what QuickBooks says about these customers.

    Deleted ones (CDC) are only marked: their contact, if any, is left as it is."""
    now = timezone.now()
    records, deleted = [], []
    for customer in customers:
        customer_id = str(customer["Id"])
        if customer.get("status") == "Deleted":
            deleted.append(customer_id)
            continue
        records.append(_record(tenant, customer, now))
    CustomerRecord.objects.bulk_create(
        records,
        update_conflicts=True,
        unique_fields=["tenant", "customer_id"],
        update_fields=FACT_FIELDS,
        batch_size=1000,
    )
    mark_deleted(tenant=tenant, customer_ids=deleted)


def mark_deleted(*, tenant: Tenant, customer_ids: Iterable[str]) -> None:
    CustomerRecord.objects.filter(tenant=tenant, customer_id__in=list(customer_ids)).update(
        deleted=True, active=False
    )


def _record(tenant: Tenant, customer: Mapping[str, Any], now: datetime) -> CustomerRecord:
    choice = customer_email(customer)
    row = import_row(customer, email=choice.address) if choice.address else {}
    return CustomerRecord(
        tenant=tenant,
        customer_id=str(customer["Id"]),
        display_name=str(customer.get("DisplayName") or "")[:500],
        email=choice.address or "",
        email_from_several=choice.from_several,
        email_problem=choice.reason or "",
        active=is_active(customer),
        top_level=is_top_level(customer),
        deleted=False,
        created_in_quickbooks=min(created_at(customer), FAR_FUTURE),
        row=row,
        row_hash=row_hash(row) if row else "",
        seen_at=now,
    )


def unchanged_in_quickbooks(*, tenant: Tenant, customers: list[Mapping[str, Any]]) -> set[str]:
    """Ids of these customers whose recorded facts already match (nothing to do for them)."""
    fresh = {str(c["Id"]): _record(tenant, c, timezone.now()) for c in customers}
    known = CustomerRecord.objects.filter(tenant=tenant, customer_id__in=list(fresh)).values_list(
        "customer_id", "row_hash", "active", "email", "email_problem"
    )
    return {
        cid
        for cid, hashed, active, email, problem in known
        if (hashed, active, email, problem)
        == (fresh[cid].row_hash, fresh[cid].active, fresh[cid].email, fresh[cid].email_problem)
    }


def reconcile_changes(*, tenant: Tenant, since: datetime) -> int:
    """CDC: customers changed since `since` that we have not seen as they are now become
    events for the next incremental run (as if their webhook had arrived). Returns how many."""
    started = timezone.now()
    qb, _ = clients_for(tenant=tenant, calls=Counter())
    changed = qb.changed_customers(since=since - CLOCK_OVERLAP)
    deleted = [str(c["Id"]) for c in changed if c.get("status") == "Deleted"]
    alive = [c for c in changed if c.get("status") != "Deleted"]
    known = unchanged_in_quickbooks(tenant=tenant, customers=alive)
    events = [
        CustomerEvent(
            event_id=f"cdc:{c['Id']}:{(c.get('MetaData') or {}).get('LastUpdatedTime', '')}",
            realm_id=tenant.realm_id,
            customer_id=str(c["Id"]),
            operation="update",
            occurred_at=started,
        )
        for c in alive
        if str(c["Id"]) not in known
    ]
    with transaction.atomic():
        mark_deleted(tenant=tenant, customer_ids=deleted)
        services.record_events(events=events)
        TenantSync.objects.filter(tenant=tenant).update(reconciled_at=started)
    return len(events)


def judge(
    *, tenant: Tenant, list_id: str, customer_ids: list[str] | None, ensure_list: bool
) -> Counter[str]:
    """Apply the rules to these customers (None: all of them) and everyone sharing their
    addresses; save each outcome. Those to send become PENDING. Returns counts for the run:
    by outcome, and by "reason:<why>" for those skipped.

    The records are read as a stream, address by address, and outcomes are written a
    thousand at a time: a worker's memory does not grow with the company. Only the newcomers
    waiting for the cap's free places are held until the end."""
    records = CustomerRecord.objects.filter(tenant=tenant)
    if customer_ids is not None:
        scope = records.filter(customer_id__in=customer_ids)
        emails = {e for pair in scope.values_list("email", "sent_email") for e in pair if e}
        records = records.filter(Q(customer_id__in=customer_ids) | Q(email__in=emails))
    places = CustomerRecord.objects.filter(tenant=tenant, in_list=True).count()
    rows = (
        records.annotate(
            unsubscribed=Exists(
                UnsubscribedAddress.objects.filter(tenant=tenant, email=OuterRef("email"))
            )
        )
        .order_by("email", "pk")
        .values_list(*_Standing.FIELDS)
        .iterator(chunk_size=JUDGE_CHUNK)
    )
    outcomes = _Outcomes(in_scope=set(customer_ids) if customer_ids is not None else None)
    newcomers: dict[str, _Standing] = {}
    for address in _by_address(_Standing.read(row, list_id, ensure_list) for row in rows):
        decisions, newcomer = decide_address(
            [standing.candidate for standing in address], unsubscribed=address[0].unsubscribed
        )
        for standing in address:
            if standing.candidate is newcomer:
                newcomers[newcomer.customer_id] = standing
            else:
                outcomes.add(standing, decisions[standing.candidate.customer_id])
    admitted = admit(
        [standing.candidate for standing in newcomers.values()],
        free=max(settings.SYNC_CUSTOMER_CAP - places, 0),
    )
    for customer_id, decision in admitted.items():
        outcomes.add(newcomers[customer_id], decision)
    outcomes.save()
    return outcomes.counts


JUDGE_CHUNK = 2000  # records read from the database at a time
RECORDS_PER_UPDATE = 1000


@dataclass(frozen=True, slots=True)
class _Standing:
    """A customer record as the rules see it, and where it stands now."""

    FIELDS: ClassVar[tuple[str, ...]] = (
        "pk",
        "customer_id",
        "email",
        "email_from_several",
        "email_problem",
        "active",
        "deleted",
        "top_level",
        "created_in_quickbooks",
        "in_list",
        "outcome",
        "reason",
        "detail",
        "sent_email",
        "sent_hash",
        "row_hash",
        "list_ids",
        "unsubscribed",
    )

    pk: int
    candidate: Candidate
    unsubscribed: bool
    outcome: str
    reason: str
    detail: str
    needs_send: bool  # what it would send differs from what Constant Contact has

    @classmethod
    def read(cls, row: tuple[Any, ...], list_id: str, ensure_list: bool) -> "_Standing":
        (pk, customer_id, email, several, problem, active, deleted, top_level, created) = row[:9]
        (in_list, outcome, reason, detail, sent_email, sent_hash, row_hash, list_ids) = row[9:17]
        return cls(
            pk=pk,
            candidate=Candidate(
                customer_id=customer_id,
                email=EmailChoice(email or None, several, SkipReason(problem or "no_email")),
                active=active and not deleted,
                top_level=top_level,
                created=created,
                in_list=in_list,
            ),
            unsubscribed=row[17],
            outcome=outcome,
            reason=reason,
            detail=detail,
            needs_send=(
                not in_list
                or outcome in (CustomerRecord.Outcome.FAILED, CustomerRecord.Outcome.PENDING)
                or sent_hash != row_hash
                or sent_email != email
                or (ensure_list and list_id not in list_ids)
            ),
        )

    def outcome_for(self, verdict: Verdict) -> str:
        if verdict is Verdict.SKIP:
            return CustomerRecord.Outcome.SKIPPED
        if verdict is Verdict.SEND and self.needs_send:
            return CustomerRecord.Outcome.PENDING
        return CustomerRecord.Outcome.SYNCED


def _by_address(standings: Iterable[_Standing]) -> Iterator[list[_Standing]]:
    """Records sharing an address together (they come sorted by it); each one without an
    address alone."""
    for email, group in groupby(standings, key=lambda standing: standing.candidate.email.address):
        if email is None:
            yield from ([standing] for standing in group)
        else:
            yield list(group)


class _Outcomes:
    """Decided outcomes: the run's counts, and the changed ones saved a thousand at a time
    (one UPDATE for each set of values)."""

    def __init__(self, *, in_scope: set[str] | None) -> None:
        self.in_scope = in_scope
        self.counts: Counter[str] = Counter()
        self.changed: dict[tuple[str, str, str], list[int]] = defaultdict(list)

    def add(self, standing: _Standing, decision: Decision) -> None:
        outcome = standing.outcome_for(decision.verdict)
        reason = (
            decision.reason.value if decision.verdict is Verdict.SKIP and decision.reason else ""
        )
        if self.in_scope is None or standing.candidate.customer_id in self.in_scope:
            self.counts[outcome if outcome != CustomerRecord.Outcome.SYNCED else "unchanged"] += 1
            if reason:
                self.counts[f"reason:{reason}"] += 1
        values = (outcome, reason, decision.detail)
        if (standing.outcome, standing.reason, standing.detail) != values:
            pks = self.changed[values]
            pks.append(standing.pk)
            if len(pks) >= RECORDS_PER_UPDATE:
                self._write(values)

    def save(self) -> None:
        for values in list(self.changed):
            self._write(values)

    def _write(self, values: tuple[str, str, str]) -> None:
        outcome, reason, detail = values
        _update(self.changed.pop(values), outcome=outcome, reason=reason, detail=detail)


def _update(pks: list[int], **values: Any) -> None:
    """One UPDATE per thousand records that take the same values (bulk_update is slow)."""
    for start in range(0, len(pks), RECORDS_PER_UPDATE):
        CustomerRecord.objects.filter(pk__in=pks[start : start + RECORDS_PER_UPDATE]).update(
            **values
        )


def _count(sync: Sync, counts: Counter[str]) -> None:
    run = sync.run
    run.skipped += counts["skipped"]
    run.unchanged += counts["unchanged"]
    run.done += counts["skipped"] + counts["unchanged"]
    reasons = {
        key.removeprefix("reason:"): n for key, n in counts.items() if key.startswith("reason:")
    }
    # Counted when the decisions (and the checkpoint past them) commit: once per run.
    transaction.on_commit(lambda: metrics.customers_skipped(reasons))


# --- unsubscribed addresses -------------------------------------------------------------------


def refresh_unsubscribes(*, tenant: Tenant, cc: ConstantContactClient) -> int:
    """Read the account's unsubscribed addresses (all of them the first time, then those
    opted out since the last read) and re-judge customers using them. Returns how many."""
    state = services.sync_state(tenant=tenant)
    started = timezone.now()
    since = state.unsubscribes_read_at - CLOCK_OVERLAP if state.unsubscribes_read_at else None
    emails = {
        str((contact.get("email_address") or {}).get("address", "")).lower()
        for contact in cc.iter_contacts(status="unsubscribed", optout_after=since, limit=500)
    } - {""}
    with transaction.atomic():
        UnsubscribedAddress.objects.bulk_create(
            [UnsubscribedAddress(tenant=tenant, email=email) for email in emails],
            ignore_conflicts=True,
            batch_size=1000,
        )
        state.unsubscribes_read_at = started
        state.save(update_fields=["unsubscribes_read_at"])
        affected = list(
            CustomerRecord.objects.filter(tenant=tenant, email__in=emails)
            .exclude(reason=SkipReason.UNSUBSCRIBED)
            .values_list("customer_id", flat=True)
        )
        selection = tenant_selectors.current_list(tenant=tenant)
        if affected and selection is not None:
            judge(
                tenant=tenant, list_id=selection.list_id, customer_ids=affected, ensure_list=False
            )
    return len(emails)


def _unsubscribes_fresh(tenant: Tenant) -> bool:
    read_at = services.sync_state(tenant=tenant).unsubscribes_read_at
    max_age = timedelta(seconds=settings.SYNC_UNSUBSCRIBE_MAX_AGE)
    return read_at is not None and timezone.now() - read_at < max_age


# --- the kinds of run ----------------------------------------------------------------------------


def full_scan(sync: Sync) -> None:
    """First sync and full check: every customer of the company."""
    run, tenant = sync.run, sync.tenant
    if not run.checkpoint.get("unsubscribes"):
        refresh_unsubscribes(tenant=tenant, cc=sync.cc)
        with transaction.atomic():
            checkpoint(sync, unsubscribes=True)
    if "expected" not in run.checkpoint:
        expected = sync.qb.count_customers(where=ALL_CUSTOMERS)
        with transaction.atomic():
            checkpoint(sync, expected=expected, phase="read", position=1)
    if run.checkpoint["phase"] == "read":
        pages = sync.qb.iter_customer_pages(
            where=ALL_CUSTOMERS,
            page_size=settings.SYNC_PAGE_SIZE,
            start_position=run.checkpoint["position"],
        )
        for position, page in pages:
            with transaction.atomic():
                observe(tenant=tenant, customers=page)
                run.total += len(page)
                checkpoint(sync, position=position + len(page))
        with transaction.atomic():
            _count(
                sync,
                judge(
                    tenant=tenant,
                    list_id=sync.list_id,
                    customer_ids=None,
                    ensure_list=run.kind == Run.Kind.FIRST,
                ),
            )
            checkpoint(sync, phase="send")
    send_pending(sync)


def sync_changes(sync: Sync) -> None:
    """The customers named by webhook (or CDC) events waiting for this tenant."""
    run, tenant = sync.run, sync.tenant
    if "events_upto" not in run.checkpoint:
        waiting = WebhookEvent.objects.filter(tenant=tenant, processed_at__isnull=True)
        upto = waiting.aggregate(upto=Max("pk"))["upto"] or 0
        with transaction.atomic():
            checkpoint(sync, events_upto=upto, phase="read")
    events = WebhookEvent.objects.filter(
        tenant=tenant, processed_at__isnull=True, pk__lte=run.checkpoint["events_upto"]
    )
    if run.checkpoint["phase"] == "read":
        if not _unsubscribes_fresh(tenant):
            refresh_unsubscribes(tenant=tenant, cc=sync.cc)
        pairs = set(events.values_list("customer_id", "deleted_id"))
        ids = sorted({cid for cid, _ in pairs})
        merged_away = {deleted for _, deleted in pairs if deleted}
        customers = sync.qb.customers_by_ids(ids=ids) if ids else []
        with transaction.atomic():
            observe(tenant=tenant, customers=customers)
            found = {str(c["Id"]) for c in customers}
            mark_deleted(tenant=tenant, customer_ids=(set(ids) - found) | merged_away)
            run.total += len(customers)
            run.checkpoint["expected"] = len(ids)
            counts = judge(tenant=tenant, list_id=sync.list_id, customer_ids=ids, ensure_list=False)
            _count(sync, counts)
            checkpoint(sync, phase="send")
    send_pending(sync)
    now = timezone.now()
    times = list(events.values_list("received_at", "occurred_at"))
    events.update(processed_at=now)
    if times:
        latest = max(occurred for _, occurred in times)
        services.update_tenant_sync(
            tenant_id=tenant.pk,
            where=Q(last_change_at__lt=latest) | Q(last_change_at__isnull=True),
            last_change_at=latest,
        )
    metrics.webhook_events_processed((now - received).total_seconds() for received, _ in times)


# --- sending -------------------------------------------------------------------------------------


def send_pending(sync: Sync) -> None:
    """Send every PENDING customer: email changes by PUT, the rest by bulk import."""
    inflight = sync.run.checkpoint.get("inflight")
    if inflight:
        _finish_import(sync, inflight)
    pending = CustomerRecord.objects.filter(
        tenant=sync.tenant, outcome=CustomerRecord.Outcome.PENDING
    )
    email_changes = (
        pending.filter(in_list=True).exclude(sent_email="").exclude(sent_email=F("email"))
    )
    for record in email_changes.order_by("pk"):
        _change_email(sync, record)
    while True:
        batch = [
            (pk, import_update(row, sent=sent_row))
            for pk, row, sent_row in pending.order_by("created_in_quickbooks", "pk").values_list(
                "pk", "row", "sent_row"
            )[: settings.SYNC_IMPORT_CHUNK_ROWS]
        ]
        if not batch:
            return
        chunk = next(
            chunk_rows(
                batch,
                list_ids=[sync.list_id],
                max_bytes=settings.SYNC_IMPORT_MAX_BYTES,
                max_rows=settings.SYNC_IMPORT_CHUNK_ROWS,
            )
        )
        activity = sync.cc.import_contacts(rows=[row for _, row in chunk], list_ids=[sync.list_id])
        inflight = {"activity_id": str(activity["activity_id"]), "ids": [pk for pk, _ in chunk]}
        with transaction.atomic():
            checkpoint(sync, inflight=inflight)
        _finish_import(sync, inflight)


def _finish_import(sync: Sync, inflight: dict[str, Any]) -> None:
    activity = _poll(sync, inflight["activity_id"])
    state = activity.get("state")
    ids: list[int] = inflight["ids"]
    errors = _errors_by_line(activity, ids)
    records = CustomerRecord.objects.filter(pk__in=ids, outcome=CustomerRecord.Outcome.PENDING)
    sent: dict[tuple[str, ...], list[int]] = defaultdict(list)  # by the lists they were in
    failed: dict[str, list[int]] = defaultdict(list)  # by their problem
    for pk, list_ids in records.values_list("pk", "list_ids"):
        problem = errors.get(pk) or (
            None if state == "completed" else f"Constant Contact's import ended {state}."
        )
        if problem:
            failed[problem[:500]].append(pk)
        else:
            sent[tuple(list_ids)].append(pk)
    with transaction.atomic():
        for problem, pks in failed.items():
            _update(pks, outcome=CustomerRecord.Outcome.FAILED, detail=problem)
        for list_ids, pks in sent.items():
            _update(pks, **_sent_values(list(list_ids), sync.list_id))
        sync.run.failed += sum(map(len, failed.values()))
        sync.run.synced += sum(map(len, sent.values()))
        sync.run.done += sum(map(len, failed.values())) + sum(map(len, sent.values()))
        checkpoint(sync, inflight=None)


def _sent_values(list_ids: list[str], list_id: str) -> dict[str, Any]:
    """What a record becomes once Constant Contact has what it was sent."""
    return {
        "outcome": CustomerRecord.Outcome.SYNCED,
        "reason": "",
        "detail": "",
        "in_list": True,
        "sent_email": F("email"),
        "sent_hash": F("row_hash"),
        "sent_row": F("row"),
        "list_ids": list_ids if list_id in list_ids else [*list_ids, list_id],
        "synced_at": timezone.now(),
    }


def _errors_by_line(activity: Mapping[str, Any], ids: list[int]) -> dict[int, str]:
    """Per-row errors of an activity, by record pk (rows are numbered from 1 in send order).

    An error is an object with `line_number` and `message`, or a message "Line N: ..."."""
    found: dict[int, str] = {}
    for error in activity.get("activity_errors") or []:
        message = str(error.get("message", "")) if isinstance(error, dict) else str(error)
        line = error.get("line_number") if isinstance(error, dict) else None
        if not isinstance(line, int) and (match := _LINE.match(message)):
            line = int(match[1])
        if isinstance(line, int) and 1 <= line <= len(ids):
            found[ids[line - 1]] = message or "Constant Contact refused it."
    return found


def _poll(sync: Sync, activity_id: str) -> dict[str, Any]:
    delay, give_up = POLL_FIRST_SECONDS, timezone.now() + POLL_GIVE_UP
    while True:
        activity = sync.cc.get_activity(activity_id=activity_id)
        if activity.get("state") in ACTIVITY_DONE:
            return activity
        if timezone.now() > give_up:
            raise cc_errors.TransientError("Constant Contact import still running: retry later")
        time.sleep(delay)
        delay = min(delay * 2, POLL_MAX_SECONDS)
        Run.objects.filter(pk=sync.run.pk, claimed_by=sync.worker).update(
            heartbeat_at=timezone.now()
        )


def _change_email(sync: Sync, record: CustomerRecord) -> None:
    """A synced customer's new address: the same contact gets it (no duplicate), and its
    whole row with it (PUT)."""
    contact = sync.cc.find_contact(email=record.sent_email)
    permission = ((contact or {}).get("email_address") or {}).get("permission_to_send")
    if contact is None or contact.get("deleted_at") or permission == "unsubscribed":
        # Nothing to update (or an opted-out contact we never touch): a new contact it is.
        CustomerRecord.objects.filter(pk=record.pk).update(sent_email="", contact_id="")
        return
    body = contact_update(record.row, existing=contact, list_ids=[sync.list_id])
    try:
        sync.cc.put_contact(contact_id=str(contact["contact_id"]), contact=body)
    except cc_errors.Conflict:
        # The new address is another contact already: the import updates that one.
        CustomerRecord.objects.filter(pk=record.pk).update(sent_email="", contact_id="")
        return
    except cc_errors.BadRequest as error:
        with transaction.atomic():
            record.outcome, record.detail = CustomerRecord.Outcome.FAILED, str(error)[:500]
            record.save(update_fields=["outcome", "detail"])
            sync.run.failed += 1
            sync.run.done += 1
            checkpoint(sync)
        return
    with transaction.atomic():
        values = _sent_values(record.list_ids, sync.list_id)
        _update([record.pk], contact_id=str(contact["contact_id"]), **values)
        sync.run.synced += 1
        sync.run.done += 1
        checkpoint(sync)

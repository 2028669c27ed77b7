"""A run's state: the one module that writes `Run` (tests/test_state_writers.py holds every
other module to it). A run is created (QUEUED), claimed by one worker (RUNNING),
checkpointed, paused (by the person, or until 00:00 UTC for Constant Contact's daily
quota), queued again, and ended: COMPLETED, FAILED (a connection broken, retries spent,
an unexpected error) or CANCELLED (a disconnect).

Invariants:
- At most one open run (QUEUED, RUNNING, PAUSED) per tenant: the database's constraint.
- A RUNNING run is held by the worker in `claimed_by`, which checks in (`heartbeat_at`);
  any other run is held by none. A claim is a conditional UPDATE, so two workers racing
  for a run cannot both win; a run whose worker went quiet may be claimed again.
- Only the worker holding a run writes its progress, and every step of its work ends with
  a checkpoint saved in the same transaction as the customers' outcomes it counts: a run
  killed anywhere resumes from its last checkpoint. A run no longer its worker's (paused,
  cancelled, taken over) stops at its next checkpoint, that step rolled back.
- An ended run has `finished_at` and is never opened again.
- The counts only grow, but `sent`: customers in imports not confirmed yet, which move to
  synced, failed or skipped once Constant Contact confirms them.
"""

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from ccsync.base import counters, jobs
from ccsync.sync import errors
from ccsync.sync.broken_connections import connection_refused
from ccsync.sync.models import Run
from integrations.constantcontact import errors as cc_errors
from integrations.constantcontact.client import ConstantContactClient
from integrations.limiter import get_limiter, next_utc_midnight
from integrations.quickbooks.client import QuickBooksClient
from tenants.models import Tenant

logger = logging.getLogger(__name__)

_PROGRESS_FIELDS = (
    "total",
    "done",
    "synced",
    "sent",
    "unchanged",
    "skipped",
    "failed",
    "checkpoint",
)


class Stop(Exception):
    """The run was cancelled or taken over (leave it as it is), or paused by the user."""

    def __init__(self, *, paused: bool = False) -> None:
        super().__init__("paused" if paused else "stopped")
        self.paused = paused


@dataclass
class Sync:
    """A run at work: the worker holding it, the list it sends to, the tenant's clients and
    the calls they made since the last checkpoint."""

    run: Run
    worker: str
    list_id: str
    qb: QuickBooksClient
    cc: ConstantContactClient
    calls: Counter[str] = field(default_factory=Counter)

    @property
    def tenant(self) -> Tenant:
        return self.run.tenant


# --- queued, claimed ---------------------------------------------------------------------


def _enqueue(run: Run) -> None:
    queue = jobs.CHANGES if run.kind == Run.Kind.CHANGES else jobs.FIRST_SYNC
    jobs.enqueue("sync.run", run.pk, queue=queue)


def create_run(*, tenant: Tenant, kind: str) -> Run | None:
    """A queued run of this kind, enqueued on commit; None if the tenant already has one open."""
    try:
        with transaction.atomic():
            run = Run.objects.create(tenant=tenant, kind=kind)
    except IntegrityError:
        return None  # one sync at a time: the open run will pick up whatever is pending
    _enqueue(run)
    logger.info("sync run queued: tenant=%s run=%s kind=%s", tenant.pk, run.pk, kind)
    return run


def requeue(*, run: Run) -> Run:
    """Queue an open run again (after a pause, or when its worker died); it resumes from its
    checkpoint."""
    # The heartbeat marks when it was queued again: recovery waits as long before the next try.
    Run.objects.filter(pk=run.pk, state__in=Run.OPEN_STATES).update(
        state=Run.State.QUEUED, claimed_by="", paused_until=None, heartbeat_at=timezone.now()
    )
    run.refresh_from_db()
    if run.state == Run.State.QUEUED:
        _enqueue(run)
    return run


def claim(*, run_id: int, worker: str) -> bool:
    """Take a queued run, or a running one whose worker went quiet, for `worker`.

    A conditional UPDATE: two workers racing for the same run cannot both win.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=settings.SYNC_STALE_RUN_SECONDS)
    claimable = Q(state=Run.State.QUEUED) | Q(
        Q(state=Run.State.RUNNING)
        & (Q(claimed_by=worker) | Q(claimed_by="") | Q(heartbeat_at__lt=stale))
    )
    return bool(
        Run.objects.filter(claimable, pk=run_id, tenant__paused=False).update(
            state=Run.State.RUNNING,
            claimed_by=worker,
            heartbeat_at=now,
            started_at=Coalesce("started_at", now),
        )
    )


def recover() -> int:
    """Runs whose worker died, queued runs whose message was lost and quota pauses that
    ended are queued again. Returns how many."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.SYNC_STALE_RUN_SECONDS)
    lost = Run.objects.filter(
        Q(state=Run.State.RUNNING, heartbeat_at__lt=stale)
        | Q(state=Run.State.QUEUED, heartbeat_at__lt=stale)
        | Q(state=Run.State.QUEUED, heartbeat_at__isnull=True, created_at__lt=stale)
        | Q(state=Run.State.PAUSED, paused_until__lte=now),
        tenant__paused=False,
        tenant__state=Tenant.State.CONNECTED,
    )
    recovered = 0
    for run in lost:
        logger.info("sync run recovered: tenant=%s run=%s", run.tenant_id, run.pk)
        requeue(run=run)
        recovered += 1
    return recovered


# --- at work -------------------------------------------------------------------------------


def _progress(sync: Sync) -> dict[str, Any]:
    """The run's counts and checkpoint, with the calls made since they were last saved."""
    run = sync.run
    run.quickbooks_calls += sync.calls.pop("quickbooks", 0)
    run.constantcontact_calls += sync.calls.pop("constantcontact", 0)
    return {
        "quickbooks_calls": run.quickbooks_calls,
        "constantcontact_calls": run.constantcontact_calls,
        **{name: getattr(run, name) for name in _PROGRESS_FIELDS},
    }


def checkpoint(
    sync: Sync,
    *,
    phase: str | None = None,
    unsubscribes: bool | None = None,
    expected: int | None = None,
    position: int | None = None,
    events_upto: int | None = None,
    slack_read: bool | None = None,
) -> None:
    """Save progress (call it inside the transaction that saved the outcomes) and make sure
    the run is still ours to continue: paused, cancelled or taken over runs stop here.

    Where the run resumes: its `phase` (read, then send), the unsubscribes read, the
    customers `expected`, QuickBooks' next start `position`, the last event it takes, and
    whether the day's slack paid for its unsubscribe read (`slack_read`)."""
    run = sync.run
    given = {
        "phase": phase,
        "unsubscribes": unsubscribes,
        "expected": expected,
        "position": position,
        "events_upto": events_upto,
        "slack_read": slack_read,
    }
    run.checkpoint = {**run.checkpoint, **{k: v for k, v in given.items() if v is not None}}
    still_ours = Run.objects.filter(
        pk=run.pk, claimed_by=sync.worker, state=Run.State.RUNNING, tenant__paused=False
    ).update(heartbeat_at=timezone.now(), **_progress(sync))
    if not still_ours:
        # The step that noticed is rolled back by the caller's transaction.
        raise Stop(paused=Tenant.objects.filter(pk=run.tenant_id, paused=True).exists())


def tally(
    sync: Sync,
    *,
    total: int = 0,
    done: int = 0,
    synced: int = 0,
    sent: int = 0,
    unchanged: int = 0,
    skipped: int = 0,
    failed: int = 0,
) -> None:
    """Add to the run's counts; the next checkpoint saves them."""
    run = sync.run
    run.total += total
    run.done += done
    run.synced += synced
    run.sent += sent
    run.unchanged += unchanged
    run.skipped += skipped
    run.failed += failed


def expect(sync: Sync, *, customers: int) -> None:
    """How many customers the run is about (its progress: done of expected); the next
    checkpoint saves it."""
    sync.run.checkpoint = {**sync.run.checkpoint, "expected": customers}


def count_settled(
    *, run_id: int | None, sync: Sync | None, synced: int, failed: int, skipped: int
) -> None:
    """Constant Contact confirmed customers of an import `run_id` sent: they move from its
    `sent` to their outcomes. Checkpointed when that run is the one at work (`sync`)."""
    settled = synced + failed + skipped
    if sync is not None and sync.run.pk == run_id:
        tally(sync, synced=synced, failed=failed, skipped=skipped, sent=-settled)
        checkpoint(sync)
    elif run_id is not None:
        Run.objects.filter(pk=run_id).update(
            sent=F("sent") - settled,
            synced=F("synced") + synced,
            failed=F("failed") + failed,
            skipped=F("skipped") + skipped,
        )


def heartbeat(sync: Sync) -> None:
    """Still alive, between checkpoints (waiting for Constant Contact, say)."""
    Run.objects.filter(pk=sync.run.pk, claimed_by=sync.worker).update(heartbeat_at=timezone.now())


# --- ended ---------------------------------------------------------------------------------


def _release(run: Run, worker: str, **values: Any) -> bool:
    """Write the run's end (or pause) if `worker` still holds it; whether it did."""
    for name, value in values.items():
        setattr(run, name, value)
    return bool(Run.objects.filter(pk=run.pk, claimed_by=worker).update(claimed_by="", **values))


def finish(run: Run, worker: str, state: str, *, error: str = "", sync: Sync | None = None) -> Run:
    progress = _progress(sync) if sync is not None else {}
    if _release(run, worker, state=state, error=error, finished_at=timezone.now(), **progress):
        # Counted once, by the worker that held the run.
        counters.run_ended(kind=run.kind, outcome=state)
    logger.info("sync run %s: tenant=%s run=%s", state, run.tenant_id, run.pk)
    return run


def cancel_open(*, tenant: Tenant) -> int:
    """Every open run of the tenant is cancelled (a disconnect): a running worker stops at
    its next checkpoint. Returns how many."""
    return Run.objects.filter(tenant=tenant, state__in=Run.OPEN_STATES).update(
        state=Run.State.CANCELLED, finished_at=timezone.now(), claimed_by=""
    )


def paused_by_user(run: Run, worker: str) -> Run:
    """Recorded here, not at the checkpoint that noticed: that step was rolled back."""
    _release(run, worker, state=Run.State.PAUSED)
    return run


def pause_for_quota(sync: Sync, error: Exception) -> Run:
    """Constant Contact's daily quota is used up: every run waits for 00:00 UTC."""
    if isinstance(error, cc_errors.QuotaExceeded):
        get_limiter().exhaust_constantcontact_today()  # every worker stops until midnight
    run = sync.run
    if _release(
        run,
        sync.worker,
        state=Run.State.PAUSED,
        paused_until=next_utc_midnight(),
        error="Constant Contact's daily request quota is used up: paused until 00:00 UTC.",
        **_progress(sync),
    ):
        counters.run_ended(kind=run.kind, outcome=run.state)
    logger.warning("sync run paused for the daily quota: tenant=%s run=%s", run.tenant_id, run.pk)
    return run


def save_calls(sync: Sync) -> None:
    """The calls made so far, before the run waits for a retry."""
    Run.objects.filter(pk=sync.run.pk).update(**_progress(sync))


def fail(*, run_id: int, worker: str, error: Exception) -> None:
    """Give up on a run after its retries (passing errors that did not pass)."""
    finish(Run.objects.get(pk=run_id), worker, Run.State.FAILED, error=errors.describe(error))


def fail_broken(sync: Sync, error: Exception) -> Run:
    """A connection refused the app: the run fails and the connection shows as broken."""
    message = connection_refused(tenant=sync.tenant, error=error)
    return finish(sync.run, sync.worker, Run.State.FAILED, error=message, sync=sync)

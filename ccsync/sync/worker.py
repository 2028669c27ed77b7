"""The worker's loop over one run: claim it, do the work its kind says (kinds.py), end it
as the outcome says (errors.py), and the retry policy for passing errors: a run that makes
progress under a steady error rate goes on; one that never gets further fails after
MAX_RETRIES tries in a row.

After a run, what is waiting follows: the changes that arrived meanwhile, or a full check
when the sales data choice changed while the run was past reading the figures.
"""

import logging
import random
from collections import Counter
from dataclasses import dataclass

from ccsync.base.logs import log_context
from ccsync.sync import errors, kinds, pacing, runs, sales
from ccsync.sync.change_window import schedule_changes
from ccsync.sync.clients import clients_for
from ccsync.sync.event_store import has_pending_events
from ccsync.sync.models import Run, TenantSync
from ccsync.sync.runs import Sync
from integrations.constantcontact import errors as cc_errors
from integrations.quickbooks import errors as qb_errors
from tenants import selectors as tenant_selectors

logger = logging.getLogger(__name__)

MAX_RETRIES = 8


@dataclass(frozen=True)
class Retry:
    """Try the run again in `countdown` seconds; `failures` tries in a row made no progress."""

    countdown: float
    failures: int


def work(*, run_id: int, worker: str, failures: int = 0) -> Retry | None:
    """Execute the run; after a passing error, when to try again (None: done, or given up).

    `failures` counts the tries in a row that made no progress: a long run under a steady
    error rate still finishes, a run that never gets further fails after MAX_RETRIES."""
    before = _progress(run_id)
    try:
        execute(run_id=run_id, worker=worker)
    except errors.RETRYABLE as error:
        failures = 1 if _progress(run_id) != before else failures + 1
        if failures > MAX_RETRIES:
            runs.fail(run_id=run_id, worker=worker, error=error)
            return None
        return Retry(countdown=backoff(error, failures - 1), failures=failures)
    return None


def backoff(error: Exception, retries: int) -> float:
    """Seconds before the next try: Intuit asks for 60 s after a throttle; an account whose
    1,000 activities are queued waits for them, 5 minutes doubling to an hour (that account
    alone: its worker is free meanwhile); others double."""
    if isinstance(error, qb_errors.Throttled):
        return 60.0
    if isinstance(error, cc_errors.ActivityQueueFull):
        return min(300.0 * 2.0**retries, 3600.0)
    return min(2.0**retries, 300.0) * random.uniform(0.8, 1.2)


def _progress(run_id: int) -> tuple:
    return tuple(
        Run.objects.filter(pk=run_id).values_list("done", "total", "checkpoint").first() or ()
    )


def execute(*, run_id: int, worker: str) -> Run | None:
    """Claim the run and work on it until it is done, paused or stopped.

    Passing errors (RETRYABLE) propagate with the claim kept, for the caller to retry.
    Every log line meanwhile carries the tenant and the run."""
    tenant_id = Run.objects.filter(pk=run_id).values_list("tenant_id", flat=True).first()
    with log_context(tenant=tenant_id, run=run_id):
        if not runs.claim(run_id=run_id, worker=worker):
            return None
        run = Run.objects.select_related("tenant").get(pk=run_id)
        selection = tenant_selectors.current_list(tenant=run.tenant)
        if selection is None:
            return runs.finish(
                run, worker, Run.State.FAILED, error="No Constant Contact list chosen."
            )
        calls: Counter[str] = Counter()
        qb, cc = clients_for(tenant=run.tenant, calls=calls)
        sync = Sync(run=run, worker=worker, list_id=selection.list_id, qb=qb, cc=cc, calls=calls)
        logger.info("sync run started: tenant=%s run=%s kind=%s", run.tenant_id, run.pk, run.kind)
        return _execute(sync)


def _execute(sync: Sync) -> Run:
    run = sync.run
    try:
        if run.kind == Run.Kind.CHANGES:
            kinds.apply_changes(sync)
        else:
            kinds.full_scan(sync)
    except runs.Stop as stop:
        return runs.paused_by_user(run, sync.worker) if stop.paused else run
    except errors.QUOTA as error:
        return runs.pause_for_quota(sync, error)
    except errors.BROKEN as error:
        return runs.fail_broken(sync, error)
    except errors.RETRYABLE:
        runs.save_calls(sync)
        raise
    except Exception as error:
        logger.exception("sync run failed: tenant=%s run=%s", run.tenant_id, run.pk)
        return runs.finish(
            run, sync.worker, Run.State.FAILED, error=errors.describe(error), sync=sync
        )
    if run.kind != Run.Kind.CHANGES:
        TenantSync.objects.filter(tenant=run.tenant).update(caught_up_at=run.started_at)
    finished = runs.finish(run, sync.worker, Run.State.COMPLETED, sync=sync)
    if run.kind == Run.Kind.CHANGES:
        # What the bucket pays for: a read the slack paid for is not part of it.
        slack_read = bool(run.checkpoint.get("slack_read"))
        pacing.get_pacer().run_cost(run.constantcontact_calls - slack_read)
    if has_pending_events(tenant=run.tenant):
        schedule_changes(tenant_id=run.tenant_id)
    elif sales.everyone_due(tenant=run.tenant):
        runs.create_run(tenant=run.tenant, kind=Run.Kind.FULL_CHECK)
    return finished

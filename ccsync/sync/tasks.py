"""Celery tasks: thin, idempotent wrappers around the engine and the services.

Every task may run twice (acks_late, reject_on_worker_lost): runs are claimed in the
database and resume from their checkpoint; only passing errors are retried, with backoff.
"""

import logging
import random
from collections import Counter
from datetime import timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db.models import Min, Q
from django.utils import timezone

from ccsync.datacare import retention
from ccsync.sync import engine, services
from ccsync.sync.limiter import QuotaPaused
from ccsync.sync.models import Run, TenantSync, WebhookEvent
from integrations.constantcontact import errors as cc_errors
from integrations.quickbooks import errors as qb_errors
from tenants.models import ConstantContactConnection, IntuitConnection, Tenant
from tenants.tokens import ConnectionUnavailable, ConstantContactTokenSource, IntuitTokenSource

logger = logging.getLogger(__name__)

MAX_RETRIES = 8
CDC_MAX_AGE = timedelta(days=29)  # CDC reaches 30 days back; past that a full check
TOKEN_REFRESH_AHEAD = timedelta(minutes=20)
STUCK_SCHEDULE = timedelta(minutes=5)
RELIABLE = {"acks_late": True, "reject_on_worker_lost": True}


def backoff(error: Exception, retries: int) -> float:
    """Seconds before the next try: Intuit asks for 60 s after a throttle; others double."""
    if isinstance(error, qb_errors.Throttled):
        return 60.0
    return min(2.0**retries, 300.0) * random.uniform(0.8, 1.2)


def _progress(run_id: int) -> tuple[Any, ...]:
    return tuple(
        Run.objects.filter(pk=run_id).values_list("done", "total", "checkpoint").first() or ()
    )


@shared_task(name="sync.run", bind=True, max_retries=None, **RELIABLE)
def run_sync(self, run_id: int, failures: int = 0) -> None:
    """Passing errors are retried with backoff. `failures` counts the tries in a row that
    made no progress: a long run under a steady error rate still finishes, a run that never
    gets further fails after MAX_RETRIES."""
    worker = self.request.id or f"local-{run_id}"
    before = _progress(run_id)
    try:
        engine.execute(run_id=run_id, worker=worker)
    except engine.RETRYABLE as error:
        failures = 1 if _progress(run_id) != before else failures + 1
        if failures > MAX_RETRIES:
            engine.fail(run_id=run_id, worker=worker, error=error)
            return
        countdown = backoff(error, failures - 1)
        raise self.retry(kwargs={"failures": failures}, countdown=countdown) from None


@shared_task(name="sync.changes", **RELIABLE)
def sync_changes(tenant_id: int) -> None:
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is not None:
        services.start_changes(tenant=tenant)


def _connected_tenants():
    return Tenant.objects.filter(state=Tenant.State.CONNECTED, paused=False)


@shared_task(name="sync.reconcile_all", **RELIABLE)
def reconcile_all() -> None:
    """Catch what webhooks missed: CDC for each tenant whose first sync is done."""
    done = Run.objects.filter(kind=Run.Kind.FIRST, state=Run.State.COMPLETED)
    for tenant_id in _connected_tenants().filter(sync_runs__in=done).values_list("pk", flat=True):
        reconcile_tenant.delay(tenant_id)


@shared_task(name="sync.reconcile_tenant", bind=True, max_retries=3, **RELIABLE)
def reconcile_tenant(self, tenant_id: int) -> None:
    tenant = _connected_tenants().filter(pk=tenant_id).first()
    if tenant is None:
        return
    state = services.sync_state(tenant=tenant)
    if state.reconciled_at is None or timezone.now() - state.reconciled_at > CDC_MAX_AGE:
        services.create_run(tenant=tenant, kind=Run.Kind.RECONCILE)
        return
    try:
        engine.reconcile_changes(tenant=tenant, since=state.reconciled_at)
    except engine.RETRYABLE as error:
        raise self.retry(countdown=backoff(error, self.request.retries)) from None
    except (*engine.BROKEN, QuotaPaused):
        logger.warning("reconcile skipped: tenant=%s", tenant_id)


@shared_task(name="sync.refresh_unsubscribes_all", **RELIABLE)
def refresh_unsubscribes_all() -> None:
    for tenant_id in _connected_tenants().values_list("pk", flat=True):
        refresh_unsubscribes.delay(tenant_id)


@shared_task(name="sync.refresh_unsubscribes", **RELIABLE)
def refresh_unsubscribes(tenant_id: int) -> None:
    tenant = _connected_tenants().filter(pk=tenant_id).first()
    if tenant is None or services.open_run(tenant=tenant) is not None:
        return  # a run refreshes them itself before sending
    try:
        _, cc = engine.clients_for(tenant=tenant, calls=Counter())
        engine.refresh_unsubscribes(tenant=tenant, cc=cc)
    except (*engine.RETRYABLE, *engine.BROKEN, QuotaPaused, cc_errors.QuotaExceeded):
        logger.warning("unsubscribe refresh skipped: tenant=%s", tenant_id)


@shared_task(name="sync.refresh_tokens_all", **RELIABLE)
def refresh_tokens_all() -> None:
    """Refresh access tokens before they expire (and keep Intuit's refresh token rolling)."""
    soon = timezone.now() + TOKEN_REFRESH_AHEAD
    for model, source in (
        (IntuitConnection, IntuitTokenSource),
        (ConstantContactConnection, ConstantContactTokenSource),
    ):
        expiring = model.objects.filter(
            state=model.State.CONNECTED,
            tenant__state=Tenant.State.CONNECTED,
            access_expires_at__lt=soon,
        ).select_related("tenant")
        for connection in expiring:
            try:
                source(tenant=connection.tenant).renew(rejected=connection.access_token)
            except (
                ConnectionUnavailable,
                qb_errors.QuickBooksError,
                cc_errors.ConstantContactError,
            ):
                # Broken grants are recorded by the token source; passing errors retry later.
                logger.warning("token refresh failed: tenant=%s", connection.tenant_id)


@shared_task(name="sync.recover_runs", **RELIABLE)
def recover_runs() -> None:
    """Runs whose worker died, queued runs whose message was lost, quota pauses that ended,
    and change windows that were never processed."""
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
    for run in lost:
        logger.info("sync run recovered: tenant=%s run=%s", run.tenant_id, run.pk)
        services.requeue(run=run)
    forgotten = (
        WebhookEvent.objects.filter(processed_at__isnull=True)
        .values("tenant_id")
        .annotate(oldest=Min("received_at"))
        .filter(oldest__lt=now - STUCK_SCHEDULE)
    )
    for row in forgotten:
        TenantSync.objects.filter(tenant_id=row["tenant_id"]).update(incremental_scheduled=False)
        services.schedule_changes(tenant_id=row["tenant_id"])


@shared_task(name="sync.purge_disconnected", **RELIABLE)
def purge_disconnected() -> None:
    """Delete the customer data of tenants disconnected longer than the grace period."""
    retention.purge_disconnected()


@shared_task(name="sync.prune_history", **RELIABLE)
def prune_history() -> None:
    """Delete processed webhook events and finished runs past their retention."""
    retention.prune_webhook_events()
    retention.prune_runs()

"""Celery tasks: thin, idempotent wrappers, each calling one function of the sync.

Every task may run twice (acks_late, reject_on_worker_lost): runs are claimed in the
database and resume from their checkpoint; only passing errors are retried, with backoff.
Tasks are enqueued by name (ccsync.base.jobs), never imported.
"""

from celery import shared_task

from ccsync.base.jobs import RELIABLE
from ccsync.sync import catch_up, change_window, dispatch, errors, lifecycle, runs, services, worker
from tenants.models import Tenant


@shared_task(name="sync.run", bind=True, max_retries=None, **RELIABLE)
def run_sync(self, run_id: int, failures: int = 0) -> None:
    name = self.request.id or f"local-{run_id}"
    retry = worker.work(run_id=run_id, worker=name, failures=failures)
    if retry is not None:
        raise self.retry(kwargs={"failures": retry.failures}, countdown=retry.countdown)


@shared_task(name="sync.changes", **RELIABLE)
def sync_changes(tenant_id: int) -> None:
    dispatch.start_changes(tenant_id=tenant_id)


@shared_task(name="sync.catch_up_all", **RELIABLE)
def catch_up_all() -> None:
    catch_up.catch_up_all()


@shared_task(name="sync.catch_up", bind=True, max_retries=3, **RELIABLE)
def catch_up_tenant(self, tenant_id: int) -> None:
    try:
        catch_up.catch_up(tenant_id=tenant_id)
    except errors.RETRYABLE as error:
        raise self.retry(countdown=worker.backoff(error, self.request.retries)) from None


@shared_task(name="sync.dispatch", **RELIABLE)
def dispatch_turns() -> None:
    dispatch.dispatch()


@shared_task(name="sync.confirm_overdue", **RELIABLE)
def confirm_overdue() -> None:
    services.confirm_overdue()


@shared_task(name="sync.confirm_imports", bind=True, max_retries=3, **RELIABLE)
def confirm_imports(self, tenant_id: int) -> None:
    try:
        services.confirm_tenant_imports(tenant_id=tenant_id)
    except errors.RETRYABLE as error:
        raise self.retry(countdown=worker.backoff(error, self.request.retries)) from None


@shared_task(name="sync.recover_runs", **RELIABLE)
def recover_runs() -> None:
    """Runs whose worker died, queued runs whose message was lost, quota pauses that ended,
    and change windows that were never processed."""
    runs.recover()
    change_window.reschedule_forgotten()


@shared_task(name="sync.quickbooks_revoked", **RELIABLE)
def quickbooks_revoked(tenant_id: int) -> None:
    """Intuit refused the company's refresh token for good: the company is disconnected."""
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is not None:
        lifecycle.quickbooks_revoked(tenant=tenant)

"""Celery tasks of data care (beat runs them hourly): thin wrappers around retention."""

from celery import shared_task

from ccsync.base.jobs import RELIABLE
from ccsync.datacare import retention


@shared_task(name="datacare.purge_disconnected", **RELIABLE)
def purge_disconnected() -> None:
    """Delete the customer data of tenants disconnected longer than the grace period."""
    retention.purge_disconnected()


@shared_task(name="datacare.prune_history", **RELIABLE)
def prune_history() -> None:
    """Delete processed webhook events and finished runs past their retention."""
    retention.prune_webhook_events()
    retention.prune_runs()

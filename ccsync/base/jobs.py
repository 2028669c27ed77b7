"""Work handed to the Celery workers: the one place the app enqueues, by task name.

Nothing below the entry points imports a tasks module: a task is named, never imported, so
the sync and the tenants' services stay below the Celery tasks that call them.

Queues, by kind of work (docs/operating.md):
- webhooks: the end of a tenant's change window (sync.changes) and the pacer's dispatch
  (sync.dispatch): milliseconds of work
  that turns waiting webhook events into a run; it must never wait behind a sync.
- changes: runs of changes (webhooks, the catch-up): small, and a QuickBooks edit should
  reach Constant Contact within seconds.
- first_sync: first syncs and full checks: up to 10,000 customers each, minutes of work.
- maintenance (the default queue): beat's periodic jobs and their per-tenant fan-out, and
  any task not named here.
A run's queue depends on its kind, which its sender knows: it says so when it enqueues.
"""

from collections.abc import Sequence
from typing import Any, TypedDict

from celery import current_app
from django.db import transaction

WEBHOOKS = "webhooks"
CHANGES = "changes"
FIRST_SYNC = "first_sync"
MAINTENANCE = "maintenance"
ALL = (WEBHOOKS, CHANGES, FIRST_SYNC, MAINTENANCE)
# settings.CELERY_TASK_ROUTES: the tasks that always go to one queue other than the default.
ROUTES = {"sync.changes": {"queue": WEBHOOKS}, "sync.dispatch": {"queue": WEBHOOKS}}


class TaskOptions(TypedDict):
    acks_late: bool
    reject_on_worker_lost: bool


# Every task's options: a task may run twice (acked after it ran, requeued if its worker
# died), so each one is idempotent. Typed, so `shared_task(**RELIABLE)` is checked.
RELIABLE: TaskOptions = {"acks_late": True, "reject_on_worker_lost": True}


def enqueue(
    task: str, *args: Any, queue: str | None = None, countdown: float | None = None
) -> None:
    """Send `task` once the current transaction commits (at once outside of one), so a
    worker never looks for rows it cannot see yet."""
    transaction.on_commit(lambda: send(task, args, queue=queue, countdown=countdown))


def send(task: str, args: Sequence[Any], *, queue: str | None, countdown: float | None) -> None:
    current_app.send_task(task, args=list(args), queue=queue, countdown=countdown)

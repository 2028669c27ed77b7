"""Which Celery queue each task goes to (settings.CELERY_TASK_ROUTES names `route_task`).

- webhooks: the end of a tenant's coalescing window (sync.changes): milliseconds of work
  that turns waiting webhook events into a run; it must never wait behind a sync.
- incremental: runs of webhook and CDC changes: small, and a QuickBooks edit should reach
  Constant Contact within seconds.
- first_sync: first syncs and full checks: up to 10,000 customers each, minutes of work.
- maintenance (the default queue): beat's periodic jobs and their per-tenant fan-out,
  and any task not named here.
"""

from typing import Any

WEBHOOKS = "webhooks"
INCREMENTAL = "incremental"
FIRST_SYNC = "first_sync"
MAINTENANCE = "maintenance"
ALL = (WEBHOOKS, INCREMENTAL, FIRST_SYNC, MAINTENANCE)

_BY_TASK = {"sync.changes": WEBHOOKS}


def queue_for_run(kind: str) -> str:
    from ccsync.sync.models import Run

    return INCREMENTAL if kind == Run.Kind.INCREMENTAL else FIRST_SYNC


def route_task(
    name: str, args: tuple, kwargs: dict, options: dict, task: Any = None, **_: Any
) -> dict[str, str] | None:
    """A Celery router: {"queue": ...} for the tasks that do not go to the default queue."""
    if name == "sync.run":
        from ccsync.sync.models import Run

        run_id = args[0] if args else kwargs.get("run_id")
        kind = Run.objects.filter(pk=run_id).values_list("kind", flat=True).first()
        return {"queue": queue_for_run(kind or Run.Kind.FIRST)}
    queue = _BY_TASK.get(name)
    return {"queue": queue} if queue else None

"""Worker heartbeats: every Celery worker stamps a row every WORKER_HEARTBEAT_SECONDS from
its consumer's own timer (a Celery bootstep, ccsync/ops/worker.py), naming the queues it
consumes. /readyz and the `ccsync_workers` metric count the workers whose stamp is fresh.

The stamp runs in the consumer's event loop, not in a task: it proves the worker is alive
and connected even while every pool slot is busy with a long first sync.
"""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from ccsync.ops.models import WorkerHeartbeat

FORGET_AFTER = timedelta(days=1)  # rows of workers gone for good (old container names)


def stamp(*, hostname: str, queues: list[str]) -> None:
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        hostname=hostname, defaults={"queues": queues, "seen_at": now}
    )
    WorkerHeartbeat.objects.filter(seen_at__lt=now - FORGET_AFTER).delete()


def forget(*, hostname: str) -> None:
    WorkerHeartbeat.objects.filter(hostname=hostname).delete()


def live_workers() -> dict[str, int]:
    """How many workers with a fresh heartbeat consume each of the app's queues."""
    fresh = timezone.now() - timedelta(seconds=settings.WORKER_HEARTBEAT_MAX_AGE)
    counts = {queue.name: 0 for queue in settings.CELERY_TASK_QUEUES}
    for queues in WorkerHeartbeat.objects.filter(seen_at__gte=fresh).values_list(
        "queues", flat=True
    ):
        for queue in queues:
            if queue in counts:
                counts[queue] += 1
    return counts

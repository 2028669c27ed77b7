"""`manage.py worker_alive <node name>`: exit 0 if that Celery worker's heartbeat is fresh.

The container health check of a worker (docker-compose.yml): the same heartbeat /readyz
reads, so "healthy" means what readiness means.
"""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ccsync.ops.models import WorkerHeartbeat


class Command(BaseCommand):
    help = "Exit 0 if the worker's heartbeat is fresh (e.g. celery@$HOSTNAME), 1 otherwise."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("hostname", help="the worker's node name, e.g. celery@$HOSTNAME")

    def handle(self, *args, hostname: str, **options) -> None:  # noqa: ANN002, ANN003
        fresh = timezone.now() - timedelta(seconds=settings.WORKER_HEARTBEAT_MAX_AGE)
        if not WorkerHeartbeat.objects.filter(hostname=hostname, seen_at__gte=fresh).exists():
            raise CommandError(f"no fresh heartbeat from {hostname}")
        self.stdout.write(f"{hostname} is alive")

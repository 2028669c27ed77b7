from django.db import models


class WorkerHeartbeat(models.Model):
    """A Celery worker's last sign of life and the queues it consumes (for /readyz)."""

    hostname = models.CharField(max_length=255, unique=True)  # Celery's node name
    queues = models.JSONField(default=list)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"worker {self.hostname}"

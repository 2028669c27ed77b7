"""Prometheus metrics, correct across every process on every host.

Counters and the webhook-lag histogram are recorded by any process (ccsync.base.counters)
and read back here at scrape time; gauges are computed at scrape time from the database, the
pacer and the broker. Every metric is listed in docs/operating.md.
"""

import logging
from collections.abc import Iterator

import redis
from django.conf import settings
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from ccsync.base.counters import (
    COUNTERS,
    LABEL_SEPARATOR,
    WEBHOOK_LAG,
    WEBHOOK_LAG_BUCKETS,
    WEBHOOK_LAG_HELP,
    redis_client,
    store,
)
from ccsync.ops.quota import day_of_calls

logger = logging.getLogger(__name__)

# --- exposition -----------------------------------------------------------------------------


def _counter_families() -> Iterator[Metric]:
    for counter in COUNTERS:
        family = CounterMetricFamily(f"ccsync_{counter.name}", counter.help, labels=counter.labels)
        for values, amount in sorted(store().read(counter.name).items()):
            family.add_metric(values.split(LABEL_SEPARATOR), amount)
        yield family


def _webhook_lag() -> Metric:
    raw = store().read(WEBHOOK_LAG)
    buckets, cumulative = [], 0.0
    for bound in (*WEBHOOK_LAG_BUCKETS, float("inf")):
        cumulative += raw.get(f"le:{bound}", 0.0)
        buckets.append(("+Inf" if bound == float("inf") else str(bound), cumulative))
    family = HistogramMetricFamily(f"ccsync_{WEBHOOK_LAG}", WEBHOOK_LAG_HELP)
    family.add_metric([], buckets, sum_value=raw.get("sum", 0.0))
    return family


def _gauge(
    name: str, help_text: str, labels: tuple[str, ...] = (), value: float | None = None
) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"ccsync_{name}", help_text, labels=labels or None, value=value)


def _database_gauges() -> Iterator[Metric]:
    from ccsync.ops.heartbeat import live_workers
    from ccsync.sync.models import Run, WebhookEvent
    from tenants.models import Tenant

    runs = _gauge("runs_open", "Runs queued, running or paused now.", ("kind", "state"))
    open_runs = Run.objects.filter(state__in=Run.OPEN_STATES).values("kind", "state")
    for row in open_runs.annotate(n=Count("id")).order_by("kind", "state"):
        runs.add_metric([row["kind"], row["state"]], row["n"])
    yield runs

    pending = WebhookEvent.objects.filter(processed_at__isnull=True).aggregate(
        n=Count("id"), oldest=Min("received_at")
    )
    age = (timezone.now() - pending["oldest"]).total_seconds() if pending["oldest"] else 0.0
    yield _gauge(
        "webhook_events_pending", "Webhook events stored, not synced yet.", value=pending["n"]
    )
    yield _gauge(
        "webhook_oldest_pending_seconds", "Age of the oldest webhook event not synced.", value=age
    )

    tenants = _gauge("tenants", "Tenants (QuickBooks companies) by state.", ("state",))
    for by_state in Tenant.objects.values("state").annotate(n=Count("id")).order_by("state"):
        tenants.add_metric([by_state["state"]], by_state["n"])
    yield tenants

    workers = _gauge(
        "workers", "Celery workers with a fresh heartbeat, by queue consumed.", ("queue",)
    )
    for queue, n in live_workers().items():
        workers.add_metric([queue], n)
    yield workers


def _quota_gauges() -> Iterator[Metric]:
    for figure in day_of_calls():
        yield _gauge(figure.name, figure.help, value=figure.value)


def queue_lengths() -> dict[str, int]:
    """Messages waiting in each Celery queue (a Redis broker; {} for any other broker)."""
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return {}
    from kombu.transport.redis import PRIORITY_STEPS, Channel

    client = redis_client(url)
    pipe = client.pipeline(transaction=False)
    names = [queue.name for queue in settings.CELERY_TASK_QUEUES]
    for name in names:
        for priority in PRIORITY_STEPS:  # kombu keeps one list per priority step
            pipe.llen(f"{name}{Channel.sep}{priority}" if priority else name)
    lengths = pipe.execute()
    steps = len(PRIORITY_STEPS)
    return {name: sum(lengths[i * steps : (i + 1) * steps]) for i, name in enumerate(names)}


def _redis_metrics() -> Iterator[Metric]:
    """Everything read from Redis; skipped (not an error) while Redis is unavailable."""
    try:
        families = [*_counter_families(), _webhook_lag(), *_quota_gauges()]
        depth = _gauge("queue_length", "Tasks waiting in each Celery queue.", ("queue",))
        for queue, length in queue_lengths().items():
            depth.add_metric([queue], length)
        families.append(depth)
    except redis.RedisError:
        logger.warning("metrics: Redis unavailable, counters left out of this scrape")
        return
    yield from families


class Collector:
    """Builds every family at scrape time (no state in the process)."""

    def collect(self) -> Iterator[Metric]:
        yield from _redis_metrics()
        yield from _database_gauges()


def render() -> bytes:
    """The Prometheus text exposition of every metric."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(Collector())
    return generate_latest(registry)

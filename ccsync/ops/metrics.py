"""Prometheus metrics, correct across every process on every host.

Web and worker processes are many and short-lived, so nothing is kept in a process:
- counters and the webhook-lag histogram are added to hashes in Redis (REDIS_URL, the
  limiter's Redis) by whichever process sees the event, and read back at scrape time;
- gauges are computed at scrape time from the database, the limiter and the broker.
Without REDIS_URL (the demo's single worker) counters live in the process that counts them.
Recording never fails the caller: if Redis is down the event is not counted.

Every metric is listed in docs/operating.md.
"""

import functools
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

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

logger = logging.getLogger(__name__)

PREFIX = "ccsync:metrics"
_SEP = "\x1f"  # between label values in a hash field


@dataclass(frozen=True)
class Counter:
    name: str  # exposed as ccsync_<name>_total
    help: str
    labels: tuple[str, ...]


RUNS = Counter(
    "runs",
    "Sync runs that ended, by kind (first, incremental, reconcile) and outcome (completed, "
    "failed, paused: the daily Constant Contact quota was used up).",
    ("kind", "outcome"),
)
CONTACTS_SYNCED = Counter(
    "contacts_synced",
    "Customers sent to Constant Contact and confirmed there, by run kind; added when the run ends.",
    ("kind",),
)
CONTACTS_FAILED = Counter(
    "contacts_failed",
    "Customers Constant Contact refused, by run kind; added when the run ends.",
    ("kind",),
)
CUSTOMERS_SKIPPED = Counter(
    "customers_skipped",
    "Customers a run decided not to sync, by reason (no_email, invalid_email, inactive, "
    "unsubscribed, duplicate_email, over_cap).",
    ("reason",),
)
PROVIDER_REQUESTS = Counter(
    "provider_requests",
    "Requests to the QuickBooks and Constant Contact APIs, by provider, endpoint and HTTP "
    "status ('error': no answer: timeout or dropped connection).",
    ("provider", "endpoint", "status"),
)
PROVIDER_THROTTLED = Counter(
    "provider_throttled",
    "429 answers (throttled or quota exceeded) from the providers' APIs, by provider and endpoint.",
    ("provider", "endpoint"),
)
COUNTERS = (
    RUNS,
    CONTACTS_SYNCED,
    CONTACTS_FAILED,
    CUSTOMERS_SKIPPED,
    PROVIDER_REQUESTS,
    PROVIDER_THROTTLED,
)

WEBHOOK_LAG = "webhook_lag_seconds"
WEBHOOK_LAG_HELP = (
    "Seconds from a webhook event's arrival to the end of the incremental run that synced it."
)
WEBHOOK_LAG_BUCKETS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0)


# --- where counts are kept -----------------------------------------------------------------


@functools.cache
def redis_client(url: str) -> redis.Redis:
    """One client (and connection pool) per Redis URL for the process: metrics, the broker's
    queue lengths, the readiness probe."""
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


class RedisStore:
    def __init__(self, url: str) -> None:
        self.client = redis_client(url)

    def add(self, key: str, amounts: Mapping[str, float]) -> None:
        pipe = self.client.pipeline(transaction=False)
        for name, amount in amounts.items():
            pipe.hincrbyfloat(f"{PREFIX}:{key}", name, amount)
        pipe.execute()

    def read(self, key: str) -> dict[str, float]:
        raw = self.client.hgetall(f"{PREFIX}:{key}")
        return {name.decode(): float(value) for name, value in raw.items()}


@dataclass
class MemoryStore:
    lock: threading.Lock = field(default_factory=threading.Lock)
    hashes: dict[str, dict[str, float]] = field(default_factory=lambda: defaultdict(dict))

    def add(self, key: str, amounts: Mapping[str, float]) -> None:
        with self.lock:
            values = self.hashes[key]
            for name, amount in amounts.items():
                values[name] = values.get(name, 0.0) + amount

    def read(self, key: str) -> dict[str, float]:
        with self.lock:
            return dict(self.hashes[key])


@functools.cache
def _redis_store(url: str) -> RedisStore:
    return RedisStore(url)


@functools.cache
def _memory_store() -> MemoryStore:
    return MemoryStore()


def store() -> RedisStore | MemoryStore:
    return _redis_store(settings.REDIS_URL) if settings.REDIS_URL else _memory_store()


_last_warning = 0.0


def _add(key: str, amounts: Mapping[str, float]) -> None:
    global _last_warning
    if not amounts:
        return
    try:
        store().add(key, amounts)
    except redis.RedisError:
        if time.monotonic() - _last_warning > 60:  # once a minute, not once per event
            _last_warning = time.monotonic()
            logger.warning("metrics not recorded: Redis unavailable")


# --- recording (called by the engine and the transport) ---------------------------------------


def count(counter: Counter, amount: float = 1, **labels: str) -> None:
    values = _SEP.join(str(labels[name]) for name in counter.labels)
    _add(counter.name, {values: amount})


def run_ended(*, kind: str, outcome: str, synced: int = 0, failed: int = 0) -> None:
    count(RUNS, kind=kind, outcome=outcome)
    if synced:
        count(CONTACTS_SYNCED, synced, kind=kind)
    if failed:
        count(CONTACTS_FAILED, failed, kind=kind)


def customers_skipped(reasons: Mapping[str, int]) -> None:
    _add(CUSTOMERS_SKIPPED.name, {reason: n for reason, n in reasons.items() if n})


def provider_answered(*, provider: str, endpoint: str, status: int | None) -> None:
    """One API call and its HTTP status (None: no answer)."""
    count(PROVIDER_REQUESTS, provider=provider, endpoint=endpoint, status=status or "error")
    if status == 429:
        count(PROVIDER_THROTTLED, provider=provider, endpoint=endpoint)


def webhook_events_processed(lags: Iterable[float]) -> None:
    amounts: dict[str, float] = defaultdict(float)
    for lag in lags:
        bucket = next((b for b in WEBHOOK_LAG_BUCKETS if lag <= b), float("inf"))
        amounts[f"le:{bucket}"] += 1
        amounts["count"] += 1
        amounts["sum"] += lag
    _add(WEBHOOK_LAG, amounts)


# --- exposition -----------------------------------------------------------------------------


def _counter_families() -> Iterator[Metric]:
    for counter in COUNTERS:
        family = CounterMetricFamily(f"ccsync_{counter.name}", counter.help, labels=counter.labels)
        for values, amount in sorted(store().read(counter.name).items()):
            family.add_metric(values.split(_SEP), amount)
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
    for row in Tenant.objects.values("state").annotate(n=Count("id")).order_by("state"):
        tenants.add_metric([row["state"]], row["n"])
    yield tenants

    workers = _gauge(
        "workers", "Celery workers with a fresh heartbeat, by queue consumed.", ("queue",)
    )
    for queue, n in live_workers().items():
        workers.add_metric([queue], n)
    yield workers


def _limiter_gauges() -> Iterator[Metric]:
    from ccsync.sync.limiter import get_limiter

    yield _gauge(
        "constantcontact_daily_requests_used",
        "Constant Contact requests the app made today (UTC), counted by the shared limiter.",
        value=get_limiter().constantcontact_used_today(),
    )
    yield _gauge(
        "constantcontact_daily_requests_limit",
        "The app's daily share of Constant Contact requests (SYNC_CC_DAILY_SHARE).",
        value=settings.SYNC_CC_DAILY_SHARE,
    )


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
        families = [*_counter_families(), _webhook_lag(), *_limiter_gauges()]
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

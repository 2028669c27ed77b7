"""What every process counts for the metrics: counter definitions and the code that adds
to them, importing no app code, so the engine and the providers' transport (through a hook)
may record from any layer. ccsync.ops.metrics reads them back at scrape time.

Web and worker processes are many and short-lived, so nothing is kept in a process:
counters and the webhook-lag histogram are added to hashes in Redis (REDIS_URL, the
limiter's Redis) by whichever process sees the event. Without REDIS_URL (the demo) counters
live in the process that counts them. Recording never fails the caller: if Redis is down the
event is not counted.

Every metric is listed in docs/operating.md.
"""

import functools
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

PREFIX = "ccsync:metrics"
LABEL_SEPARATOR = "\x1f"  # between label values in a hash field


@dataclass(frozen=True)
class Counter:
    name: str  # exposed as ccsync_<name>_total
    help: str
    labels: tuple[str, ...]


RUNS = Counter(
    "runs",
    "Sync runs that ended, by kind (first, changes, full_check) and outcome (completed, "
    "failed, paused: the daily Constant Contact quota was used up).",
    ("kind", "outcome"),
)
CONTACTS_SYNCED = Counter(
    "contacts_synced",
    "Customers sent to Constant Contact and confirmed there, by run kind; added when confirmed.",
    ("kind",),
)
CONTACTS_FAILED = Counter(
    "contacts_failed",
    "Customers Constant Contact refused, by run kind; added when it says so.",
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
    "Seconds from a webhook event's arrival to the end of the run of changes that synced it."
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
        # bytes: the client does not decode (redis types it either way).
        return {
            name.decode() if isinstance(name, bytes) else name: float(value)
            for name, value in raw.items()
        }


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


# --- recording ------------------------------------------------------------------------------


def count(counter: Counter, amount: float = 1, **labels: str | int) -> None:
    values = LABEL_SEPARATOR.join(str(labels[name]) for name in counter.labels)
    _add(counter.name, {values: amount})


def run_ended(*, kind: str, outcome: str) -> None:
    count(RUNS, kind=kind, outcome=outcome)


def contacts_confirmed(*, kind: str, synced: int, failed: int) -> None:
    """Constant Contact confirmed these contacts of a run of this kind (or refused them)."""
    if synced:
        count(CONTACTS_SYNCED, synced, kind=kind)
    if failed:
        count(CONTACTS_FAILED, failed, kind=kind)


def customers_skipped(reasons: Mapping[str, int]) -> None:
    _add(CUSTOMERS_SKIPPED.name, {reason: n for reason, n in reasons.items() if n})


def provider_answered(provider: str, endpoint: str, status: int | None) -> None:
    """One API call and its HTTP status (None: no answer); the transport's `after_response`."""
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

"""The shared rate limiter: every worker of the app, together, under the providers' limits.

- Constant Contact: 4 requests/second and a share of 10,000/day for the whole app (one API
  key), shared fairly between tenants: when several tenants wait, the one that used the
  least recently (a decaying count) goes first, so a first sync of 10,000 customers does not
  starve everybody else's edits. An exhausted day raises `QuotaPaused` (until 00:00 UTC).
- QuickBooks: 10 requests/second and 500/minute per company (realm).

Windows are sliding logs (at most `limit` grants in any `window`), slightly wider than the
providers' own second so that network jitter never makes us look faster than we are. In
Redis one Lua script checks and takes a grant atomically using Redis' clock; without Redis
(the demo: one worker) the same algorithm runs in process.
"""

import functools
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis
from django.conf import settings

from integrations.clock import SYSTEM, Clock
from integrations.shared_file import locked_json

DAY_MS = 86_400_000
# Waiting callers ask again at least this often, so a tenant not seen for a little longer is
# no longer waiting (a tenant that stops costs the others at most that long).
POLL_MS = 50
WAITER_STALE_MS = 150
YIELD_MS = 20  # how long a tenant steps aside for a less busy one


class QuotaPaused(Exception):
    """The app's daily share of Constant Contact requests is used up."""

    def __init__(self, until: datetime) -> None:
        self.until = until
        super().__init__(
            "Constant Contact's daily request quota is used up: paused until 00:00 UTC"
        )


def next_utc_midnight(now: datetime | None = None) -> datetime:
    now = now or datetime.now(UTC)
    return datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)


@dataclass(frozen=True)
class Window:
    key: str
    limit: int
    window_ms: int


@dataclass(frozen=True)
class Bucket:
    windows: tuple[Window, ...]
    daily_key: str = ""  # a day number is appended
    daily_limit: int = 0  # 0: no daily limit
    fairness_key: str = ""  # "" : no fairness between tenants
    tenant: str = ""
    half_life_ms: int = 10_000
    hold_key: str = ""  # set after a 429: nobody is granted until it passes


@dataclass(frozen=True)
class Attempt:
    granted: bool
    wait_ms: int = 0
    day_exhausted: bool = False


_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tenant, daily, half_life, member = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local stale, yield_ms = tonumber(ARGV[5]), tonumber(ARGV[6])
local waiters, usage = KEYS[1], KEYS[2]
local day_key = KEYS[3] .. ':' .. math.floor(now / 86400000)

local function used(who)
  local raw = redis.call('HGET', usage, who)
  if not raw then return 0 end
  local sep = string.find(raw, ':')
  local value, at = tonumber(string.sub(raw, 1, sep - 1)), tonumber(string.sub(raw, sep + 1))
  return value * math.pow(0.5, (now - at) / half_life)
end

if daily > 0 and tonumber(redis.call('GET', day_key) or '0') >= daily then
  return {2, 86400000 - (now % 86400000)}
end
local wait = math.max(tonumber(redis.call('GET', KEYS[4]) or '0') - now, 0)
for i = 5, #KEYS do
  local limit, window = tonumber(ARGV[2 * i - 3]), tonumber(ARGV[2 * i - 2])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
  if redis.call('ZCARD', KEYS[i]) >= limit then
    local oldest = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
    wait = math.max(wait, tonumber(oldest[2]) + window - now + 1)
  end
end
if tenant ~= '' then
  redis.call('HSET', waiters, tenant, now)
  redis.call('PEXPIRE', waiters, stale * 10)
  if wait == 0 then
    local mine = used(tenant)
    local all = redis.call('HGETALL', waiters)
    for j = 1, #all, 2 do
      local other, seen = all[j], tonumber(all[j + 1])
      if now - seen > stale then
        redis.call('HDEL', waiters, other)
      elseif other ~= tenant and used(other) < mine then
        wait = yield_ms
      end
    end
  end
end
if wait > 0 then return {1, wait} end
for i = 5, #KEYS do
  redis.call('ZADD', KEYS[i], now, member)
  redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[2 * i - 2]))
end
if daily > 0 then
  redis.call('INCR', day_key)
  redis.call('PEXPIRE', day_key, 2 * 86400000)
end
if tenant ~= '' then
  redis.call('HSET', usage, tenant, (used(tenant) + 1) .. ':' .. now)
  redis.call('PEXPIRE', usage, half_life * 20)
end
return {0, 0}
"""


class RedisBackend:
    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url)
        self.script = self.client.register_script(_SCRIPT)

    def attempt(self, bucket: Bucket, member: str) -> Attempt:
        keys = [
            bucket.fairness_key + ":waiters",
            bucket.fairness_key + ":usage",
            bucket.daily_key,
            bucket.hold_key or bucket.daily_key + ":no-hold",
        ]
        args: list[str | int] = [
            bucket.tenant,
            bucket.daily_limit,
            bucket.half_life_ms,
            member,
            WAITER_STALE_MS,
            YIELD_MS,
        ]
        for window in bucket.windows:
            keys.append(window.key)
            args += [window.limit, window.window_ms]
        code, wait_ms = self.script(keys=keys, args=args)
        return Attempt(granted=code == 0, wait_ms=int(wait_ms), day_exhausted=code == 2)

    def used_today(self, daily_key: str) -> int:
        day = int(self.client.time()[0]) * 1000 // DAY_MS
        return int(self.client.get(f"{daily_key}:{day}") or 0)

    def exhaust_today(self, daily_key: str, limit: int) -> None:
        day = int(self.client.time()[0]) * 1000 // DAY_MS
        self.client.set(f"{daily_key}:{day}", limit, px=2 * DAY_MS)

    def hold(self, hold_key: str, ms: int) -> None:
        seconds, micros = self.client.time()
        until = int(seconds) * 1000 + int(micros) // 1000 + ms
        self.client.set(hold_key, until, px=ms)


def _attempt(state: dict[str, Any], bucket: Bucket, member: str, now: int) -> Attempt:
    """The algorithm of the Lua script above, over a plain dict of state (JSON-able)."""
    logs, days = state.setdefault("logs", {}), state.setdefault("days", {})
    hold = state.get("holds", {}).get(bucket.hold_key, 0)
    day_key = f"{bucket.daily_key}:{now // DAY_MS}"
    if bucket.daily_limit and days.get(day_key, 0) >= bucket.daily_limit:
        return Attempt(False, DAY_MS - now % DAY_MS, day_exhausted=True)
    wait = max(hold - now, 0)
    for window in bucket.windows:
        log = [at for at in logs.get(window.key, []) if at > now - window.window_ms]
        logs[window.key] = log
        if len(log) >= window.limit:
            wait = max(wait, log[0] + window.window_ms - now + 1)
    if bucket.tenant:
        waiting = state.setdefault("waiters", {}).setdefault(bucket.fairness_key, {})
        waiting[bucket.tenant] = now
        if wait == 0:
            mine = _used(state, bucket, bucket.tenant, now)
            for other, seen in list(waiting.items()):
                if now - seen > WAITER_STALE_MS:
                    del waiting[other]
                elif other != bucket.tenant and _used(state, bucket, other, now) < mine:
                    wait = YIELD_MS
    if wait:
        return Attempt(False, wait)
    for window in bucket.windows:
        logs[window.key].append(now)
    if bucket.daily_limit:
        days[day_key] = days.get(day_key, 0) + 1
        for stale in [key for key in days if not key.endswith(f":{now // DAY_MS}")]:
            del days[stale]
    if bucket.tenant:
        usage = state.setdefault("usage", {}).setdefault(bucket.fairness_key, {})
        usage[bucket.tenant] = (_used(state, bucket, bucket.tenant, now) + 1, now)
    return Attempt(True)


def _used(state: dict[str, Any], bucket: Bucket, who: str, now: int) -> float:
    usage = state.setdefault("usage", {}).setdefault(bucket.fairness_key, {})
    value, at = usage.get(who, (0.0, now))
    return value * 0.5 ** ((now - at) / bucket.half_life_ms)


def _wall_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class MemoryBackend:
    """The same algorithm in one process: tests, and the simulation on its virtual clock."""

    clock_ms: Callable[[], int] = _wall_ms
    state: dict[str, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def _state(self) -> Iterator[dict[str, Any]]:
        with self.lock:
            yield self.state

    def attempt(self, bucket: Bucket, member: str) -> Attempt:
        with self._state() as state:
            return _attempt(state, bucket, member, self.clock_ms())

    def used_today(self, daily_key: str) -> int:
        with self._state() as state:
            return state.get("days", {}).get(f"{daily_key}:{self.clock_ms() // DAY_MS}", 0)

    def exhaust_today(self, daily_key: str, limit: int) -> None:
        with self._state() as state:
            days = state.setdefault("days", {})
            days[f"{daily_key}:{self.clock_ms() // DAY_MS}"] = limit

    def hold(self, hold_key: str, ms: int) -> None:
        with self._state() as state:
            holds = state.setdefault("holds", {})
            holds[hold_key] = max(holds.get(hold_key, 0), self.clock_ms() + ms)


@dataclass
class FileBackend(MemoryBackend):
    """The same algorithm for every process of one machine without Redis (the demo's web
    process and worker together): the state is a JSON file, read and written under a lock."""

    path: Path = Path("limiter.json")

    @contextmanager
    def _state(self) -> Iterator[dict[str, Any]]:
        with self.lock, locked_json(self.path) as state:
            yield state


@dataclass(frozen=True)
class Limits:
    cc_per_second: int = 4
    cc_daily: int = 10_000
    qb_per_second: int = 10
    qb_per_minute: int = 500
    # Windows this much wider than the provider's: requests granted 1.25 s apart cannot
    # reach Constant Contact within its one second, whatever the network does on the way.
    margin: float = 1.25
    half_life_ms: int = 10_000
    hold_ms: int = 1_250  # after a 429, every process waits this long before the next call
    prefix: str = "ccsync:limits"

    @classmethod
    def from_settings(cls) -> "Limits":
        return cls(
            cc_per_second=settings.SYNC_CC_PER_SECOND,
            cc_daily=settings.SYNC_CC_DAILY_SHARE,
            qb_per_second=settings.SYNC_QB_PER_SECOND,
            qb_per_minute=settings.SYNC_QB_PER_MINUTE,
            half_life_ms=int(settings.SYNC_FAIRNESS_HALF_LIFE * 1000),
            prefix=settings.LIMITER_REDIS_PREFIX,
        )


Backend = RedisBackend | MemoryBackend


class Limiter:
    def __init__(self, backend: Backend, limits: Limits, *, clock: Clock = SYSTEM) -> None:
        """`clock`: how a caller waits for its turn (a MemoryBackend's own clock tells the
        windows' time; Redis' time tells the RedisBackend's)."""
        self.backend = backend
        self.limits = limits
        self.clock = clock
        self.daily_key = f"{limits.prefix}:cc:day"
        self.hold_key = f"{limits.prefix}:cc:hold"

    def _wait(self, bucket: Bucket) -> None:
        member = uuid.uuid4().hex
        while True:
            attempt = self.backend.attempt(bucket, member)
            if attempt.granted:
                return
            if attempt.day_exhausted:
                raise QuotaPaused(
                    until=next_utc_midnight(datetime.fromtimestamp(self.clock.time(), UTC))
                )
            self.clock.sleep(min(attempt.wait_ms, POLL_MS) / 1000)

    def _ms(self, seconds: float) -> int:
        return int(seconds * 1000 * self.limits.margin)

    def _constantcontact(self, tenant: str) -> Bucket:
        prefix = self.limits.prefix
        return Bucket(
            windows=(Window(f"{prefix}:cc:second", self.limits.cc_per_second, self._ms(1)),),
            daily_key=self.daily_key,
            daily_limit=self.limits.cc_daily,
            fairness_key=f"{prefix}:cc:fair",
            tenant=tenant,
            half_life_ms=self.limits.half_life_ms,
            hold_key=self.hold_key,
        )

    def acquire_constantcontact(self, *, tenant: str) -> None:
        """Block until this tenant may make one Constant Contact call."""
        self._wait(self._constantcontact(tenant))

    def attempt_constantcontact(self, *, tenant: str) -> Attempt:
        """One try, without waiting (the simulation of a day waits on its own clock)."""
        return self.backend.attempt(self._constantcontact(tenant), uuid.uuid4().hex)

    def _quickbooks(self, realm_id: str) -> Bucket:
        key = f"{self.limits.prefix}:qb:{realm_id}"
        return Bucket(
            windows=(
                Window(f"{key}:second", self.limits.qb_per_second, self._ms(1)),
                Window(f"{key}:minute", self.limits.qb_per_minute, self._ms(60)),
            ),
            daily_key=f"{key}:day",
        )

    def acquire_quickbooks(self, *, realm_id: str) -> None:
        """Block until one more QuickBooks call for this company stays within its limits."""
        self._wait(self._quickbooks(realm_id))

    def attempt_quickbooks(self, *, realm_id: str) -> Attempt:
        """One try, without waiting."""
        return self.backend.attempt(self._quickbooks(realm_id), uuid.uuid4().hex)

    def constantcontact_hook(self, *, tenant: str) -> Callable[[str], None]:
        """The clients' `before_request` hook for one tenant's Constant Contact calls."""
        return lambda endpoint: self.acquire_constantcontact(tenant=tenant)

    def quickbooks_hook(self, *, realm_id: str) -> Callable[[str], None]:
        return lambda endpoint: self.acquire_quickbooks(realm_id=realm_id)

    def constantcontact_used_today(self) -> int:
        return self.backend.used_today(self.daily_key)

    def exhaust_constantcontact_today(self) -> None:
        """Constant Contact answered quota_exceeded: every worker stops until midnight UTC."""
        self.backend.exhaust_today(self.daily_key, self.limits.cc_daily)

    def constantcontact_throttled(self) -> None:
        """Constant Contact answered 429 throttled all the same: the whole app slows, not one
        company (our window and theirs never line up exactly). Not for a bulk activity's 429
        "1,000 queued activities for this user account": that account's run waits alone."""
        self.backend.hold(self.hold_key, self.limits.hold_ms)


@functools.cache
def _file_backend(path: str) -> FileBackend:
    return FileBackend(path=Path(path))


@functools.cache
def _redis_backend(url: str) -> RedisBackend:
    return RedisBackend(url)


def get_limiter() -> Limiter:
    """The app's limiter: in Redis when REDIS_URL is set, else a file every process of the
    machine shares (the demo's web process and worker count their calls together)."""
    url = settings.REDIS_URL
    backend = _redis_backend(url) if url else _file_backend(str(settings.LIMITER_FILE))
    return Limiter(backend, Limits.from_settings())

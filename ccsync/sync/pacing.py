"""The daily pacer: Constant Contact's share of calls made to last the whole UTC day, for
every company, fairly.

The binding limit of the product is Constant Contact's quota: one API key, 10,000 calls a
day and 4 a second for all companies together (integrations/limiter.py holds the 4 a
second and counts the day). The pacer decides when a company's changes may run:
- The pace: what is left of the day's share, less a reserve kept for first syncs (released
  through the day, a fifth of it kept to midnight), spread over the hours left as companies
  asked for runs hour by hour the day before (evenly on a first day). Runs spend from a
  bucket that fills at that pace (up to `burst` calls), each costing what runs of changes have
  cost lately. While the day holds more than it is expected to spend (as it spent hour by
  hour the days before) nobody waits: changes run seconds after they arrive. As demand
  grows they wait, gather more changes and cost fewer calls per edit, so the share lasts
  until midnight.
- Fair: the waiting company served least recently goes first (a company that used little
  goes before one that used much; a heavy company gets one run in turn like everyone, so
  it cannot starve the others, and it is never starved: its turn comes).
- First syncs of new installs and full checks do not wait for the pace: the reserve is
  theirs.
- The freshness of unsubscribes and how long confirmations may wait follow the pressure
  (how long a company waits now, against `pressure_delay`): short while calls are plenty.

The same code runs in production (its state in Redis, shared by every process), in the demo
(a file under a lock, shared by the web process and the worker) and in the simulation of a
day (bench/simulate_day.py: in memory, on a virtual clock).
"""

import functools
import json
import threading
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import redis
from django.conf import settings

from integrations.clock import SYSTEM, Clock
from integrations.limiter import get_limiter
from integrations.shared_file import locked_json

DAY = 86_400.0
# An account whose imports were never timed: asked early (then at doubling intervals, see
# kinds.await_confirmations) rather than left waiting on a guess too slow.
UNKNOWN_SECONDS_PER_ROW = 0.001
PaceState = MutableMapping[str, Any]
# The sync's clock: the pacer's day and the pauses of a run waiting for Constant Contact
# (tests give their own).
CLOCK: Clock = SYSTEM


@dataclass(frozen=True)
class Policy:
    share: int = 9_500  # Constant Contact calls a UTC day for the app (SYNC_CC_DAILY_SHARE)
    reserve: int = 500  # of them, kept for first syncs and full checks
    burst: float = 40.0  # calls the pace may spend at once
    min_window: float = 2.0  # seconds a company's changes are gathered at least
    run_cost: float = 1.3  # the expected calls of a run of changes, until some were measured
    pressure_delay: float = 2 * 3600.0  # a company waiting this long means full pressure
    unsubscribes_fresh: tuple[float, float] = (4 * 3600.0, 24 * 3600.0)  # at 0 and 1 pressure
    confirm_after: tuple[float, float] = (4 * 3600.0, 12 * 3600.0)


@dataclass(frozen=True)
class ChangePlan:
    """What a run of changes asks Constant Contact besides its imports."""

    read_unsubscribes: bool
    confirm: bool


@dataclass(frozen=True)
class Snapshot:
    """The operator's view of the day."""

    spent: int
    share: int
    projected: int  # at midnight, at the last hour's rate
    pace: float  # calls a second the pace allows now
    tokens: float
    waiting: int
    oldest_wait: float  # seconds
    window: float  # seconds a company's changes wait now (its change window)
    pressure: float


def _lerp(bounds: tuple[float, float], weight: float) -> float:
    low, high = bounds
    return low + (high - low) * min(max(weight, 0.0), 1.0)


def plan_changes(
    *,
    policy: Policy,
    pressure: float,
    now: float,
    unsubscribes_read_at: float | None,
    oldest_unconfirmed: float | None,
) -> ChangePlan:
    """Whether a run of changes reads unsubscribes first, and confirms the imports waiting.

    Unsubscribes are read when older than their freshness (4 hours while calls are plenty,
    up to 24 under pressure); waiting imports are confirmed when the oldest has waited its
    time (4 to 12 hours), or along with an unsubscribe read (the same account, the same
    moment)."""
    read = unsubscribes_read_at is None or now - unsubscribes_read_at >= _lerp(
        policy.unsubscribes_fresh, pressure
    )
    due = oldest_unconfirmed is not None and (
        read or now - oldest_unconfirmed >= _lerp(policy.confirm_after, pressure)
    )
    return ChangePlan(read_unsubscribes=read, confirm=due)


def confirmation_overdue(*, policy: Policy, pressure: float, now: float, oldest: float) -> bool:
    """Imports nobody's run confirmed in time (a company that edits no more today): beat
    confirms them itself once they have waited twice their time."""
    return now - oldest >= 2 * _lerp(policy.confirm_after, pressure)


def check_after(*, rows: int, seconds_per_row: float | None, queued_rows: int = 0) -> float:
    """Seconds after sending an import to ask whether it is done: its rows, and those queued
    before it, at the pace the account's imports went lately."""
    per_row = seconds_per_row if seconds_per_row is not None else UNKNOWN_SECONDS_PER_ROW
    return 2.0 + per_row * (rows + queued_rows)


# --- where the pacer keeps its state ----------------------------------------------------------


class Store(Protocol):
    def transaction(self) -> Any:
        """A context manager yielding the state, saved when the block ends."""


class MemoryStore:
    """One process (the simulation, tests)."""

    def __init__(self) -> None:
        self.state: dict[str, Any] = {}
        self._lock = threading.Lock()

    @contextmanager
    def transaction(self) -> Iterator[PaceState]:
        with self._lock:
            yield self.state


class FileStore:
    """Every process of one machine (the demo without Redis): a JSON file under a lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def transaction(self) -> Iterator[PaceState]:
        with locked_json(self.path) as state:
            yield state


class RedisStore:
    """Every process on every host: a JSON value under a Redis lock."""

    def __init__(self, client: Any, key: str) -> None:
        self.client, self.key = client, key

    @contextmanager
    def transaction(self) -> Iterator[PaceState]:
        with self.client.lock(f"{self.key}:lock", timeout=10, blocking_timeout=10):
            raw = self.client.get(self.key)
            state = json.loads(raw) if raw else {}
            yield state
            self.client.set(self.key, json.dumps(state), ex=2 * int(DAY))


# --- the pacer ------------------------------------------------------------------------------


@dataclass
class Pacer:
    store: Store
    policy: Policy
    spent_today: Callable[[], int]  # the limiter's count of today's calls
    clock: Callable[[], float]  # seconds since the epoch
    _marks_every: float = field(default=300.0)

    def offer(self, tenant: str) -> bool:
        """A company's changes are ready: whether they may run now. If not, the company
        waits its turn and `release` names it when it comes."""
        now, spent = self.clock(), self.spent_today()
        with self.store.transaction() as state:
            self._refill(state, now, spent)
            state["hours"][int(now % DAY // 3600)] += 1
            waiting = state.setdefault("waiting", {})
            if tenant in waiting:
                return False
            if not waiting and self._room(state, now, spent) >= self._cost(state):
                self._serve(state, tenant, now, spent)
                return True
            waiting[tenant] = now
            return False

    def release(self) -> list[str]:
        """The waiting companies whose turn has come, most deserving first."""
        now, spent = self.clock(), self.spent_today()
        with self.store.transaction() as state:
            self._refill(state, now, spent)
            waiting: dict[str, float] = state.setdefault("waiting", {})
            cost = self._cost(state)
            turn = int(self._room(state, now, spent) // cost) if waiting else 0
            if turn <= 0:
                return []
            served = state.setdefault("served", {})
            chosen = sorted(waiting, key=lambda t: (served.get(t, 0.0), waiting[t]))[:turn]
            for tenant in chosen:
                del waiting[tenant]
                self._serve(state, tenant, now, spent)
            return chosen

    def forget(self, tenant: str) -> None:
        """The company no longer waits (paused, disconnected, nothing left to send)."""
        with self.store.transaction() as state:
            state.setdefault("waiting", {}).pop(tenant, None)

    def is_waiting(self, tenant: str) -> bool:
        with self.store.transaction() as state:
            return tenant in state.get("waiting", {})

    def run_cost(self, calls: int) -> None:
        """A run of changes ended having made `calls` Constant Contact calls: what the next
        ones are expected to cost."""
        with self.store.transaction() as state:
            state["cost"] = 0.95 * self._cost(state) + 0.05 * calls

    def pressure(self) -> float:
        snapshot = self.snapshot()
        return snapshot.pressure

    def snapshot(self) -> Snapshot:
        now, spent = self.clock(), self.spent_today()
        with self.store.transaction() as state:
            self._refill(state, now, spent)
            waiting: dict[str, float] = state.get("waiting", {})
            pace = self._pace(state, now, spent)
            cost = self._cost(state)
            backlog = max(len(waiting) * cost - state["tokens"], 0.0)
            window = self.policy.min_window + (backlog / pace if pace > 0 else DAY)
            oldest = max((now - since for since in waiting.values()), default=0.0)
            return Snapshot(
                spent=spent,
                share=self.policy.share,
                projected=self._projected(state, now, spent),
                pace=pace,
                tokens=state["tokens"],
                waiting=len(waiting),
                oldest_wait=oldest,
                window=min(window, DAY),
                pressure=min(max(oldest, window) / self.policy.pressure_delay, 1.0),
            )

    # --- inside a transaction ---

    def _left(self, now: float, spent: int) -> float:
        """Calls runs of changes may still spend today: the share less the reserve still due."""
        # A fifth of the reserve stays to the last minute: an install at 23:59 starts too.
        reserve_left = self.policy.reserve * max((DAY - now % DAY) / DAY, 0.2)
        return max(self.policy.share - spent - reserve_left, 0.0)

    def _pace(self, state: PaceState, now: float, spent: int) -> float:
        """What is left, spread over the rest of the day as companies asked for runs hour by
        hour on the days before (evenly on the first day): the calls go where the demand is,
        the afternoon of the Americas, not to the night."""
        weights = _weights(state.get("profile"))
        hour, into = int(now % DAY // 3600), now % 3600
        rest = weights[hour] * (3600 - into) + 3600 * sum(weights[hour + 1 :])
        return self._left(now, spent) * weights[hour] / rest

    def _refill(self, state: PaceState, now: float, spent: int) -> None:
        day = int(now // DAY)
        if state.get("day") != day:  # a new UTC day: a full bucket, everyone served afresh
            state.update(
                day=day,
                tokens=self.policy.burst,
                at=now,
                served={},
                marks=[],
                profile=_learn(state.get("profile"), state.get("hours"), state.get("day"), day),
                spend=_learn(state.get("spend"), state.get("calls"), state.get("day"), day),
                hours=[0] * 24,
                calls=[0] * 24,
                counted=spent,
            )
        for key in ("hours", "calls"):  # a state an older release wrote today has none
            state.setdefault(key, [0] * 24)
        # Calls spent since the last look, in this hour's count (for tomorrow's slack).
        state["calls"][int(now % DAY // 3600)] += max(spent - state.get("counted", spent), 0)
        state["counted"] = spent
        elapsed = max(now - state["at"], 0.0)
        tokens = min(state["tokens"] + elapsed * self._pace(state, now, spent), self.policy.burst)
        state["tokens"] = min(tokens, self._left(now, spent))  # never past the share
        state["at"] = now
        marks = state.setdefault("marks", [])
        if not marks or now - marks[-1][0] >= self._marks_every:
            marks.append([now, spent])
            del marks[: max(len(marks) - 13, 0)]  # an hour of marks, five minutes apart

    def _slack(self, state: PaceState, now: float, spent: int) -> float:
        """Calls today's share holds beyond what the rest of the day is expected to spend (as
        the days before spent, hour by hour): while there are some, nobody need wait."""
        spend = state.get("spend")
        if not spend:
            return 0.0
        hour, into = int(now % DAY // 3600), now % 3600
        expected = spend[hour] * (3600 - into) / 3600 + sum(spend[hour + 1 :])
        return self._left(now, spent) - state["tokens"] - expected

    def _room(self, state: PaceState, now: float, spent: int) -> float:
        """Calls runs may spend now: the bucket, and the day's slack."""
        return state["tokens"] + max(self._slack(state, now, spent), 0.0)

    def _serve(self, state: PaceState, tenant: str, now: float, spent: int) -> None:
        cost = self._cost(state)
        if state["tokens"] >= cost or self._slack(state, now, spent) < cost:
            state["tokens"] -= cost  # from the bucket; else from the slack (spent counts it)
        state.setdefault("served", {})[tenant] = now

    def _cost(self, state: PaceState) -> float:
        return float(state.get("cost", self.policy.run_cost))

    def _projected(self, state: PaceState, now: float, spent: int) -> int:
        marks = state.get("marks", [])
        if not marks or now - marks[0][0] < 60:
            return spent
        rate = (spent - marks[0][1]) / (now - marks[0][0])
        return int(spent + rate * (DAY - now % DAY))


def _weights(profile: list[float] | None) -> list[float]:
    """Each hour's share of the day's demand; a quiet hour keeps some pace (a tenth of the
    busiest's), so a company that edits at night still gets its turn."""
    if not profile or max(profile) <= 0:
        return [1.0] * 24
    floor = max(profile) / 10
    return [max(value, floor) for value in profile]


def _learn(
    profile: list[float] | None, hours: list[int] | None, last: int | None, day: int
) -> list[float] | None:
    """Yesterday's figures by hour folded into what was known (days apart forget it)."""
    if not hours or last != day - 1:
        return profile
    if not profile:
        return [float(count) for count in hours]
    return [0.5 * known + 0.5 * count for known, count in zip(profile, hours, strict=True)]


def utc_seconds(moment: datetime | None = None) -> float:
    return (moment or datetime.now(UTC)).timestamp()


def policy_from_settings() -> Policy:
    return Policy(
        share=settings.SYNC_CC_DAILY_SHARE,
        reserve=settings.SYNC_CC_RESERVE,
        burst=settings.SYNC_PACE_BURST,
        min_window=settings.SYNC_COALESCE_SECONDS,
        unsubscribes_fresh=tuple(settings.SYNC_UNSUBSCRIBES_FRESH_SECONDS),
        confirm_after=tuple(settings.SYNC_CONFIRM_AFTER_SECONDS),
    )


@functools.cache
def _store(redis_url: str, key: str, file: str) -> Store:
    if redis_url:
        return RedisStore(redis.Redis.from_url(redis_url), key)
    return FileStore(Path(file))


def get_pacer() -> Pacer:
    """The app's pacer: its state in Redis when REDIS_URL is set, else in a file every
    process of the machine shares (as the limiter's)."""
    limiter = get_limiter()
    return Pacer(
        store=_store(settings.REDIS_URL, settings.PACER_REDIS_KEY, str(settings.PACER_FILE)),
        policy=policy_from_settings(),
        spent_today=limiter.constantcontact_used_today,
        clock=CLOCK.time,
    )

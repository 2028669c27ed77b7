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
- Unsubscribes as fresh as the day allows: while the day's slack (what the share holds
  beyond what the rest of the day is expected to need, as the days before needed it hour
  by hour) pays for a read before every run of changes still expected today, with a margin
  kept back, each run of changes reads them first (1 call). Those reads are counted apart
  and left out of what tomorrow expects to need, so spending the slack on them never eats
  the slack edits need; a day busier than the days before by the same hour, a company
  waiting its turn, or the last minutes using much of the 4 calls a second stop them.
  Otherwise unsubscribes are read when older than 4 hours, up to 24 under pressure.
- How long confirmations may wait follows the pressure too (how long a company waits now,
  against `pressure_delay`): short while calls are plenty.

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
    # Of the need still expected today, what the slack keeps back before it pays for reading
    # unsubscribes before every run of changes (yesterday's need is only a guess of today's).
    fresh_margin: float = 0.2
    # Constant Contact's calls a second (SYNC_CC_PER_SECOND), and the share of them the last
    # minutes may have used for the slack to pay for reads: past it, the second is what edits
    # lack (a read a run doubles the calls a second, and bursts would queue at the limiter).
    per_second: float = 4.0
    fresh_busy: float = 0.15
    confirm_after: tuple[float, float] = (4 * 3600.0, 12 * 3600.0)


@dataclass(frozen=True)
class ChangePlan:
    """What a run of changes asks Constant Contact besides its imports."""

    read_unsubscribes: bool
    confirm: bool
    slack_pays: bool = False  # the read is not due yet: the day's slack pays for it


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
    unsubscribes_fresh: float  # how old a run's unsubscribes may be now; 0: read before each


def _lerp(bounds: tuple[float, float], weight: float) -> float:
    low, high = bounds
    return low + (high - low) * min(max(weight, 0.0), 1.0)


def plan_changes(
    *,
    policy: Policy,
    pressure: float,
    slack_pays: bool,
    now: float,
    unsubscribes_read_at: float | None,
    oldest_unconfirmed: float | None,
) -> ChangePlan:
    """Whether a run of changes reads unsubscribes first, and confirms the imports waiting.

    Unsubscribes are read before every run while the day's slack pays for it (`slack_pays`,
    the pacer's word), else when older than their freshness (4 hours while calls are
    plenty, up to 24 under pressure). Waiting imports are confirmed when the oldest has
    waited its time (4 to 12 hours), or along with a read that was due (the same account,
    the same moment); a read the slack pays for costs its one call and no more."""
    due = unsubscribes_read_at is None or now - unsubscribes_read_at >= freshness(
        policy=policy, pressure=pressure, slack_pays=False
    )
    confirm = oldest_unconfirmed is not None and (
        due or now - oldest_unconfirmed >= _lerp(policy.confirm_after, pressure)
    )
    return ChangePlan(
        read_unsubscribes=due or slack_pays, confirm=confirm, slack_pays=slack_pays and not due
    )


def freshness(*, policy: Policy, pressure: float, slack_pays: bool) -> float:
    """How old a run of changes' unsubscribes may be, in seconds: 0 (read before each run)
    while the day's slack pays for it, else 4 hours up to 24 as the pressure grows."""
    return 0.0 if slack_pays else _lerp(policy.unsubscribes_fresh, pressure)


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

    def plan(
        self, *, unsubscribes_read_at: float | None, oldest_unconfirmed: float | None
    ) -> ChangePlan:
        """A run of changes' plan (`plan_changes`) for the day as it stands now. A read the
        slack pays for is counted in this hour's slack reads: left out of the need the next
        days expect, it never makes tomorrow's slack look smaller."""
        now, spent = self.clock(), self.spent_today()
        with self.store.transaction() as state:
            self._refill(state, now, spent)
            plan = plan_changes(
                policy=self.policy,
                pressure=self._pressure(state, now, spent),
                slack_pays=self._slack_pays(state, now, spent),
                now=now,
                unsubscribes_read_at=unsubscribes_read_at,
                oldest_unconfirmed=oldest_unconfirmed,
            )
            if plan.slack_pays:
                state["slack_reads"][int(now % DAY // 3600)] += 1
            return plan

    def run_cost(self, calls: int) -> None:
        """A run of changes ended having made `calls` Constant Contact calls (a read the
        slack paid for apart): what the next ones are expected to cost."""
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
            pressure = self._pressure(state, now, spent)
            return Snapshot(
                spent=spent,
                share=self.policy.share,
                projected=self._projected(state, now, spent),
                pace=self._pace(state, now, spent),
                tokens=state["tokens"],
                waiting=len(waiting),
                oldest_wait=self._oldest_wait(state, now),
                window=self._window(state, now, spent),
                pressure=pressure,
                unsubscribes_fresh=freshness(
                    policy=self.policy,
                    pressure=pressure,
                    slack_pays=self._slack_pays(state, now, spent),
                ),
            )

    # --- inside a transaction ---

    def _window(self, state: PaceState, now: float, spent: int) -> float:
        """Seconds a company's changes wait now: the backlog of those waiting, at the pace."""
        pace = self._pace(state, now, spent)
        backlog = max(len(state.get("waiting", {})) * self._cost(state) - state["tokens"], 0.0)
        return min(self.policy.min_window + (backlog / pace if pace > 0 else DAY), DAY)

    def _oldest_wait(self, state: PaceState, now: float) -> float:
        return max((now - since for since in state.get("waiting", {}).values()), default=0.0)

    def _pressure(self, state: PaceState, now: float, spent: int) -> float:
        wait = max(self._oldest_wait(state, now), self._window(state, now, spent))
        return min(wait / self.policy.pressure_delay, 1.0)

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
                spend=_learn(state.get("spend"), _needed(state), state.get("day"), day),
                hours=[0] * 24,
                calls=[0] * 24,
                slack_reads=[0] * 24,
                counted=spent,
            )
        for key in ("hours", "calls", "slack_reads"):  # a state an older release wrote has none
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
        """Calls today's share holds beyond what the rest of the day is expected to need (as
        the days before spent, hour by hour, the reads their slack paid for apart): while
        there are some, nobody need wait."""
        spend = state.get("spend")
        if not spend:
            return 0.0
        return self._left(now, spent) - state["tokens"] - _rest_of_day(spend, now)

    def _slack_pays(self, state: PaceState, now: float, spent: int) -> bool:
        """Whether the slack holds a read of unsubscribes for every run of changes still
        expected today (as many as companies asked for the days before, hour by hour), with
        a margin of the need still expected kept back. All of them or none: reading them for
        the morning's runs never leaves the afternoon's edits waiting, nor does any read
        while a company waits its turn. A day busier than the days before by this hour is
        expected to stay so to midnight: its need and its runs grow alike, so the reads stop
        before they spend what its edits will need."""
        spend, asked = state.get("spend"), state.get("profile")
        if not spend or not asked or state.get("waiting"):
            return False  # the first day has nothing to measure the slack against
        if self._recent_rate(state, now, spent) > self.policy.fresh_busy * self.policy.per_second:
            return False  # the day has calls to spare, but not this minute
        trend = self._trend(state, spend, now)
        need = trend * _rest_of_day(spend, now)
        slack = self._left(now, spent) - state["tokens"] - need
        return slack - self.policy.fresh_margin * need >= trend * _rest_of_day(asked, now)

    def _recent_rate(self, state: PaceState, now: float, spent: int) -> float:
        """Calls a second since the latest mark a minute old at least (1 to 6 minutes)."""
        marks = [mark for mark in state.get("marks", []) if now - mark[0] >= 60]
        if not marks:
            return 0.0
        at, then = marks[-1]
        return (spent - then) / (now - at)

    def _trend(self, state: PaceState, spend: list[float], now: float) -> float:
        """Today's need so far against the days before's by this time of day, never below 1
        (a quiet morning does not promise a quiet afternoon); a burst's worth of calls on
        both sides keeps the first minutes of a day from reading much into a few calls."""
        today = sum(_needed(state) or [])
        before = sum(spend) - _rest_of_day(spend, now)
        return max((today + self.policy.burst) / (before + self.policy.burst), 1.0)

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


def _rest_of_day(by_hour: list[float], now: float) -> float:
    """What an hourly figure adds up to from `now` to midnight."""
    hour, into = int(now % DAY // 3600), now % 3600
    return by_hour[hour] * (3600 - into) / 3600 + sum(by_hour[hour + 1 :])


def _needed(state: PaceState) -> list[int] | None:
    """The day's calls by hour, less the unsubscribe reads its slack paid for."""
    calls = state.get("calls")
    if not calls:
        return calls
    reads = state.get("slack_reads") or [0] * 24
    return [max(spent - read, 0) for spent, read in zip(calls, reads, strict=True)]


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
        per_second=settings.SYNC_CC_PER_SECOND,
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

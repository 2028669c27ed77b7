"""The world of the simulated day: its clock's days, the fake Constant Contact, and the
companies with what they do over their business hours."""

import math
import random
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field

from ccsync.sync import pacing

DAY = pacing.DAY
START = 1_796_083_200.0  # 2026-12-01 00:00 UTC: a day the pacer learns the day's shape from
MEASURED = START + DAY  # 2026-12-02: the day measured
DRAIN = 6 * 3600.0  # after its midnight, no new edits: the day's last changes are delivered

# UTC offsets of QuickBooks Online companies (December), and how many companies each has.
TIME_ZONES = ((-5, 35), (-6, 22), (-7, 8), (-8, 17), (-10, 1), (0, 8), (1, 2), (11, 5), (13, 2))
HEAVY_SHARE, BULK_SHARE = 0.10, 0.02
PUT_SHARE = 0.01  # edits that change an email or empty a field: GET + PUT, not an import
UNSUBSCRIBE_PAGE = 500  # contacts a page of the unsubscribed read
CC_LATENCY = (0.05, 0.25)  # seconds on the way to Constant Contact
CC_ANSWER = 0.15  # seconds Constant Contact takes to answer
QB_READ = 0.6  # seconds of QuickBooks reads before a run's first import
RECHECK_MAX = 120.0  # as ccsync/sync/kinds.py (which needs a database) asks again at most


# --- the fake Constant Contact ------------------------------------------------------------


@dataclass
class FakeConstantContact:
    """Counts calls as they arrive; answers 429 as the real one would."""

    per_second: int = 4
    per_day: int = 10_000
    arrivals: deque = field(default_factory=deque)
    days: Counter = field(default_factory=Counter)
    today: int = 0  # of the day measured
    throttled: int = 0
    over_quota: int = 0
    peak: int = 0

    def call(self, at: float) -> str:
        """A call arriving at `at`: "answered", or 429 as "throttled" or "quota" (the day's
        requests used up)."""
        while self.arrivals and self.arrivals[0] <= at - 1.0:
            self.arrivals.popleft()
        day = int(at // DAY)
        self.days[day] += 1
        measured = MEASURED <= at < MEASURED + DAY
        self.today += measured
        if len(self.arrivals) >= self.per_second:
            self.throttled += measured
            return "throttled"
        if self.days[day] > self.per_day:
            self.over_quota += measured
            return "quota"
        self.arrivals.append(at)
        self.peak = max(self.peak, len(self.arrivals))
        return "answered"


# --- companies and what they do -----------------------------------------------------------


@dataclass
class Company:
    key: str
    offset: int
    heavy: bool
    seconds_per_row: float  # how fast Constant Contact processes this account's imports
    pending: list[tuple[float, bool]] = field(default_factory=list)  # (arrival, needs a PUT)
    claimed: bool = False  # a change window is open or the company waits its turn
    running: bool = False
    slack_read: bool = False  # the running run's unsubscribe read, paid by the day's slack
    unsubscribes_read_at: float | None = None
    imports: list[tuple[float, float]] = field(default_factory=list)  # (sent, done) waiting
    edits: int = 0
    latencies: list[float] = field(default_factory=list)
    unsubscribes_ages: list[float] = field(default_factory=list)  # at each run's first send


def business_hours(rng: random.Random, offset: int) -> float:
    """A moment of the day's business hours (09:00-17:00 local), in seconds after 00:00 UTC."""
    return ((9 - offset) * 3600 + rng.uniform(0, 8 * 3600)) % DAY


def day_of_edits(rng: random.Random, company: Company) -> Iterator[tuple[float, bool]]:
    """When the company's webhooks arrive today, and whether each needs a PUT."""
    count = rng.randint(100, 200) if company.heavy else _poisson(rng, 10)
    while count > 0:
        moment = business_hours(rng, company.offset)
        burst = rng.randint(5, 30) if company.heavy and rng.random() < 0.2 else 1
        for step in range(min(burst, count)):
            yield moment + step * rng.uniform(5, 40), rng.random() < PUT_SHARE
        count -= burst
    if rng.random() < BULK_SHARE:  # a spreadsheet imported into QuickBooks
        moment = business_hours(rng, company.offset)
        rows = rng.randint(100, 1_000)  # new customers: imported, never a PUT
        yield from ((moment + rng.uniform(0, 120), False) for _ in range(rows))


def _poisson(rng: random.Random, mean: float) -> int:
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def make_companies(rng: random.Random, count: int) -> list[Company]:
    zones = [offset for offset, weight in TIME_ZONES for _ in range(weight)]
    return [
        Company(
            key=str(n),
            offset=rng.choice(zones),
            heavy=rng.random() < HEAVY_SHARE,
            seconds_per_row=rng.uniform(0.005, 0.03),
        )
        for n in range(count)
    ]

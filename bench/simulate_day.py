"""A day of the whole deployment on a virtual clock: does one Constant Contact key last?

    python -m bench.simulate_day [--companies 300 1000 3000] [--share 9500] [--seed 1]

The real pacer (ccsync/sync/pacing.py: the bucket, the turns, the plan of each run of
changes, overdue confirmations, when to check an import) and the real limiter
(integrations/limiter.py, its in-memory backend on the virtual clock), configured from the
app's settings, drive a fake Constant Contact that answers as the real one does: 429 past
4 calls in any second, and past 10,000 calls in the UTC day; imports processed at each
account's pace. No sleeping, no HTTP, no database: what the app's scheduler does around the
pacer (events.py: a change window claimed by the first webhook, its end offering the
company to the pacer, beat's dispatch every 2 s, one run at a time per company, a run that
ends with changes left schedules the next) is replayed here step for step.

The day: each company edits customers over its business hours (09:00-17:00 local, in the
time zones of QuickBooks Online's users), a typical one about 10 times a business day at
random times, 10% heavy ones 100-200 times, some in bursts; 2% import a spreadsheet (a
burst of 100-1,000 changes in a couple of minutes); new installs arrive through the day,
each with a first sync of up to 10,000 customers. Latency is measured from the webhook's
arrival to the answer of the import that carries the change.

Writes its table to bench/results/simulate_day.md.
"""

import argparse
import heapq
import itertools
import math
import os
import random
import sys
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from django.conf import settings

from bench.report import Row, percentile, render
from ccsync.sync import pacing
from integrations.limiter import POLL_MS, Limiter, Limits, MemoryBackend

DAY = pacing.DAY
START = 1_796_083_200.0  # 2026-12-01 00:00 UTC: a day the pacer learns the day's shape from
MEASURED = START + DAY  # 2026-12-02: the day measured
DRAIN = 6 * 3600.0  # after its midnight, no new edits: the day's last changes are delivered
OUTPUT = Path(__file__).resolve().parent / "results" / "simulate_day.md"

# UTC offsets of QuickBooks Online companies (December), and how many companies each has.
TIME_ZONES = ((-5, 35), (-6, 22), (-7, 8), (-8, 17), (-10, 1), (0, 8), (1, 2), (11, 5), (13, 2))
HEAVY_SHARE, BULK_SHARE = 0.10, 0.02
PUT_SHARE = 0.01  # edits that change an email or empty a field: GET + PUT, not an import
UNSUBSCRIBE_PAGE = 500  # contacts a page of the unsubscribed read
CC_LATENCY = (0.05, 0.25)  # seconds on the way to Constant Contact
CC_ANSWER = 0.15  # seconds Constant Contact takes to answer
QB_READ = 0.6  # seconds of QuickBooks reads before a run's first import
RECHECK_MAX = 120.0


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
    unsubscribes_read_at: float | None = None
    imports: list[tuple[float, float]] = field(default_factory=list)  # (sent, done) waiting
    known_per_row: float | None = None
    edits: int = 0
    latencies: list[float] = field(default_factory=list)
    calls: int = 0


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


# --- the simulation -----------------------------------------------------------------------


@dataclass
class Install:
    at: float
    customers: int
    started: float | None = None


class Simulation:
    """One day; `run()` returns its figures."""

    def __init__(self, *, companies: int, share: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.now = START
        self.queue: list[tuple[float, int, Callable[[], None]]] = []
        self.order = itertools.count()
        limits = Limits.from_settings()
        self.limiter = Limiter(
            MemoryBackend(clock_ms=lambda: int(self.now * 1000)),
            Limits(**{**limits.__dict__, "cc_daily": share}),
        )
        self.policy = replace(pacing.policy_from_settings(), share=share)
        self.pacer = pacing.Pacer(
            store=pacing.MemoryStore(),
            policy=self.policy,
            spent_today=self.limiter.constantcontact_used_today,
            clock=lambda: self.now,
        )
        self.cc = FakeConstantContact(per_day=max(share, 10_000))  # a raised quota, raised
        self.companies = make_companies(self.rng, companies)
        self.installs: list[Install] = []
        self.change_runs = 0
        self.calls: Counter[str] = Counter()  # by purpose: changes, overdue, first
        self.exhausted_at: float | None = None
        self.snapshots: list[pacing.Snapshot] = []

    def at(self, moment: float, action: Callable[[], None]) -> None:
        heapq.heappush(self.queue, (moment, next(self.order), action))

    def run(self) -> "Figures":
        self._plan_the_day()
        end = MEASURED + DAY + DRAIN
        while self.queue and self.queue[0][0] <= end:
            self.now, _, action = heapq.heappop(self.queue)
            action()
        return Figures.of(self)

    def _plan_the_day(self) -> None:
        for day in (START, MEASURED):
            for company in self.companies:
                for moment, put in day_of_edits(self.rng, company):
                    self.at(day + moment, lambda c=company, p=put: self.webhook(c, put=p))
            for _ in range(max(3, len(self.companies) // 50)):
                install = Install(at=day + self.rng.uniform(0, DAY), customers=self._size())
                self.installs.append(install)
                self.at(install.at, lambda i=install: self.first_sync(i))
        self._every(settings.SYNC_DISPATCH_SECONDS, self.dispatch, START, 2 * DAY + DRAIN)
        self._every(600.0, self.confirm_overdue, START, 2 * DAY + DRAIN)
        self._every(900.0, lambda: self.snapshots.append(self.pacer.snapshot()), MEASURED, DAY)

    def _every(self, seconds: float, action: Callable[[], None], since: float, length: float):
        for tick in range(int(length // seconds)):
            self.at(since + tick * seconds, action)

    def measured(self, moment: float | None = None) -> bool:
        moment = self.now if moment is None else moment
        return MEASURED <= moment < MEASURED + DAY

    def _size(self) -> int:
        """Customers of a new install: most have a few hundred, some the cap."""
        return min(int(self.rng.paretovariate(0.8) * 200), 10_000)

    # --- ccsync/sync/events.py, replayed

    def webhook(self, company: Company, *, put: bool) -> None:
        company.edits += self.measured()
        company.pending.append((self.now, put))
        self.schedule_changes(company)

    def schedule_changes(self, company: Company) -> None:
        if not company.claimed and not company.running:
            company.claimed = True
            self.at(self.now + self.policy.min_window, lambda: self.start_changes(company))

    def start_changes(self, company: Company) -> None:
        if not company.pending:
            company.claimed = False
            self.pacer.forget(company.key)
        elif self.pacer.offer(company.key):
            self.change_run(company)

    def dispatch(self) -> None:
        for key in self.pacer.release():
            self.change_run(self.companies[int(key)])

    def confirm_overdue(self) -> None:
        pressure = self.pacer.pressure()
        for company in self.companies:
            if (
                company.imports
                and not company.running
                and pacing.confirmation_overdue(
                    policy=self.policy,
                    pressure=pressure,
                    now=self.now,
                    oldest=company.imports[0][0],
                )
            ):
                self.process(self.confirmation(company), tenant=company.key, purpose="overdue")

    # --- ccsync/sync/kinds.py, replayed: a run yields its calls ("qb" and pauses take time)

    def change_run(self, company: Company) -> None:
        company.claimed, company.running = False, True
        self.change_runs += self.measured()
        self.process(
            self.changes(company),
            tenant=company.key,
            purpose="changes",
            done=lambda calls: self._run_ended(company, calls),
        )

    def changes(self, company: Company) -> Iterator[str | float]:
        plan = pacing.plan_changes(
            policy=self.policy,
            pressure=self.pacer.pressure(),
            now=self.now,
            unsubscribes_read_at=company.unsubscribes_read_at,
            oldest_unconfirmed=company.imports[0][0] if company.imports else None,
        )
        if plan.read_unsubscribes:
            yield "unsubscribes"
            company.unsubscribes_read_at = self.now
        if plan.confirm:
            yield from self.confirmation(company)
        yield "qb"
        sent = list(company.pending)
        company.pending.clear()
        puts = sum(put for _, put in sent)
        for _ in range(puts):
            yield from ("get", "put")
        if len(sent) > puts:
            yield "import"
            company.imports.append(self._import(company, rows=len(sent) - puts))
        company.latencies += [self.now - a for a, _ in sent if self.measured(a)]

    def _run_ended(self, company: Company, calls: int) -> None:
        company.running = False
        self.pacer.run_cost(calls)
        if company.pending:
            self.schedule_changes(company)

    def _import(self, company: Company, *, rows: int) -> tuple[float, float]:
        """(sent, done): Constant Contact works through an import at the account's pace."""
        return self.now, self.now + 2.0 + rows * company.seconds_per_row

    def confirmation(self, company: Company) -> Iterator[str]:
        """One read of the account's activities confirms every import that is done."""
        yield "activities"
        company.imports = [sent for sent in company.imports if sent[1] > self.now]

    def first_sync(self, install: Install) -> None:
        account = Company(
            key=f"install{self.installs.index(install)}",
            offset=0,
            heavy=False,
            seconds_per_row=self.rng.uniform(0.005, 0.03),
        )
        self.process(self._first_sync(install, account), tenant=account.key, purpose="first")

    def _first_sync(self, install: Install, account: Company) -> Iterator[str | float]:
        for _ in range(1 + install.customers // UNSUBSCRIBE_PAGE):  # some have unsubscribed
            yield "unsubscribes"
            install.started = install.started or self.now
        for start in range(0, install.customers, settings.SYNC_IMPORT_CHUNK_ROWS):
            yield "qb"
            yield "import"
            rows = min(settings.SYNC_IMPORT_CHUNK_ROWS, install.customers - start)
            account.imports.append(self._import(account, rows=rows))
        pause = pacing.check_after(rows=install.customers, seconds_per_row=None)
        while account.imports:
            yield pause
            yield from self.confirmation(account)
            pause = min(max(pause, 1.0) * 2, RECHECK_MAX)

    # --- the worker: each call waits for the limiter, then goes to Constant Contact

    def process(
        self,
        steps: Iterator[str | float],
        *,
        tenant: str,
        purpose: str,
        done: Callable[[int], None] | None = None,
    ) -> None:
        calls = 0

        def step() -> None:
            nonlocal calls
            what = next(steps, None)
            if what is None:
                if done is not None:
                    done(calls)
            elif isinstance(what, float):
                self.at(self.now + what, step)
            elif what == "qb":
                self.at(self.now + QB_READ, step)
            else:
                calls += 1
                self.calls[f"kind:{what}"] += self.measured()
                self.call(tenant=tenant, purpose=purpose, then=step)

        step()

    def call(self, *, tenant: str, purpose: str, then: Callable[[], None]) -> None:
        attempt = self.limiter.attempt_constantcontact(tenant=tenant)
        retry = lambda: self.call(tenant=tenant, purpose=purpose, then=then)  # noqa: E731
        if attempt.day_exhausted:
            if self.measured():
                self.exhausted_at = self.exhausted_at or self.now
            return self.at((self.now // DAY + 1) * DAY + 1, retry)
        if not attempt.granted:  # asks again when a call is free (the app polls, to the same end)
            return self.at(self.now + max(attempt.wait_ms, POLL_MS) / 1000, retry)
        if self.measured():
            self.calls[purpose] += 1
            self.calls[f"tenant:{tenant}"] += 1
        arrival = self.now + self.rng.uniform(*CC_LATENCY)
        answer = self.cc.call(arrival)
        if answer == "answered":
            self.at(arrival + CC_ANSWER, then)
        elif answer == "throttled":  # the whole app holds back a moment, then asks again
            self.limiter.constantcontact_throttled()
            self.at(arrival + CC_ANSWER, retry)
        else:  # the day is spent: every run pauses until midnight
            self.limiter.exhaust_constantcontact_today()
            self.at((arrival // DAY + 1) * DAY + 1, retry)


# --- the figures --------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    companies: int
    share: int
    used: int
    answered_429: int
    exhausted_at: float | None
    p95: float
    longest: float
    undelivered: int
    first_sync_start: float
    installs: int
    calls_per_run: float
    calls_per_edit: float
    calls_per_company: float
    peak_per_second: int
    edits: int
    runs: int
    worst: str
    widest_window: float
    most_waiting: int
    kinds: str

    @classmethod
    def of(cls, sim: Simulation) -> "Figures":
        latencies = [value for c in sim.companies for value in c.latencies]
        installs = [i for i in sim.installs if sim.measured(i.at)]
        steady = sim.calls["changes"] + sim.calls["overdue"]
        edits = sum(c.edits for c in sim.companies)
        worst = max(sim.companies, key=lambda c: max(c.latencies, default=0.0))
        return cls(
            companies=len(sim.companies),
            share=sim.policy.share,
            used=sim.cc.today,
            answered_429=sim.cc.throttled + sim.cc.over_quota,
            exhausted_at=None if sim.exhausted_at is None else sim.exhausted_at - MEASURED,
            p95=percentile(latencies, 0.95),
            longest=max(latencies, default=0.0),
            undelivered=sum(len(c.pending) for c in sim.companies),
            first_sync_start=max((i.started or math.inf) - i.at for i in installs),
            installs=len(installs),
            calls_per_run=steady / max(sim.change_runs, 1),
            calls_per_edit=steady / max(edits, 1),
            calls_per_company=sim.cc.today / len(sim.companies),
            peak_per_second=sim.cc.peak,
            edits=edits,
            runs=sim.change_runs,
            worst=(
                f"{'a heavy' if worst.heavy else 'a typical'} company at UTC{worst.offset:+d}: "
                f"{worst.edits} edits, {sim.calls['tenant:' + worst.key]} calls, longest wait "
                f"{duration(max(worst.latencies, default=0.0))}, p95 "
                f"{duration(percentile(worst.latencies, 0.95))}"
            ),
            widest_window=max((s.window for s in sim.snapshots), default=0.0),
            most_waiting=max((s.waiting for s in sim.snapshots), default=0),
            kinds=", ".join(
                f"{key[5:]} {count:,}"
                for key, count in sim.calls.most_common()
                if key[:5] == "kind:"
            ),
        )


def duration(seconds: float) -> str:
    if math.isnan(seconds) or math.isinf(seconds):
        return "never"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


NOTES = (
    "The real pacer and limiter (the app's settings: the day's share, 4 calls a second with "
    "the limiter's margin) on a virtual clock, against a fake Constant Contact that answers "
    "429 past 4 calls in any second and past its daily quota (10,000, or the share if "
    "raised above it). The day measured follows "
    "one the pacer learns its shape from (the same companies); latency runs from a webhook's "
    "arrival to the answer of the import carrying the change.",
    "Companies in the time zones of QuickBooks Online's users (US 83%, UK and Europe 10%, "
    "Australia and New Zealand 7%), editing over 09:00-17:00 local: a typical one about 10 "
    "times a business day, 10% heavy ones 100-200 times (a fifth in bursts of 5-30), 2% "
    "importing a spreadsheet of 100-1,000 new customers; 1% of edits change an email or empty "
    "a field (GET and PUT). New installs through the day (one per 50 companies), each with a "
    "first sync of up to 10,000 customers.",
    "Calls per change run count every call made for changes: the runs' imports, PUTs, "
    "unsubscribe reads and confirmations, and beat's overdue confirmations. Under pace (300 "
    "companies) a run is mostly its import; past it, a company gets few runs a day and each "
    "carries the day's unsubscribe read and confirmation, while the calls per edit fall.",
)

# The targets: (p95, longest) of an edit's wait, by the number of companies.
LATENCY_TARGETS = {300: (10.0, 60.0), 1_000: (2 * 3600.0, 4 * 3600.0)}


def rows_of(figures: Figures) -> list[Row]:
    name = f"day of {figures.companies:,} companies"
    p95_target, longest_target = LATENCY_TARGETS.get(figures.companies, (None, None))
    ceiling = figures.share
    steady = figures.companies <= 300  # the day under pace: runs as edits come
    rows = [
        Row(
            name,
            "share used by 24:00 UTC",
            f"{figures.used:,}",
            f"<= {ceiling:,}",
            figures.used <= ceiling,
        ),
        Row(
            name,
            "share exhausted before 24:00 UTC",
            "never" if figures.exhausted_at is None else duration(figures.exhausted_at),
            "never",
            figures.exhausted_at is None,
        ),
        Row(name, "calls answered 429", str(figures.answered_429), "0", figures.answered_429 == 0),
        Row(
            name,
            "edit -> Constant Contact, p95",
            duration(figures.p95),
            f"<= {duration(p95_target)}" if p95_target else "reported",
            figures.p95 <= p95_target if p95_target else None,
        ),
        Row(
            name,
            "edit -> Constant Contact, longest",
            duration(figures.longest),
            f"<= {duration(longest_target)}" if longest_target else "reported",
            figures.longest <= longest_target if longest_target else None,
        ),
        Row(
            name,
            "edits not delivered 6 h after midnight",
            f"{figures.undelivered:,}",
            "0" if p95_target else "reported",
            figures.undelivered == 0 if p95_target else None,
        ),
        Row(
            name,
            f"first sync of a new install starts (slowest of {figures.installs})",
            duration(figures.first_sync_start),
            "<= 60 s",
            figures.first_sync_start <= 60,
        ),
        Row(
            name,
            "Constant Contact calls per change run",
            f"{figures.calls_per_run:.2f}",
            *((("<= 1.3", figures.calls_per_run <= 1.3)) if steady else ("reported", None)),
        ),
        Row(
            name,
            "calls per edit / per company per day",
            f"{figures.calls_per_edit:.2f} / {figures.calls_per_company:.1f}",
        ),
        Row(name, "edits / change runs", f"{figures.edits:,} / {figures.runs:,}"),
        Row(
            name,
            "peak calls in any second at Constant Contact",
            str(figures.peak_per_second),
            "<= 4",
            figures.peak_per_second <= 4,
        ),
        Row(
            name,
            "widest change window / most companies waiting",
            f"{duration(figures.widest_window)} / {figures.most_waiting:,}",
        ),
        Row(name, "worst-off company", figures.worst),
        Row(name, "calls by kind", figures.kinds),
    ]
    return rows


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ccsync.settings")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, nargs="+", default=[300, 1_000, 3_000])
    parser.add_argument("--share", type=int, default=settings.SYNC_CC_DAILY_SHARE)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    started = time.monotonic()
    rows: list[Row] = []
    for count in args.companies:
        print(f"simulating a day of {count} companies...", file=sys.stderr, flush=True)
        rows += rows_of(Simulation(companies=count, share=args.share, seed=args.seed).run())
    command = " ".join(["python -m bench.simulate_day", *sys.argv[1:]])
    notes = [f"`{command}` took {time.monotonic() - started:.0f} s on this machine.", *NOTES]
    table = render(rows, title="A day of Constant Contact calls, simulated", notes=notes)
    print(table)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(table, encoding="utf-8")
    return 0 if all(row.met is not False for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

"""The simulation of a day: the app's scheduler replayed around the real pacer and limiter,
and the figures it ends with."""

import heapq
import itertools
import math
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import partial

from django.conf import settings

from bench.day.world import (
    CC_ANSWER,
    CC_LATENCY,
    DAY,
    DRAIN,
    MEASURED,
    QB_READ,
    RECHECK_MAX,
    START,
    UNSUBSCRIBE_PAGE,
    Company,
    FakeConstantContact,
    day_of_edits,
    make_companies,
)
from bench.report import percentile
from ccsync.sync import pacing
from integrations.limiter import POLL_MS, Limiter, Limits, MemoryBackend

# --- the simulation -----------------------------------------------------------------------


@dataclass
class Install:
    at: float
    customers: int
    started: float | None = None


class Simulation:
    """One day; `run()` returns its figures."""

    def __init__(self, *, companies: int, share: int, seed: int, slack_reads: bool = True) -> None:
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
        if not slack_reads:  # the pacer before issue 20.4: the slack never pays for a read
            self.policy = replace(self.policy, fresh_margin=math.inf)
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
                    self.at(day + moment, partial(self.webhook, company, put=put))
            for _ in range(max(3, len(self.companies) // 50)):
                install = Install(at=day + self.rng.uniform(0, DAY), customers=self._size())
                self.installs.append(install)
                self.at(install.at, partial(self.first_sync, install))
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

    # --- ccsync/sync/change_window.py and dispatch.py, replayed

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
        plan = self.pacer.plan(
            unsubscribes_read_at=company.unsubscribes_read_at,
            oldest_unconfirmed=company.imports[0][0] if company.imports else None,
        )
        company.slack_read = plan.slack_pays
        if plan.read_unsubscribes:
            yield "unsubscribes read by the slack" if plan.slack_pays else "unsubscribes"
            company.unsubscribes_read_at = self.now
        if plan.confirm:
            yield from self.confirmation(company)
        yield "qb"
        sent = list(company.pending)
        company.pending.clear()
        if sent and self.measured() and company.unsubscribes_read_at is not None:
            company.unsubscribes_ages.append(self.now - company.unsubscribes_read_at)
        puts = sum(put for _, put in sent)
        for _ in range(puts):
            yield from ("get", "put")
        if len(sent) > puts:
            yield "import"
            company.imports.append(self._import(company, rows=len(sent) - puts))
        company.latencies += [self.now - a for a, _ in sent if self.measured(a)]

    def _run_ended(self, company: Company, calls: int) -> None:
        company.running = False
        self.pacer.run_cost(calls - company.slack_read)  # as the worker reports it
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
    slack_reads: int  # of the calls for changes: the unsubscribe reads the slack paid for
    unsubscribes_age_p50: float  # how old a run's unsubscribes were when it sent
    unsubscribes_age_p95: float
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
        ages = [value for c in sim.companies for value in c.unsubscribes_ages]
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
            slack_reads=sim.calls["kind:unsubscribes read by the slack"],
            unsubscribes_age_p50=percentile(ages, 0.5),
            unsubscribes_age_p95=percentile(ages, 0.95),
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

"""The shared limiter, on a clock of the test's own: nothing here waits in real time.

The in-process and file backends run on the test's clock (their time and the caller's
waits). The Redis backend reads Redis' clock, which no test moves: its tests make their
attempts within one window, so they see the same grants and refusals without waiting.
"""

import json
import multiprocessing
import threading
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings

from integrations.limiter import (
    WAITER_STALE_MS,
    YIELD_MS,
    FileBackend,
    Limiter,
    Limits,
    MemoryBackend,
    QuotaPaused,
    RedisBackend,
    get_limiter,
    next_utc_midnight,
)
from tests.plugins.clock import START, FakeClock

BACKENDS = ["redis", "memory", "file"]
# A window wider than any test takes: attempts made one after the other share it.
WIDE = 60.0


@pytest.fixture(params=BACKENDS)
def make_limiter(request, tmp_path, clock):
    def make(**limits) -> Limiter:
        backends = {
            "redis": lambda: RedisBackend(settings.REDIS_URL),
            "memory": lambda: MemoryBackend(clock_ms=clock.ms),
            "file": lambda: FileBackend(clock_ms=clock.ms, path=tmp_path / "limiter.json"),
        }
        return Limiter(
            backends[request.param](),
            Limits(prefix=f"test:{uuid.uuid4().hex}", **limits),
            clock=clock.clock,
        )

    return make


@pytest.fixture(params=["memory", "file"])
def make_clocked_limiter(request, tmp_path, clock):
    """A limiter wholly on the test's clock: its windows pass as the test's time does."""

    def make(**limits) -> Limiter:
        backend = (
            MemoryBackend(clock_ms=clock.ms)
            if request.param == "memory"
            else FileBackend(clock_ms=clock.ms, path=tmp_path / "limiter.json")
        )
        return Limiter(backend, Limits(prefix=uuid.uuid4().hex, **limits), clock=clock.clock)

    return make


def max_in_any_window(times: list[float], window: float) -> int:
    times = sorted(times)
    return max(sum(1 for t in times[i:] if t - start < window) for i, start in enumerate(times))


def test_never_more_grants_at_once_than_the_limit_across_threads(make_limiter):
    """The check and the grant are one step: six threads racing for a four-call window get
    four grants between them."""
    limiter = make_limiter(margin=WIDE)
    granted: list[bool] = []
    lock = threading.Lock()

    def work(tenant: str) -> None:
        for _ in range(3):
            attempt = limiter.attempt_constantcontact(tenant=tenant)
            with lock:
                granted.append(attempt.granted)

    threads = [threading.Thread(target=work, args=(f"t{n % 3}",)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(granted) == 18 and granted.count(True) == 4


def test_constant_contact_never_above_four_a_second(make_clocked_limiter, clock):
    limiter = make_clocked_limiter()
    stamps = []
    for n in range(18):
        limiter.acquire_constantcontact(tenant=f"t{n % 3}")
        stamps.append(clock.now)
    assert max_in_any_window(stamps, 1.0) <= 4
    assert stamps[-1] - START >= 18 / 4 - 1.25  # the callers did wait their turn
    assert clock.slept and max(clock.slept) <= 0.05  # asking again every 50 ms at most


def test_quickbooks_per_company_second(make_limiter):
    limiter = make_limiter(qb_per_second=5, margin=WIDE)
    attempts = [limiter.attempt_quickbooks(realm_id="r1") for _ in range(8)]
    assert [a.granted for a in attempts] == [True] * 5 + [False] * 3
    assert limiter.attempt_quickbooks(realm_id="r2").granted  # another company: not held up


def test_quickbooks_minute_window_holds(make_clocked_limiter, clock):
    limiter = make_clocked_limiter(qb_per_second=10, qb_per_minute=3)
    for _ in range(3):
        limiter.acquire_quickbooks(realm_id="r1")
    asked = clock.now
    limiter.acquire_quickbooks(realm_id="r1")
    assert 60 * 1.25 <= clock.now - asked <= 60 * 1.25 + 0.1  # the minute's window, widened


def test_quickbooks_minute_window_in_redis(make_limiter):
    limiter = make_limiter(qb_per_second=10, qb_per_minute=3)
    for _ in range(3):
        assert limiter.attempt_quickbooks(realm_id="r1").granted
    refused = limiter.attempt_quickbooks(realm_id="r1")
    assert not refused.granted and 60_000 < refused.wait_ms <= 75_001


def test_daily_share_pauses_until_midnight_utc(make_limiter, clock):
    limiter = make_limiter(cc_daily=3, margin=WIDE, cc_per_second=10)
    for _ in range(3):
        limiter.acquire_constantcontact(tenant="a")
    assert limiter.constantcontact_used_today() == 3
    with pytest.raises(QuotaPaused) as caught:
        limiter.acquire_constantcontact(tenant="b")
    assert caught.value.until == next_utc_midnight(datetime.fromtimestamp(clock.now, UTC))
    assert "paused until 00:00 UTC" in str(caught.value)


def test_quota_exceeded_from_the_provider_stops_everyone(make_limiter):
    limiter = make_limiter(cc_daily=100)
    limiter.exhaust_constantcontact_today()
    with pytest.raises(QuotaPaused):
        limiter.acquire_constantcontact(tenant="a")


def test_the_day_is_the_clocks(make_clocked_limiter, clock):
    limiter = make_clocked_limiter(cc_daily=1)
    limiter.acquire_constantcontact(tenant="a")
    with pytest.raises(QuotaPaused):
        limiter.acquire_constantcontact(tenant="a")
    clock.now = (clock.now // 86_400 + 1) * 86_400  # 00:00 UTC
    limiter.acquire_constantcontact(tenant="a")
    assert limiter.constantcontact_used_today() == 1


def test_next_midnight():
    assert next_utc_midnight(datetime(2024, 2, 28, 23, 59, tzinfo=UTC)) == datetime(
        2024, 2, 29, tzinfo=UTC
    )


def test_a_busy_tenant_steps_aside_for_a_lighter_one_waiting(make_limiter):
    """Fairness: while a tenant that used less is waiting, a busier one yields its turn."""
    limiter = make_limiter(cc_per_second=100, margin=WIDE)
    for _ in range(5):
        assert limiter.attempt_constantcontact(tenant="big").granted
    assert limiter.attempt_constantcontact(tenant="small").granted  # now a waiter too
    stepped_aside = limiter.attempt_constantcontact(tenant="big")
    assert not stepped_aside.granted and stepped_aside.wait_ms == YIELD_MS
    assert limiter.attempt_constantcontact(tenant="small").granted


def test_a_tenant_no_longer_asking_holds_nobody_back(make_clocked_limiter, clock):
    limiter = make_clocked_limiter(cc_per_second=100)
    for _ in range(5):
        limiter.acquire_constantcontact(tenant="big")
    assert limiter.attempt_constantcontact(tenant="small").granted
    clock.advance((WAITER_STALE_MS + 1) / 1000)
    assert limiter.attempt_constantcontact(tenant="big").granted


def test_a_busy_tenant_does_not_starve_a_light_one(make_clocked_limiter, clock):
    """Four callers of a big first sync keep asking; a small edit's four calls still get
    the next grants (two a 1.25 s window), not one grant in five."""
    limiter = make_clocked_limiter(cc_per_second=2)
    for _ in range(20):  # the big sync has had the whole budget to itself
        limiter.acquire_constantcontact(tenant="big-first-sync")
    asked, grants = clock.now, []
    while clock.now - asked < 10 and len(grants) < 4:
        for _ in range(4):  # each busy caller asks
            limiter.attempt_constantcontact(tenant="big-first-sync")
        if limiter.attempt_constantcontact(tenant="small-edit").granted:
            grants.append(clock.now)
        clock.advance(0.05)
    # Two grants per 1.25 s window: the light caller's four take two windows, not ten.
    assert len(grants) == 4 and grants[-1] - asked <= 2.5 + 0.1


def test_two_busy_tenants_share_evenly(make_clocked_limiter, clock):
    limiter = make_clocked_limiter(cc_per_second=10)
    callers = ["a"] * 5 + ["b"]
    grants: Counter[str] = Counter()
    end = clock.now + 3
    while clock.now < end:
        for tenant in callers:
            if limiter.attempt_constantcontact(tenant=tenant).granted:
                grants[tenant] += 1
        clock.advance(0.05)
    assert grants["a"] + grants["b"] >= 20
    assert abs(grants["a"] - grants["b"]) <= 0.25 * (grants["a"] + grants["b"]), grants


def test_hooks_take_a_grant_each(make_limiter):
    limiter = make_limiter(cc_daily=2)
    hook = limiter.constantcontact_hook(tenant="t")
    hook("contacts_json_import")
    hook("activities")
    with pytest.raises(QuotaPaused):
        hook("contacts")
    qb = limiter.quickbooks_hook(realm_id="r")
    qb("query")  # QuickBooks has no daily limit of ours


def test_get_limiter_uses_redis_when_configured_else_a_file(settings, tmp_path):
    assert isinstance(get_limiter().backend, RedisBackend)
    settings.REDIS_URL = ""
    settings.LIMITER_FILE = tmp_path / "shared.json"
    assert isinstance(get_limiter().backend, FileBackend)
    assert get_limiter().backend is get_limiter().backend  # one per process


def test_a_429_holds_every_caller_for_a_moment(make_limiter):
    limiter = make_limiter()
    limiter.acquire_constantcontact(tenant="a")
    limiter.constantcontact_throttled()
    attempt = limiter.attempt_constantcontact(tenant="b")  # another company, same key
    assert not attempt.granted and 1_000 < attempt.wait_ms <= limiter.limits.hold_ms


def test_the_memory_backend_runs_on_any_clock():
    now = [1_000_000]
    limiter = Limiter(MemoryBackend(clock_ms=lambda: now[0]), Limits(cc_per_second=2))
    assert limiter.attempt_constantcontact(tenant="a").granted
    assert limiter.attempt_constantcontact(tenant="a").granted
    third = limiter.attempt_constantcontact(tenant="a")
    assert not third.granted and third.wait_ms == 1_251
    now[0] += third.wait_ms
    assert limiter.attempt_constantcontact(tenant="a").granted


def _attempt_from_another_process(path: str, prefix: str, at_ms: int, out: str) -> None:
    limiter = Limiter(FileBackend(clock_ms=lambda: at_ms, path=Path(path)), Limits(prefix=prefix))
    granted = [limiter.attempt_constantcontact(tenant="demo").granted for _ in range(6)]
    Path(out).write_text(json.dumps(granted))


def test_without_redis_two_processes_share_the_four_a_second(tmp_path):
    """The demo's web process and worker count their calls together (issue: the sandbox
    answered 429 during Settings and the first sync when each counted alone): twelve
    attempts from two processes in one window, four grants."""
    path, prefix = tmp_path / "limiter.json", uuid.uuid4().hex
    processes = [
        multiprocessing.get_context("spawn").Process(
            target=_attempt_from_another_process,
            args=(str(path), prefix, FakeClock().ms(), str(tmp_path / f"{n}.json")),
        )
        for n in range(2)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
    granted = [g for n in range(2) for g in json.loads((tmp_path / f"{n}.json").read_text())]
    assert len(granted) == 12 and granted.count(True) == 4

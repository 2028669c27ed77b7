import json
import multiprocessing
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings

from integrations import limiter as limiter_module
from integrations.limiter import (
    FileBackend,
    Limiter,
    Limits,
    MemoryBackend,
    QuotaPaused,
    RedisBackend,
    get_limiter,
    next_utc_midnight,
)


@pytest.fixture(params=["redis", "memory", "file"])
def make_limiter(request, tmp_path):
    def make(**limits) -> Limiter:
        backends = {
            "redis": lambda: RedisBackend(settings.REDIS_URL),
            "memory": MemoryBackend,
            "file": lambda: FileBackend(path=tmp_path / "limiter.json"),
        }
        return Limiter(
            backends[request.param](), Limits(prefix=f"test:{uuid.uuid4().hex}", **limits)
        )

    return make


def max_in_any_window(times: list[float], window: float) -> int:
    times = sorted(times)
    return max(sum(1 for t in times[i:] if t - start < window) for i, start in enumerate(times))


def hammer(acquire, *, threads: int, calls: int) -> list[float]:
    stamps: list[float] = []
    lock = threading.Lock()

    def work():
        for _ in range(calls):
            acquire()
            with lock:
                stamps.append(time.monotonic())

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return stamps


def test_constant_contact_never_above_four_a_second_across_threads(make_limiter):
    limiter = make_limiter()
    started = time.monotonic()
    stamps = hammer(
        lambda: limiter.acquire_constantcontact(tenant=f"t{threading.get_ident() % 3}"),
        threads=6,
        calls=3,
    )
    assert len(stamps) == 18
    assert max_in_any_window(stamps, 1.0) <= 4
    assert time.monotonic() - started >= 18 / 4 - 1.2  # it did have to wait


def test_quickbooks_per_realm_second(make_limiter):
    limiter = make_limiter(qb_per_second=5)
    stamps = hammer(lambda: limiter.acquire_quickbooks(realm_id="r1"), threads=4, calls=3)
    assert max_in_any_window(stamps, 1.0) <= 5
    quick = time.monotonic()
    limiter.acquire_quickbooks(realm_id="r2")  # another company is not held up
    assert time.monotonic() - quick < 0.5


def test_quickbooks_minute_window_holds(make_limiter, monkeypatch):
    limiter = make_limiter(qb_per_second=10, qb_per_minute=3)
    for _ in range(3):
        limiter.acquire_quickbooks(realm_id="r1")
    waits: list[float] = []
    monkeypatch.setattr(limiter_module.time, "sleep", lambda s: (waits.append(s), 1 / 0))
    with pytest.raises(ZeroDivisionError):
        limiter.acquire_quickbooks(realm_id="r1")
    attempt = limiter.backend.attempt(
        limiter_module.Bucket(
            windows=(limiter_module.Window(f"{limiter.limits.prefix}:qb:r1:minute", 3, 66_000),)
        ),
        "probe",
    )
    assert not attempt.granted and 60_000 < attempt.wait_ms <= 66_001
    assert len(waits) == 1  # it would have had to wait (the second window was free)


def test_daily_share_pauses_until_midnight_utc(make_limiter):
    limiter = make_limiter(cc_daily=3)
    for _ in range(3):
        limiter.acquire_constantcontact(tenant="a")
    assert limiter.constantcontact_used_today() == 3
    with pytest.raises(QuotaPaused) as caught:
        limiter.acquire_constantcontact(tenant="b")
    assert caught.value.until == next_utc_midnight()
    assert "paused until 00:00 UTC" in str(caught.value)


def test_quota_exceeded_from_the_provider_stops_everyone(make_limiter):
    limiter = make_limiter(cc_daily=100)
    limiter.exhaust_constantcontact_today()
    with pytest.raises(QuotaPaused):
        limiter.acquire_constantcontact(tenant="a")


def test_next_midnight():
    assert next_utc_midnight(datetime(2024, 2, 28, 23, 59, tzinfo=UTC)) == datetime(
        2024, 2, 29, tzinfo=UTC
    )


def test_a_busy_tenant_does_not_starve_a_light_one(make_limiter):
    limiter = make_limiter(cc_per_second=2)
    stop = threading.Event()

    def busy():
        while not stop.is_set():
            limiter.acquire_constantcontact(tenant="big-first-sync")

    busy_threads = [threading.Thread(target=busy) for _ in range(4)]
    for thread in busy_threads:
        thread.start()
    time.sleep(1.5)  # the big sync has the whole budget to itself
    asked = time.monotonic()
    for _ in range(4):
        limiter.acquire_constantcontact(tenant="small-edit")
    light_wait = time.monotonic() - asked
    stop.set()
    for thread in busy_threads:
        thread.join()
    # Two grants per 1.25 s window. With fairness the light caller takes both grants of the
    # next two windows (<= 2.5 s); racing four busy threads for each grant it would need ~10.
    assert light_wait < 3.0, light_wait


def test_two_busy_tenants_share_evenly(make_limiter):
    limiter = make_limiter(cc_per_second=10)
    grants: Counter[str] = Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + 3

    def work(tenant: str):
        while time.monotonic() < deadline:
            limiter.acquire_constantcontact(tenant=tenant)
            with lock:
                grants[tenant] += 1

    threads = [threading.Thread(target=work, args=("a",)) for _ in range(5)]
    threads.append(threading.Thread(target=work, args=("b",)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
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


def _hammer_from_another_process(path: str, prefix: str, out: str) -> None:
    limiter = Limiter(FileBackend(path=Path(path)), Limits(prefix=prefix))
    stamps = []
    for _ in range(6):
        limiter.acquire_constantcontact(tenant="demo")
        stamps.append(time.time())
    Path(out).write_text(json.dumps(stamps))


def test_without_redis_two_processes_share_the_four_a_second(tmp_path):
    """The demo's web process and worker count their calls together (issue: the sandbox
    answered 429 during Settings and the first sync when each counted alone)."""
    path, prefix = tmp_path / "limiter.json", uuid.uuid4().hex
    processes = [
        multiprocessing.get_context("spawn").Process(
            target=_hammer_from_another_process,
            args=(str(path), prefix, str(tmp_path / f"{n}.json")),
        )
        for n in range(2)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
    stamps = [t for n in range(2) for t in json.loads((tmp_path / f"{n}.json").read_text())]
    assert len(stamps) == 12
    assert max_in_any_window(stamps, 1.0) <= 4

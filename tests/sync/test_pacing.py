"""The daily pacer on a clock of the test's own: the day's share lasts until midnight, the
least recently served company goes first, and the plan of a run of changes."""

import multiprocessing
from pathlib import Path

import pytest

from ccsync.sync.pacing import (
    DAY,
    FileStore,
    MemoryStore,
    Pacer,
    Policy,
    check_after,
    confirmation_overdue,
    freshness,
    plan_changes,
)

NOON = 20_000 * DAY + DAY / 2  # a UTC noon: half the day left


class Clock:
    def __init__(self, now: float = NOON) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def pacer(*, spent: int = 0, store=None, clock=None, **policy) -> Pacer:
    spent_box = [spent]
    made = Pacer(
        store=store or MemoryStore(),
        policy=Policy(**{"share": 9_500, "reserve": 500, "burst": 4.0, "run_cost": 1.0} | policy),
        spent_today=lambda: spent_box[0],
        clock=clock or Clock(),
    )
    made.spent = spent_box  # type: ignore[attr-defined]
    return made


def test_under_pace_a_company_runs_at_once():
    under = pacer()
    assert all(under.offer(f"t{n}") for n in range(4))  # the burst
    assert under.snapshot().waiting == 0


def test_past_the_burst_companies_wait_and_are_released_at_the_pace():
    clock = Clock()
    busy = pacer(clock=clock, burst=2.0)
    assert busy.offer("a") and busy.offer("b")
    assert not busy.offer("c") and not busy.offer("d")
    assert busy.release() == []
    # Noon, nothing spent: (9,500 - 250 of reserve left) / 43,200 s = 0.214 calls a second.
    snapshot = busy.snapshot()
    assert snapshot.pace == pytest.approx((9_500 - 250) / (DAY / 2))
    assert snapshot.waiting == 2 and snapshot.window > 2 / snapshot.pace
    clock.now += 1 / snapshot.pace + 0.01
    assert busy.release() == ["c"]
    clock.now += 1 / snapshot.pace + 0.01
    assert busy.release() == ["d"]


def test_the_least_recently_served_company_goes_first():
    clock = Clock()
    fair = pacer(clock=clock, burst=1.0)
    assert fair.offer("heavy")  # heavy just had its turn
    clock.now += 1
    assert not fair.offer("heavy")  # it asks again first...
    clock.now += 1
    assert not fair.offer("light")  # ...light, never served today, asks later
    clock.now += 10
    assert fair.release() == ["light"]
    clock.now += 10
    assert fair.release() == ["heavy"]  # and heavy is not starved


def test_the_share_lasts_the_day_and_the_reserve_stays_for_first_syncs():
    clock = Clock(20_000 * DAY + DAY - 3600)  # 23:00 UTC
    late = pacer(clock=clock, spent=9_300)
    # 200 left, of which a fifth of the reserve (100) stays to the last minute for first
    # syncs: 100 calls over the last hour.
    assert late.snapshot().pace == pytest.approx(100 / 3600)
    assert pacer(clock=clock, spent=9_400).snapshot().pace == 0.0

    clock.now = NOON
    spent_out = pacer(clock=clock, spent=9_250)  # what is left is the reserve's (250 at noon)
    assert spent_out.snapshot().pace == 0.0
    assert not spent_out.offer("a")
    clock.now += 60
    assert spent_out.release() == []
    clock.now += 6 * 3600  # the reserve is released evenly: what first syncs did not need
    assert spent_out.release() == ["a"]


def _a_day_of_demand(clock: Clock, paced: Pacer, *, busy_hours: range, calls: int) -> None:
    """A day whose companies ask for runs, and spend, only in `busy_hours`."""
    day = clock.now // DAY * DAY
    for hour in busy_hours:
        clock.now = day + hour * 3600 + 1
        for n in range(10):
            paced.offer(f"{hour}-{n}")
        paced.spent[0] += calls // len(busy_hours)  # type: ignore[attr-defined]
        paced.snapshot()
        for n in range(10):
            paced.forget(f"{hour}-{n}")  # served, one way or another, within the hour
    clock.now = day + DAY + 1  # the next day: yesterday learned
    paced.spent[0] = 0  # type: ignore[attr-defined]
    paced.snapshot()


def test_the_pace_follows_the_hours_companies_asked_for_runs_the_day_before():
    clock = Clock(20_000 * DAY)
    learned = pacer(clock=clock, share=9_500)
    assert learned.snapshot().pace == pytest.approx((9_500 - 500) / DAY)  # evenly, at first
    _a_day_of_demand(clock, learned, busy_hours=range(14, 22), calls=9_000)
    night = learned.snapshot().pace
    # Quiet hours keep a tenth of the busiest's weight: 16 quiet hours and 8 busy ones.
    assert night == pytest.approx((9_500 - 500) / ((16 + 8 * 10) * 3600), rel=1e-3)
    clock.now += 15 * 3600  # 15:00 UTC, the Americas at work
    afternoon = learned.snapshot().pace
    assert afternoon > 3 * (9_500 - 500) / DAY


def test_while_the_day_holds_more_than_it_is_expected_to_spend_nobody_waits():
    clock = Clock(20_000 * DAY)
    roomy = pacer(clock=clock, burst=1.0)
    _a_day_of_demand(clock, roomy, busy_hours=range(14, 22), calls=4_000)
    clock.now += 15 * 3600
    # The bucket holds one run, but yesterday spent 4,000 of 9,500: the slack serves all.
    assert all(roomy.offer(f"t{n}") for n in range(20))
    tight = pacer(clock=Clock(20_000 * DAY), burst=1.0)
    _a_day_of_demand(tight.clock, tight, busy_hours=range(14, 22), calls=9_400)
    tight.clock.now += 15 * 3600
    tight.spent[0] = 1_400  # type: ignore[attr-defined]  # today as yesterday: 14:00 spent
    assert tight.offer("a") and not tight.offer("b")  # no slack: the bucket's one run


def test_a_new_day_starts_with_a_full_bucket_and_nobody_served():
    clock = Clock()
    daily = pacer(clock=clock, burst=1.0)
    assert daily.offer("a")
    assert not daily.offer("b")
    clock.now = (clock.now // DAY + 1) * DAY + 1  # 00:00:01 the next day
    daily.spent[0] = 0  # type: ignore[attr-defined]
    assert daily.release() == ["b"]


def test_the_cost_of_a_run_is_learned():
    learning = pacer()
    for _ in range(100):
        learning.run_cost(2)
    with learning.store.transaction() as state:
        assert state["cost"] == pytest.approx(2.0, abs=0.01)


def test_pressure_grows_with_the_wait():
    clock = Clock()
    pressed = pacer(clock=clock, burst=1.0, pressure_delay=3600.0)
    assert pressed.offer("a")
    assert pressed.snapshot().pressure < 0.01
    for n in range(50):
        pressed.offer(f"w{n}")
    clock.now += 1800
    assert 0.5 <= pressed.snapshot().pressure <= 1.0


def test_a_run_of_changes_reads_and_confirms_only_what_is_due():
    policy = Policy(unsubscribes_fresh=(4 * 3600.0, 24 * 3600.0), confirm_after=(7200.0, 43_200.0))
    now = NOON

    def plan(**given):
        return plan_changes(**{"policy": policy, "slack_pays": False, "now": now} | given)

    fresh = plan(pressure=0.0, unsubscribes_read_at=now - 60, oldest_unconfirmed=None)
    assert not fresh.read_unsubscribes and not fresh.confirm
    stale = plan(pressure=0.0, unsubscribes_read_at=now - 5 * 3600, oldest_unconfirmed=now - 60)
    assert stale.read_unsubscribes and stale.confirm  # confirmed along with the read
    assert not stale.slack_pays  # due anyway
    pressed = plan(
        pressure=1.0, unsubscribes_read_at=now - 5 * 3600, oldest_unconfirmed=now - 3 * 3600
    )
    assert not pressed.read_unsubscribes and not pressed.confirm
    a_day = plan(pressure=1.0, unsubscribes_read_at=now - 24 * 3600, oldest_unconfirmed=None)
    assert a_day.read_unsubscribes
    assert confirmation_overdue(policy=policy, pressure=0.0, now=now, oldest=now - 4 * 3600 - 1)
    assert not confirmation_overdue(policy=policy, pressure=1.0, now=now, oldest=now - 5 * 3600)


def test_while_the_slack_pays_a_run_reads_unsubscribes_first_and_no_more():
    """Issue 20.4: the read the slack pays for is one call; the imports waiting are
    confirmed on their own time, not along with it."""
    policy = Policy(confirm_after=(7200.0, 43_200.0))
    now = NOON
    paid = plan_changes(
        policy=policy,
        pressure=0.0,
        slack_pays=True,
        now=now,
        unsubscribes_read_at=now - 60,
        oldest_unconfirmed=now - 3600,
    )
    assert paid.read_unsubscribes and paid.slack_pays and not paid.confirm
    assert freshness(policy=policy, pressure=0.0, slack_pays=True) == 0.0
    assert freshness(policy=policy, pressure=0.0, slack_pays=False) == 4 * 3600
    assert freshness(policy=policy, pressure=0.5, slack_pays=False) == 14 * 3600
    assert freshness(policy=policy, pressure=1.0, slack_pays=False) == 24 * 3600


def _learned(**policy) -> Pacer:
    """A pacer that learned yesterday: 80 runs of changes asked for, 4,000 calls needed,
    from 14:00 to 22:00 UTC; now 15:00, nothing spent yet today."""
    clock = Clock(20_000 * DAY)
    learned = pacer(clock=clock, **policy)
    _a_day_of_demand(clock, learned, busy_hours=range(14, 22), calls=4_000)
    clock.now += 15 * 3600
    return learned


def _plan(paced: Pacer, *, read_ago: float = 60.0):
    now = paced.clock()
    return paced.plan(unsubscribes_read_at=now - read_ago, oldest_unconfirmed=None)


def test_while_the_day_holds_more_than_it_needs_every_run_reads_unsubscribes_first():
    """3,500 calls still needed, 9,312 left: the 70 runs still expected each read first."""
    roomy = _learned()
    plan = _plan(roomy)
    assert plan.read_unsubscribes and plan.slack_pays
    assert roomy.snapshot().unsubscribes_fresh == 0.0


def test_without_slack_unsubscribes_are_read_when_4_to_24_hours_old():
    tight = pacer(clock=Clock(20_000 * DAY))
    _a_day_of_demand(tight.clock, tight, busy_hours=range(14, 22), calls=9_400)
    tight.clock.now += 15 * 3600
    tight.spent[0] = 1_400  # type: ignore[attr-defined]  # today as yesterday
    assert not _plan(tight).read_unsubscribes
    assert tight.snapshot().unsubscribes_fresh == pytest.approx(4 * 3600, abs=60)
    late = _plan(tight, read_ago=4 * 3600 + 60)
    assert late.read_unsubscribes and not late.slack_pays
    # Under full pressure (companies waiting two hours), a day.
    for n in range(50):
        tight.offer(f"w{n}")
    tight.clock.now += 2 * 3600
    tight.spent[0] += 2 * 1_175  # type: ignore[attr-defined]
    assert tight.snapshot().unsubscribes_fresh == 24 * 3600
    assert not _plan(tight, read_ago=23 * 3600).read_unsubscribes


def test_no_read_is_paid_while_a_company_waits_its_turn():
    waiting = _learned(burst=1.0)
    with waiting.store.transaction() as state:
        state["waiting"] = {"w": waiting.clock()}
    assert not _plan(waiting).slack_pays


def test_no_read_is_paid_while_the_last_minutes_used_the_second_much():
    """The day has calls to spare, but a read before every run doubles the calls a second:
    past 0.6 a second (15% of Constant Contact's 4) lately, edits would queue behind them."""
    for calls, pays in ((60, True), (180, False)):
        busy = _learned()
        busy.snapshot()  # a mark of today's spend, now
        busy.clock.now += 120
        busy.spent[0] += calls  # type: ignore[attr-defined]  # 0.5, then 1.5 a second
        assert _plan(busy).slack_pays is pays


def test_the_first_day_has_no_slack_to_pay_with():
    first = pacer()
    assert not _plan(first).read_unsubscribes
    assert first.snapshot().unsubscribes_fresh == pytest.approx(4 * 3600, abs=60)


def test_the_slack_pays_only_for_every_run_left_and_the_margin():
    """All or none. At 15:00 the share less the reserve still due (188) and the bucket (4)
    must hold the 3,500 calls still needed, a fifth of them kept back (700), and a read for
    each of the 70 runs still expected: a share of 4,462 at least."""
    least = 188 + 4 + 3_500 + 700 + 70
    assert _plan(_learned(share=least + 5)).slack_pays
    assert not _plan(_learned(share=least - 5)).slack_pays
    assert not _plan(_learned(share=least + 5, fresh_margin=0.21)).slack_pays  # 35 more back


def test_a_day_busier_than_the_days_before_stops_the_reads():
    """By 15:00 yesterday had needed 500 calls; today 3,000 already: six times the need (and
    the runs) is expected for the rest of the day, which the share does not hold."""
    busy = _learned()
    busy.spent[0] = 3_000  # type: ignore[attr-defined]
    assert not _plan(busy).slack_pays
    # Without the trend, 9,500 - 3,000 - 188 (reserve) - 4 - 3,500 = 2,808 would pay.
    steady = _learned()
    steady.spent[0] = 500  # type: ignore[attr-defined]  # as yesterday by now
    assert _plan(steady).slack_pays


def test_the_reads_the_slack_paid_for_are_left_out_of_the_need_learned():
    """Spending the slack on reads today does not make tomorrow's slack look smaller."""
    paced = _learned()
    for _ in range(100):
        assert _plan(paced).slack_pays  # 100 runs read first...
    paced.spent[0] += 100 + 500  # type: ignore[attr-defined]  # ...and needed 500 more
    paced.snapshot()
    paced.clock.now += DAY  # tomorrow
    paced.spent[0] = 0  # type: ignore[attr-defined]
    paced.snapshot()
    with paced.store.transaction() as state:
        # Yesterday's 500 an hour at 15:00, and today's 500 of need: not 600.
        assert state["spend"][15] == pytest.approx(500.0)
        assert state["slack_reads"] == [0] * 24


def test_an_import_is_asked_about_when_it_should_be_done():
    assert check_after(rows=2_500, seconds_per_row=0.01) == pytest.approx(27.0)
    assert check_after(rows=10_000, seconds_per_row=None) == pytest.approx(12.0)


def _offer_from_another_process(path: str, tenant: str, answers: str) -> None:
    shared = pacer(store=FileStore(Path(path)), burst=3.0)
    Path(answers).write_text(
        "".join("1" if shared.offer(f"{tenant}{n}") else "0" for n in range(3))
    )


def test_without_redis_the_processes_of_a_machine_share_the_pacer(tmp_path):
    path = tmp_path / "pacer.json"
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_offer_from_another_process, args=(str(path), t, str(tmp_path / t)))
        for t in ("a", "b")
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
    answers = (tmp_path / "a").read_text() + (tmp_path / "b").read_text()
    assert answers.count("1") == 3  # the one bucket of three, not three each

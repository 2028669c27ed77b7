"""The simulation of a day runs, and its fake Constant Contact would catch what it must."""

import pytest

from bench.day.simulation import Simulation
from bench.day.world import MEASURED, FakeConstantContact
from bench.simulate_day import rows_of


def test_the_fake_constant_contact_answers_429_past_4_a_second_and_past_the_day():
    cc = FakeConstantContact(per_day=6)
    assert [cc.call(MEASURED + n * 0.1) for n in range(5)] == ["answered"] * 4 + ["throttled"]
    assert cc.call(MEASURED + 1.2) == "answered"  # the sixth of the day (a 429 counts too)
    assert cc.call(MEASURED + 2.5) == "quota"  # the seventh
    assert (cc.throttled, cc.over_quota, cc.today) == (1, 1, 7)


def test_a_small_day_is_served_at_once_within_the_limits():
    sim = Simulation(companies=40, share=9_500, seed=3)
    figures = sim.run()
    assert figures.edits > 200 and figures.runs > 0
    assert figures.answered_429 == 0 and figures.exhausted_at is None
    assert figures.peak_per_second <= 4
    assert figures.undelivered == 0
    assert figures.p95 < 10.0  # under pace: the change window and the run, seconds
    assert figures.first_sync_start <= 60.0
    # Issue 20.4: the day's slack pays for reading unsubscribes before (nearly) every run.
    reads = figures.slack_reads / figures.runs
    assert 0.9 <= reads <= 1.0 and 1.0 <= figures.calls_per_run - reads <= 1.3
    assert figures.unsubscribes_age_p95 < 300
    assert figures.used == sim.cc.today <= 9_500
    assert all(row.met for row in rows_of(figures) if row.met is not None)


def test_a_pacer_whose_slack_pays_for_no_read_reads_unsubscribes_hours_apart():
    """The day the bench compares with at 1,000 and 3,000 companies."""
    figures = Simulation(companies=40, share=9_500, seed=3, slack_reads=False).run()
    assert figures.slack_reads == 0
    assert 1.0 <= figures.calls_per_run <= 1.3
    assert figures.unsubscribes_age_p95 > 3600


def test_a_share_too_small_for_the_day_widens_the_windows_and_never_runs_dry():
    sim = Simulation(companies=40, share=150, seed=3)
    figures = sim.run()
    assert figures.exhausted_at is None and figures.answered_429 == 0
    assert figures.used <= 150
    assert figures.p95 > 600  # companies waited their turn, gathering their changes
    assert figures.calls_per_edit < 0.5
    assert figures.most_waiting > 1


@pytest.mark.parametrize("seed", [1, 2])
def test_the_same_seed_gives_the_same_day(seed):
    assert Simulation(companies=10, share=9_500, seed=seed).run() == (
        Simulation(companies=10, share=9_500, seed=seed).run()
    )

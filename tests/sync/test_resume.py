"""A run cut off anywhere resumes from its checkpoint: nobody lost, nobody twice (the engine's
decisions: against the in-process fakes of the providers, tests/plugins/fakes.py)."""

import pytest

from ccsync.sync import runs, selectors, services, worker
from ccsync.sync.models import CustomerRecord, Run
from integrations.constantcontact.client import ConstantContactClient
from integrations.limiter import get_limiter
from tests.plugins.companies import person

ELIGIBLE = [f"c{i}@example.com" for i in range(8)]


class Killed(BaseException):
    """Like SIGKILL: no except clause of the engine sees it."""


@pytest.fixture
def company(fakes, settings):
    settings.SYNC_PAGE_SIZE = 3
    settings.SYNC_IMPORT_CHUNK_ROWS = 3
    return fakes.install(
        *[person(f"Customer {i}", email) for i, email in enumerate(ELIGIBLE)],
        person("No Email"),
        person("Sleeping", "sleep@example.com", Active=False),
    )


def assert_synced_exactly_once(company, run: Run) -> None:
    assert run.state == Run.State.COMPLETED, run.error
    contacts = company.contacts()
    assert sorted(contacts) == sorted(ELIGIBLE)  # contacts are keyed by email
    assert all(c["list_names"] == ["Customers"] for c in contacts.values())
    records = CustomerRecord.objects.filter(tenant=company.tenant)
    assert records.filter(outcome="synced").count() == 8
    assert records.filter(outcome="skipped").count() == 2
    assert (run.synced, run.skipped, run.failed, run.total) == (8, 2, 0, 10)


@pytest.fixture
def cut():
    """Patches a test takes back midway (`cut.undo()`), the fixtures' own (the fakes) kept."""
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def kill_at_checkpoint(cut, number: int) -> None:
    real, calls = runs.checkpoint, {"n": 0}

    def checkpoint(sync, **changes):
        calls["n"] += 1
        if calls["n"] == number:
            raise Killed
        real(sync, **changes)

    cut.setattr(runs, "checkpoint", checkpoint)


# Checkpoints of this run: 1 unsubscribes, 2 count, 3-6 pages, 7 rules applied, then per
# chunk of 3: 8/10/12 import started, 9/11/13 import confirmed.
@pytest.mark.parametrize("number", [1, 2, 4, 6, 7, 8, 9, 12, 13])
def test_killed_at_a_checkpoint_resumes_on_redelivery(company, cut, number):
    kill_at_checkpoint(cut, number)
    with pytest.raises(Killed):
        company.run(worker="task-1")
    cut.undo()
    run = Run.objects.get(tenant=company.tenant)
    assert run.state == Run.State.RUNNING  # as a dead worker left it
    assert_synced_exactly_once(company, company.run(run, worker="task-1"))


@pytest.mark.parametrize("imports_before_kill", [1, 2])
def test_killed_after_an_import_was_sent_resends_it_without_duplicates(
    company, cut, imports_before_kill
):
    real, calls = ConstantContactClient.import_contacts, {"n": 0}

    def import_then_die(self, **kwargs):
        answer = real(self, **kwargs)
        calls["n"] += 1
        if calls["n"] == imports_before_kill:
            raise Killed  # the activity exists, our checkpoint does not know it
        return answer

    cut.setattr(ConstantContactClient, "import_contacts", import_then_die)
    with pytest.raises(Killed):
        company.run(worker="task-1")
    cut.undo()
    assert_synced_exactly_once(company, company.run(worker="task-1"))


def test_another_worker_takes_over_only_once_the_first_went_quiet(company, cut, settings):
    kill_at_checkpoint(cut, 5)
    with pytest.raises(Killed):
        company.run(worker="dead-worker")
    cut.undo()
    run = Run.objects.get(tenant=company.tenant)
    assert not runs.claim(run_id=run.pk, worker="other-worker")  # still fresh
    settings.SYNC_STALE_RUN_SECONDS = 0
    assert_synced_exactly_once(company, company.run(run, worker="other-worker"))


def test_two_workers_cannot_both_claim_a_run(company):
    run = selectors.open_run(tenant=company.tenant)
    assert runs.claim(run_id=run.pk, worker="a")
    assert not runs.claim(run_id=run.pk, worker="b")
    assert runs.claim(run_id=run.pk, worker="a")  # a redelivered task keeps its claim


def test_pause_stops_at_the_next_checkpoint_and_resume_finishes(company, cut):
    real, calls = runs.checkpoint, {"n": 0}

    def pause_midway(sync, **changes):
        calls["n"] += 1
        if calls["n"] == 4:
            services.pause(tenant=company.tenant)
        real(sync, **changes)

    cut.setattr(runs, "checkpoint", pause_midway)
    run = company.run()
    cut.undo()
    assert run.state == Run.State.PAUSED
    assert services.sync_now(tenant=company.tenant) is None  # paused means paused
    resumed = services.resume(tenant=company.tenant)
    assert resumed.pk == run.pk and resumed.state == Run.State.QUEUED
    assert_synced_exactly_once(company, company.run(resumed))


def test_an_exhausted_daily_quota_pauses_until_midnight(company):
    get_limiter().exhaust_constantcontact_today()
    try:
        run = company.run()
    finally:
        get_limiter().backend.client.flushdb()
    assert run.state == Run.State.PAUSED
    assert run.paused_until is not None and run.paused_until.hour == 0
    assert "paused until 00:00 UTC" in run.error
    assert company.contacts() == {}


def test_disconnect_cancels_the_run(company):
    run = selectors.open_run(tenant=company.tenant)
    assert services.stop_syncs(tenant=company.tenant) == 1
    assert worker.execute(run_id=run.pk, worker="w") is None  # nothing to claim
    run.refresh_from_db()
    assert run.state == Run.State.CANCELLED

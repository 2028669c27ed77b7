"""A real Celery worker SIGKILLed at three points of a first sync, a new one started each
time: beat's stuck-run recovery hands the run to the new worker, which resumes from the
checkpoint. Nothing lost, nothing twice."""

import psycopg2

from support.stack import spawn_worker, wait_for
from tests.faults.conftest import (
    RUN_TIMEOUT,
    AppDatabase,
    kill_worker,
    new_live_company,
    run_where,
    the_worker,
)
from tests.faults.expect import wait_until_list_matches


def lock_waiters(app_db: AppDatabase) -> int:
    """Sessions of the app's database waiting for a row lock."""
    return app_db.query(
        "SELECT count(*) AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE NOT l.granted AND a.datname = current_database()"
    )[0]["n"]


def imports_awaiting(app_db: AppDatabase, run_id: int) -> int:
    """The run's imports sent to Constant Contact and not yet confirmed."""
    return app_db.query(
        "SELECT count(*) AS n FROM sync_contactimport WHERE run_id = %s AND state = 'sent'",
        run_id,
    )[0]["n"]


def test_a_first_sync_survives_its_worker_killed_three_times(live, app_db):
    company = new_live_company(live, customers=40)
    # Slow providers stretch each step; imports are processed at 8 contacts a second.
    live.sandbox.set_knobs(
        quickbooks_latency_ms=300, constantcontact_latency_ms=600, cc_import_rate_per_second=8
    )
    company.install()
    realm = company.realm_id

    # 1. While reading customer pages: some read, more to come.
    run = run_where(
        app_db,
        realm,
        "the run to be reading pages",
        lambda r: r["checkpoint"].get("phase") == "read" and r["checkpoint"]["position"] > 6,
    )
    kill_worker(live, the_worker(live))
    assert run["checkpoint"]["position"] <= run["checkpoint"]["expected"]
    spawn_worker(live, "worker-after-kill-1")

    # 2. Right after an import was sent, before its activity was recorded: the run's row is
    # held, so the worker's next checkpoint waits, and it dies waiting.
    run = run_where(
        app_db,
        realm,
        "the rules to be applied",
        lambda r: r["checkpoint"].get("phase") == "send" and r["state"] == "running",
    )
    holder = psycopg2.connect(live.env["DATABASE_URL"])
    try:
        with holder.cursor() as cursor:
            cursor.execute("SELECT id FROM sync_run WHERE id = %s FOR UPDATE", (run["id"],))
        wait_for(lambda: lock_waiters(app_db), timeout=RUN_TIMEOUT, what="the import to be sent")
        kill_worker(live, the_worker(live))
    finally:
        holder.rollback()
        holder.close()
    run = app_db.runs(realm)[0]
    assert imports_awaiting(app_db, run["id"]) == 0 and run["sent"] == run["synced"] == 0
    spawn_worker(live, "worker-after-kill-2")

    # 3. While waiting for Constant Contact to confirm an import it recorded.
    run = run_where(
        app_db,
        realm,
        "an import awaiting its confirmation",
        lambda r: r["state"] == "running" and imports_awaiting(app_db, r["id"]) > 0,
    )
    kill_worker(live, the_worker(live))
    spawn_worker(live, "worker-after-kill-3")

    run = run_where(
        app_db,
        realm,
        "the run to finish",
        lambda r: r["state"] not in ("queued", "running"),
        interval=0.3,
    )
    assert run["state"] == "completed", run["error"]
    wait_until_list_matches(company.target, timeout=10)
    assert run["synced"] > 0 and run["failed"] == 0
    assert run["done"] == run["total"] == run["checkpoint"]["expected"]

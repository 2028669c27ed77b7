"""Redis (the broker and the shared rate limiter) crashes mid-run and comes back empty: the
run still finishes, with every eligible customer in the list exactly once."""

from support.stack import Stack, spawn_worker, wait_for
from tests.faults.conftest import RUN_TIMEOUT, new_live_company, run_where
from tests.faults.expect import wait_until_list_matches


def restart_dead_workers(stack: Stack) -> None:
    """What the deployment's process supervisor does (docker-compose: restart:
    unless-stopped): Celery 5.7's worker exits when the broker drops while a task it has not
    acknowledged yet is running ("Unrecoverable error: AttributeError ... 'hostname'")."""
    for name, process in list(stack.processes.items()):
        if name.startswith("worker") and process.poll() is not None:
            del stack.processes[name]
            spawn_worker(stack, f"{name}-restarted")


def test_redis_restarted_mid_run(live, app_db, redis_server):
    company = new_live_company(live, customers=30)
    live.sandbox.set_knobs(
        quickbooks_latency_ms=300, constantcontact_latency_ms=300, cc_import_rate_per_second=10
    )
    company.install()
    run_where(
        app_db,
        company.realm_id,
        "the run to be reading pages",
        lambda r: r["checkpoint"].get("phase") == "read" and r["checkpoint"]["position"] > 6,
    )
    workers = {n: p for n, p in live.processes.items() if n.startswith("worker")}
    logs = [live.log_dir / f"{name}.log" for name in workers]

    def sync_met_it() -> bool:
        """The sync task has ended (Celery logs a task that fails or is rejected; a retry
        cannot be sent without the broker), its run has, or its worker has exited."""
        return (
            any("Task sync.run[" in log.read_text(errors="replace") for log in logs)
            or app_db.runs(company.realm_id)[0]["state"] != "running"
            or any(process.poll() is not None for process in workers.values())
        )

    redis_server.kill()  # no persistence: queued and unacknowledged messages are gone
    try:
        wait_for(sync_met_it, timeout=RUN_TIMEOUT, what="the sync to meet the dead Redis")
    finally:
        redis_server.start()

    def finished() -> dict | None:
        restart_dead_workers(live)
        run = app_db.runs(company.realm_id)[0]
        return run if run["state"] not in ("queued", "running") else None

    run = wait_for(finished, timeout=RUN_TIMEOUT, what="the run to finish", interval=0.3)
    assert run["state"] == "completed", run["error"]
    wait_until_list_matches(company.target, timeout=10)

"""Benchmark: the first sync of a 12,000-customer company against the sandbox.

    .venv/bin/python bench/first_sync.py [--customers 12000] [--latency-ms 150]

Starts its own sandbox (fresh database), seeds the company (about 13% of the seeded
customers are not eligible: no email, invalid, inactive; sub-customers share emails),
installs the app through the real OAuth journey, injects the latency into every provider
call, then runs the first sync in this process as one worker would and prints the wall
time and the calls per synced contact to each provider. The app's database is a temporary
SQLite file unless DATABASE_URL is set; the rate limiter is in process unless REDIS_URL is.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=12_000)
    parser.add_argument("--latency-ms", type=int, default=150)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="ccsync-bench-"))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{work / 'app.sqlite3'}")
    os.environ.setdefault("REDIS_URL", "")
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")
    os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
    os.environ["HTTPS"] = "false"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"

    import django

    django.setup()

    import requests
    from django.conf import settings
    from django.core.management import call_command

    from ccsync.sync import engine, services
    from ccsync.sync.models import Run
    from tests.sandbox_server import start_sandbox, stop_sandbox
    from tests.tenants.conftest import Journey

    call_command("migrate", verbosity=0)
    sandbox = start_sandbox(work / "sandbox")
    try:
        for name, value in {
            "INTUIT_ENVIRONMENT": sandbox.discovery_url,
            "QUICKBOOKS_API_BASE": sandbox.quickbooks_api_base,
            "CONSTANTCONTACT_AUTHORIZE_URL": f"{sandbox.cc_oauth_base}/authorize",
            "CONSTANTCONTACT_TOKEN_URL": f"{sandbox.cc_oauth_base}/token",
            "CONSTANTCONTACT_REVOKE_URL": f"{sandbox.cc_oauth_base}/revoke",
            "CONSTANTCONTACT_API_BASE": sandbox.cc_api_base,
        }.items():
            setattr(settings, name, value)
        # The first sync runs below, in this process, not through a broker.
        services._enqueue = lambda run: None

        journey = Journey(sandbox)
        identity = journey.new_identity("Bench Co")
        account = journey.new_account("Customers")
        seeded = requests.post(
            f"{sandbox.url}/_sandbox/quickbooks/{identity.realm_id}/seed",
            json={"count": args.customers, "random_seed": 0},
            timeout=600,
        )
        seeded.raise_for_status()
        journey.full_install(identity, account, "Customers")
        run = Run.objects.get(tenant__realm_id=identity.realm_id)

        sandbox.set_knobs(
            quickbooks_latency_ms=args.latency_ms, constantcontact_latency_ms=args.latency_ms
        )
        requests.post(f"{sandbox.url}/_sandbox/cc/usage/reset", timeout=10).raise_for_status()
        started = time.monotonic()
        engine.execute(run_id=run.pk, worker="bench")
        wall = time.monotonic() - started
        run.refresh_from_db()
        usage = requests.get(f"{sandbox.url}/_sandbox/cc/usage", timeout=10).json()
        contacts = requests.get(
            f"{sandbox.url}/_sandbox/cc/accounts/{account.username}/contacts", timeout=120
        ).json()["contacts"]
    finally:
        stop_sandbox(sandbox)

    synced = max(run.synced, 1)
    qb, cc = run.quickbooks_calls, run.constantcontact_calls
    for label, value in [
        ("customers in QuickBooks", args.customers),
        ("latency per provider call", f"{args.latency_ms} ms"),
        ("run state", f"{run.state} {run.error}".rstrip()),
        ("synced / skipped / failed", f"{run.synced} / {run.skipped} / {run.failed}"),
        ("contacts in Constant Contact", len(contacts)),
        ("wall time", f"{wall:.1f} s"),
        ("QuickBooks calls", f"{qb} ({qb / synced:.4f} per synced contact)"),
        ("Constant Contact calls", f"{cc} ({cc / synced:.4f} per synced contact)"),
        (
            "  as the sandbox counted",
            f"{usage['calls_total']} (peak {usage['peak_per_second']}/s, "
            f"throttled {usage['throttled']})",
        ),
    ]:
        print(f"{label:<30}{value}")


if __name__ == "__main__":
    main()

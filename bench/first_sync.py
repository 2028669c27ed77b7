"""First sync: a company of 12,000 customers (more than 10,000 distinct eligible addresses,
so the cap bites), installed through both consents, synced by one worker process with 150 ms
on every provider call and the real limits. Figures: wall time, calls per synced contact to
each provider, and the worker's peak memory compared with a first sync of 3,000 customers.

The run is executed by `python -m bench.sync_worker` (a fresh process doing what a worker
does), so its peak memory is the sync's own.
"""

import json
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

from bench import provision
from bench.harness import Bench
from bench.report import Row
from support.sandbox_server import ROOT

NAME = "First sync"
MEMORY_MARGIN = 1.10  # "flat": the bigger company's peak within 10% of the smaller one's


@dataclass(frozen=True)
class FirstSync:
    customers: int
    seconds: float
    baseline_mib: float
    peak_mib: float
    run: Any  # ccsync.sync.models.Run, as it ended
    over_cap: int
    contacts: int
    usage: dict[str, Any]
    installed: provision.Installed
    endpoints: dict[str, int]  # the run's calls by "provider:endpoint"


def first_sync(
    bench: Bench,
    customers: int,
    *,
    distinct: int | None = None,
    sales: provision.SalesChoice | None = None,
) -> FirstSync:
    """A company of `customers`, `distinct` of them (default a quarter) with addresses of
    their own; with `sales`, the others have sales transactions and the tenant sends the
    figures."""
    from ccsync.sync.models import CustomerRecord, Run
    from ccsync.sync.rules import SkipReason

    stack = bench.stack
    identity = provision.new_identity(stack, [f"First Sync {customers}"])
    distinct = customers // 4 if distinct is None else distinct
    provision.add_customers(
        stack,
        identity.realm_id,
        seeded=customers - distinct,
        distinct=distinct,
        sales=sales is not None,
    )
    with provision.first_syncs_held():
        installed = provision.install(stack, identity, identity.realm_id, sales=sales)
    bench.reset_usage()
    done = subprocess.run(
        [sys.executable, "-m", "bench.sync_worker", str(installed.run_id)],
        cwd=ROOT,
        env=stack.env,
        capture_output=True,
        text=True,
        check=True,
    )
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    usage = bench.usage()
    run = Run.objects.get(pk=installed.run_id)
    over_cap = CustomerRecord.objects.filter(
        tenant_id=installed.tenant_id, reason=SkipReason.OVER_CAP
    ).count()
    in_list = [
        contact
        for contact in bench.contacts(installed.cc_username)
        if provision.LIST_NAME in contact["list_names"]
    ]
    return FirstSync(
        customers=customers,
        seconds=measured["seconds"],
        baseline_mib=measured["baseline_kib"] / 1024,
        peak_mib=measured["peak_kib"] / 1024,
        run=run,
        over_cap=over_cap,
        contacts=len(in_list),
        usage=usage,
        installed=installed,
        endpoints=measured["endpoints"],
    )


def run(bench: Bench) -> list[Row]:
    small = first_sync(bench, bench.sizes.memory_customers)
    big = first_sync(bench, bench.sizes.first_sync_customers)
    return rows(big, small, latency_ms=bench.sizes.latency_ms)


def rows(big: FirstSync, small: FirstSync, *, latency_ms: int) -> list[Row]:
    name = f"{NAME} ({big.customers:,} customers, {latency_ms} ms per call)"
    return [*_outcome_rows(name, big), *_cost_rows(name, big, small)]


def _outcome_rows(name: str, big: FirstSync) -> list[Row]:
    """What the first sync did, and how long it took."""
    run = big.run
    return [
        Row(name, "run", f"{run.state} {run.error}".strip(), "completed", run.state == "completed"),
        Row(
            name,
            "synced / over the cap / other skips / failed",
            f"{run.synced:,} / {big.over_cap:,} / {run.skipped - big.over_cap:,} / {run.failed:,}",
            "the cap: 10,000 synced",
            run.synced == min(10_000, run.synced + big.over_cap) and run.failed == 0,
        ),
        Row(
            name,
            "contacts in the Constant Contact list",
            f"{big.contacts:,}",
            "= synced",
            big.contacts == run.synced,
        ),
        Row(
            name,
            "wall time, one worker",
            f"{big.seconds:.1f} s",
            "well under 60 s",
            big.seconds < 60,
        ),
    ]


def _cost_rows(name: str, big: FirstSync, small: FirstSync) -> list[Row]:
    """The provider calls per synced contact, and the worker's memory at two sizes."""
    run = big.run
    synced = max(run.synced, 1)
    qb, cc = run.quickbooks_calls, run.constantcontact_calls
    return [
        Row(
            name,
            "QuickBooks calls per synced contact",
            f"{qb / synced:.4f} ({qb} calls)",
            "≤ 0.002",
            qb / synced <= 0.002,
        ),
        Row(
            name,
            "Constant Contact calls per synced contact",
            f"{cc / synced:.4f} ({cc} calls; the sandbox counted {big.usage['calls_total']}, "
            f"{big.usage['throttled']} throttled)",
            "≤ 0.005",
            cc / synced <= 0.005,
        ),
        Row(
            name,
            "worker peak memory (RSS)",
            f"{big.peak_mib:.0f} MiB at {big.customers:,} customers, {small.peak_mib:.0f} MiB "
            f"at {small.customers:,} (the process before the run: {big.baseline_mib:.0f} MiB)",
            "flat (within 10%)",
            big.peak_mib <= small.peak_mib * MEMORY_MARGIN,
        ),
    ]

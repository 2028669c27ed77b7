"""Many tenants at once: 200 small companies installed (both consents, list chosen), then
all their first syncs handed to three worker processes at the same moment. They share the
one Constant Contact API key: the sandbox counts every call and refuses (429) any above 4 a
second; the workers share the limiter through Redis.
Figures: the peak rate and the refusals, the day's calls against the app's share, how many
finished and when."""

import random
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from bench import provision
from bench.harness import Bench
from bench.report import Row, median
from ccsync.sync.models import Run
from integrations.limiter import get_limiter
from support.stack import spawn_worker, wait_for

NAME = "Many tenants"
WORKERS = 3
SECONDS_PER_TENANT = 3.0  # give up waiting after this (Constant Contact's 4/s bounds it)


def run(bench: Bench) -> list[Row]:
    for number in range(2, WORKERS + 1):  # several processes: the limiter holds across them
        spawn_worker(bench.stack, f"worker-{number}")
    run_ids, began = _first_syncs_at_once(bench)
    runs = Run.objects.filter(pk__in=run_ids)
    wait_for(
        lambda: not runs.filter(state__in=Run.OPEN_STATES).exists(),
        timeout=60 + SECONDS_PER_TENANT * len(run_ids),
        what="every tenant's first sync",
        interval=1.0,
    )
    finished = [
        (run.finished_at - began).total_seconds()
        for run in runs
        if run.state == Run.State.COMPLETED and run.finished_at
    ]
    calls = sorted(runs.values_list("constantcontact_calls", flat=True))
    name = (
        f"{NAME} ({len(run_ids)} tenants of {'-'.join(map(str, bench.sizes.tenant_customers))} "
        f"customers, {WORKERS} worker processes)"
    )
    return [
        *_quota_rows(name, bench.usage()),
        Row(
            name,
            "tenants whose first sync completed",
            f"{len(finished)} of {len(run_ids)}",
            "all",
            len(finished) == len(run_ids),
        ),
        Row(
            name,
            "finish times after the start: first / median / last",
            f"{min(finished, default=0):.1f} s / {median(finished):.1f} s / "
            f"{max(finished, default=0):.1f} s",
        ),
        Row(
            name,
            "Constant Contact calls per tenant: min / median / max",
            f"{calls[0]} / {median(calls):g} / {calls[-1]}" if calls else "none",
        ),
    ]


def _first_syncs_at_once(bench: Bench) -> tuple[list[int], datetime]:
    """Every tenant installed with its first sync held, then all of them let go at once."""
    stack, sizes = bench.stack, bench.sizes
    identity = provision.new_identity(
        stack, [f"Tenant {number:03d}" for number in range(sizes.tenants)]
    )
    rng = random.Random(0)
    provision.in_parallel(
        lambda company: provision.add_customers(
            stack, company["realm_id"], seeded=rng.randint(*sizes.tenant_customers)
        ),
        identity.companies,
    )
    with provision.first_syncs_held():
        installed = provision.install_all(stack, identity)
    run_ids = [tenant.run_id for tenant in installed]
    bench.reset_usage()
    began = timezone.now()
    provision.start(run_ids)
    return run_ids, began


def _quota_rows(name: str, usage: dict) -> list[Row]:
    share = settings.SYNC_CC_DAILY_SHARE
    used_today = get_limiter().constantcontact_used_today()
    return [
        Row(
            name,
            "Constant Contact calls a second: peak / answered 429",
            f"{usage['peak_per_second']}/s / {usage['throttled']} "
            f"({usage['calls_total']:,} calls in all)",
            "never above 4/s: 0 refused",
            usage["peak_per_second"] <= 4 and usage["throttled"] == 0,
        ),
        Row(
            name,
            "the day's Constant Contact calls (the limiter's count, every benchmark)",
            f"{used_today:,} of the app's {share:,} share; {usage['quota_exceeded']} refused "
            "for the quota",
            f"≤ {share:,} (10,000/day less a margin)",
            used_today <= share and usage["quota_exceeded"] == 0,
        ),
    ]

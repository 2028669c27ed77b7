"""Many tenants at once: 200 small companies installed (both consents, list chosen), then
all their first syncs handed to the worker at the same moment. They share the one Constant
Contact API key: the sandbox counts every call and refuses (429) any above 4 a second.
Figures: the peak rate and the refusals, the day's calls against the app's share, how many
finished and when."""

import random

from django.conf import settings
from django.utils import timezone

from bench import provision
from bench.harness import Bench
from bench.report import Row, median
from ccsync.sync.models import Run
from integrations.limiter import get_limiter
from support.stack import wait_for

NAME = "Many tenants"
SECONDS_PER_TENANT = 3.0  # give up waiting after this (Constant Contact's 4/s bounds it)


def run(bench: Bench) -> list[Row]:
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
    runs = Run.objects.filter(pk__in=run_ids)
    wait_for(
        lambda: not runs.filter(state__in=Run.OPEN_STATES).exists(),
        timeout=60 + SECONDS_PER_TENANT * len(run_ids),
        what="every tenant's first sync",
        interval=1.0,
    )
    usage = bench.usage()
    finished = [
        (run.finished_at - began).total_seconds()
        for run in runs
        if run.state == Run.State.COMPLETED and run.finished_at
    ]
    calls = sorted(runs.values_list("constantcontact_calls", flat=True))
    share = settings.SYNC_CC_DAILY_SHARE
    used_today = get_limiter().constantcontact_used_today()
    name = (
        f"{NAME} ({len(run_ids)} tenants of {'-'.join(map(str, sizes.tenant_customers))} customers)"
    )
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

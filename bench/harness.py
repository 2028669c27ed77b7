"""The running product the benchmarks measure: the sandbox, the app under gunicorn, a Celery
worker and beat (support/stack.py), set as in production, with the providers' latency
injected by the sandbox; and this process, set up as the app (same database, broker and
keys) to provision tenants and read results."""

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import django
import requests

from support.stack import Stack, start_stack, stop_stack

# The stack's settings are the journeys' (DEBUG on: the production checks refuse the
# sandbox's plain-http URLs otherwise), except: changes are gathered for the product's
# default window (ccsync/settings.py), not the journeys' shorter one; and the web server
# runs one process per core, as a deployment on this machine would (ccsync/gunicorn_conf.py).
BENCH_ENV = {"SYNC_COALESCE_SECONDS": "2.0", "WEB_CONCURRENCY": str(os.cpu_count() or 1)}


@dataclass(frozen=True)
class Sizes:
    latency_ms: int = 150
    # First sync: a company of this many customers, a quarter of them added with addresses
    # of their own (so more than 10,000 distinct eligible addresses: the cap bites).
    first_sync_customers: int = 12_000
    memory_customers: int = 3_000  # the smaller first sync the worker's memory is compared to
    # Runs of changes: a company this big, edits at this pace, then a burst.
    changes_customers: int = 1_500
    edits: int = 200
    edits_per_second: float = 4.0
    burst: int = 1_000
    # Webhook endpoint: deliveries offered per second, for so long, after a warm-up.
    webhook_rate: int = 200
    webhook_seconds: float = 10.0
    webhook_warmup_seconds: float = 2.0
    # Many tenants: this many, each with between these numbers of customers.
    tenants: int = 200
    tenant_customers: tuple[int, int] = (20, 50)
    # Sales data: first syncs of companies this big (seeded with sales), then a burst of
    # invoices for this many different customers.
    sales_customers: int = 10_000
    sales_invoices: int = 100


FULL = Sizes()
# Every benchmark's code path in well under a minute, for the smoke test.
TINY = Sizes(
    first_sync_customers=80,
    memory_customers=40,
    changes_customers=60,
    edits=6,
    burst=20,
    webhook_rate=40,
    webhook_seconds=1.0,
    webhook_warmup_seconds=0.5,
    tenants=3,
    tenant_customers=(5, 8),
    sales_customers=60,
    sales_invoices=10,
)


class Bench:
    def __init__(self, stack: Stack, sizes: Sizes) -> None:
        self.stack = stack
        self.sizes = sizes

    @property
    def sandbox_url(self) -> str:
        return self.stack.sandbox.url

    def usage(self) -> dict[str, Any]:
        """Constant Contact's count of the app's API calls (every tenant, since the reset)."""
        return requests.get(f"{self.sandbox_url}/_sandbox/cc/usage", timeout=10).json()

    def reset_usage(self) -> None:
        requests.post(f"{self.sandbox_url}/_sandbox/cc/usage/reset", timeout=10).raise_for_status()

    def contacts(self, username: str) -> list[dict[str, Any]]:
        return requests.get(
            f"{self.sandbox_url}/_sandbox/cc/accounts/{username}/contacts", timeout=300
        ).json()["contacts"]


def start(var_dir: Path, sizes: Sizes) -> Bench:
    """The stack, and this process set up as its app (Django settings from its environment)."""
    stack = start_stack(var_dir, name="bench", extra_env=BENCH_ENV)
    try:
        os.environ.update(stack.env)
        django.setup()
        stack.sandbox.set_knobs(
            quickbooks_latency_ms=sizes.latency_ms,
            constantcontact_latency_ms=sizes.latency_ms,
            webhook_delay_seconds=0.0,
        )
    except BaseException:
        stop_stack(stack)
        raise
    return Bench(stack, sizes)


def stop(bench: Bench) -> None:
    from django.db import connections

    connections.close_all()  # the stack's database is dropped
    stop_stack(bench.stack)

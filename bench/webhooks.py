"""The webhook endpoint under load: `python -m bench.loadgen`, a second process on loopback,
offers signed deliveries (one customer event each, for a connected tenant whose changes the
worker syncs meanwhile) at hundreds a second for a bounded time against the app under
gunicorn. Figures: answers a second, latency p50 / p99, and whether every one was stored."""

import json
import subprocess
import sys

from bench import provision
from bench.harness import Bench, Sizes
from bench.report import Row, percentile
from ccsync.sync.models import CustomerRecord, Run, WebhookEvent
from support.sandbox_server import ROOT
from support.stack import wait_for

NAME = "Webhook endpoint"
COMPANY_CUSTOMERS = 50
P99_TARGET_MS = 50
HUNDREDS = 200  # a second: what "hundreds a second" must at least be


def run(bench: Bench) -> list[Row]:
    stack, sizes = bench.stack, bench.sizes
    identity = provision.new_identity(stack, ["Webhooks"])
    provision.add_customers(stack, identity.realm_id, seeded=COMPANY_CUSTOMERS)
    installed = provision.install(stack, identity, identity.realm_id)
    wait_for(
        lambda: Run.objects.filter(pk=installed.run_id, state=Run.State.COMPLETED).exists(),
        timeout=120,
        what="the first sync",
    )
    customers = CustomerRecord.objects.filter(tenant_id=installed.tenant_id).values_list(
        "customer_id", flat=True
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.loadgen",
            "--url",
            f"{stack.app_url}/webhooks/quickbooks/",
            "--verifier",
            stack.sandbox.webhook_verifier_token,
            "--realm",
            installed.realm_id,
            "--customers",
            ",".join(customers),
            "--rate",
            str(sizes.webhook_rate),
            "--seconds",
            str(sizes.webhook_seconds),
            "--warmup",
            str(sizes.webhook_warmup_seconds),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    load = json.loads(done.stdout)
    stored = WebhookEvent.objects.filter(tenant_id=installed.tenant_id).count()
    return rows(load, stored=stored, sizes=sizes)


def rows(load: dict, *, stored: int, sizes: Sizes) -> list[Row]:
    rate, seconds = sizes.webhook_rate, sizes.webhook_seconds
    offered = sum(load["statuses"].values())
    answered = load["statuses"].get("200", 0)
    answered_in_warmup = load["warmup_statuses"].get("200", 0)
    throughput = answered / load["elapsed"]
    p50, p99 = (percentile(load["latencies"], share) * 1000 for share in (0.5, 0.99))
    behind = percentile(load["behind"], 0.99) * 1000
    name = (
        f"{NAME} ({rate}/s offered for {seconds:g} s, "
        f"after {sizes.webhook_warmup_seconds:g} s of warm-up)"
    )
    return [
        Row(
            name,
            "deliveries answered 200 a second",
            f"{throughput:.0f}/s ({answered:,} of {offered:,}; others: "
            f"{ {k: v for k, v in load['statuses'].items() if k != '200'} or 'none' })",
            f"hundreds a second (≥ {HUNDREDS}/s), all 200",
            throughput >= min(HUNDREDS, rate) * 0.95 and answered == offered,
        ),
        Row(
            name,
            "answer time p50 / p99",
            f"{p50:.1f} ms / {p99:.1f} ms",
            f"≤ {P99_TARGET_MS} ms p99",
            p99 <= P99_TARGET_MS,
        ),
        Row(
            name,
            "events stored (one per delivery)",
            f"{stored:,}",
            f"= deliveries answered, the warm-up's included ({answered + answered_in_warmup:,})",
            stored == answered + answered_in_warmup,
        ),
        Row(name, "load generator behind schedule, p99", f"{behind:.1f} ms"),
    ]

"""Runs of changes: customers edited in the sandbox's QuickBooks (its control API, as the
Customers page does), each edit delivered by the sandbox as a signed webhook (no aggregation
delay) to the app under gunicorn, synced by the Celery worker.

- Latency of each of 200 edits (made at a steady pace): from the webhook's arrival (the
  app's stored event) to the moment Constant Contact changed the contact (the sandbox's
  record of the import that carried it).
- Cost of a burst of 1,000 edits (made as fast as the sandbox takes them, in batches of 30
  like QuickBooks' batch operation; each edit still its own webhook event): the Constant
  Contact calls of the runs that synced them.
"""

import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from django.db.models import Min, Sum

from bench import provision
from bench.harness import Bench
from bench.report import Row, median, percentile
from ccsync.sync.models import CustomerRecord, Run, WebhookEvent
from support.stack import wait_for

NAME = "Runs of changes"
SETTLE_SECONDS = 180
BATCH = 30  # edits per request in a burst: QuickBooks' batch operation takes 30


def _edit(bench: Bench, realm_id: str, customer_id: str, given_name: str) -> None:
    bench.stack.control(
        "POST",
        f"/_sandbox/quickbooks/{realm_id}/customers/{customer_id}",
        {"GivenName": given_name},
    )


def settled(
    tenant_id: int, expected: dict[str, str], *, field: str = "row", key: str = "first_name"
) -> bool:
    """Every changed customer (id -> the value its record's `field` now holds at `key`)
    sent as it now is (in Constant Contact's hands: its import accepted; confirmations come
    hours later, with others), and the tenant's syncs all finished."""
    if Run.objects.filter(tenant_id=tenant_id, state__in=Run.OPEN_STATES).exists():
        return False
    if WebhookEvent.objects.filter(tenant_id=tenant_id, processed_at__isnull=True).exists():
        return False
    records = CustomerRecord.objects.filter(tenant_id=tenant_id, customer_id__in=list(expected))
    return all(
        values.get(key) == expected[customer_id] and hashed in (queued, sent)
        for customer_id, values, queued, sent, hashed in records.values_list(
            "customer_id", field, "queued_hash", "sent_hash", "row_hash"
        )
    )


def _settle(tenant_id: int, expected: dict[str, str]) -> None:
    wait_for(
        lambda: settled(tenant_id, expected),
        timeout=SETTLE_SECONDS,
        what="the edits to reach Constant Contact",
    )


def _synced_customers(tenant_id: int, count: int) -> list[tuple[str, str]]:
    """(customer id, address) of customers whose contact is theirs alone."""
    return list(
        CustomerRecord.objects.filter(tenant_id=tenant_id, outcome=CustomerRecord.Outcome.SYNCED)
        .order_by("pk")
        .values_list("customer_id", "email")[:count]
    )


def edit_latencies(
    bench: Bench, installed: provision.Installed, customers: Sequence[tuple[str, str]]
) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:6]
    expected = {cid: f"Edit{number}x{tag}" for number, (cid, _) in enumerate(customers)}
    edited_at: dict[str, datetime] = {}
    began = time.monotonic()
    for number, (customer_id, _) in enumerate(customers):
        time.sleep(max(0.0, began + number / bench.sizes.edits_per_second - time.monotonic()))
        edited_at[customer_id] = datetime.now(UTC)
        _edit(bench, installed.realm_id, customer_id, expected[customer_id])
    _settle(installed.tenant_id, expected)
    arrived = dict(
        WebhookEvent.objects.filter(
            tenant_id=installed.tenant_id,
            customer_id__in=list(expected),
            received_at__gte=min(edited_at.values()),
        )
        .values("customer_id")
        .annotate(first=Min("received_at"))
        .values_list("customer_id", "first")
    )
    contacts = {c["email"].lower(): c for c in bench.contacts(installed.cc_username)}
    latencies, delivery, missing = [], [], 0
    for customer_id, email in customers:
        contact = contacts.get(email.lower())
        if contact is None or contact["first_name"] != expected[customer_id]:
            missing += 1
            continue
        changed = datetime.fromisoformat(contact["changed_at"])
        latencies.append((changed - arrived[customer_id]).total_seconds())
        delivery.append((arrived[customer_id] - edited_at[customer_id]).total_seconds())
    return {"latencies": latencies, "delivery": delivery, "missing": missing}


def burst_cost(
    bench: Bench, installed: provision.Installed, customers: Sequence[tuple[str, str]]
) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:6]
    expected = {cid: f"Burst{number}x{tag}" for number, (cid, _) in enumerate(customers)}
    bench.reset_usage()
    began_at, began = datetime.now(UTC), time.monotonic()
    edits = [{"Id": cid, "GivenName": name} for cid, name in expected.items()]
    provision.in_parallel(
        lambda batch: bench.stack.control(
            "POST", f"/_sandbox/quickbooks/{installed.realm_id}/customers/batch", batch
        ),
        [edits[start : start + BATCH] for start in range(0, len(edits), BATCH)],
    )
    edits_seconds = time.monotonic() - began
    _settle(installed.tenant_id, expected)
    runs = Run.objects.filter(
        tenant_id=installed.tenant_id, kind=Run.Kind.CHANGES, created_at__gte=began_at
    )
    return {
        "edits": len(expected),
        "calls": runs.aggregate(calls=Sum("constantcontact_calls"))["calls"] or 0,
        # Contacts cleared of a field by GET + PUT are confirmed at once (imports later).
        "puts": runs.aggregate(puts=Sum("synced"))["puts"] or 0,
        "runs": runs.count(),
        "edits_seconds": edits_seconds,
        "settled_seconds": time.monotonic() - began,
        "usage": bench.usage(),
    }


def run(bench: Bench) -> list[Row]:
    sizes = bench.sizes
    identity = provision.new_identity(bench.stack, ["Runs of changes"])
    provision.add_customers(bench.stack, identity.realm_id, seeded=sizes.changes_customers)
    installed = provision.install(bench.stack, identity, identity.realm_id)
    wait_for(
        lambda: Run.objects.filter(pk=installed.run_id, state=Run.State.COMPLETED).exists(),
        timeout=300,
        what="the first sync",
    )
    customers = _synced_customers(installed.tenant_id, max(sizes.edits, sizes.burst))
    edits = edit_latencies(bench, installed, customers[: sizes.edits])
    burst = burst_cost(bench, installed, customers[: sizes.burst])
    return rows(edits, burst, edits_per_second=sizes.edits_per_second)


def rows(edits: dict[str, Any], burst: dict[str, Any], *, edits_per_second: float) -> list[Row]:
    latencies, count = edits["latencies"], len(edits["latencies"]) + edits["missing"]
    p95 = percentile(latencies, 0.95)
    name = f"{NAME} ({count} edits, {edits_per_second:g} a second)"
    burst_name = f"{NAME} (a burst of {burst['edits']:,} edits)"
    imports = burst["calls"] - 2 * burst["puts"]
    return [
        Row(
            name,
            "webhook arrival → contact updated in Constant Contact: p50 / p95 (max)",
            f"{median(latencies):.2f} s / {p95:.2f} s ({max(latencies, default=0):.2f} s)",
            "≤ 5 s p95",
            p95 <= 5 and not edits["missing"],
        ),
        Row(
            name,
            "edits that reached Constant Contact",
            f"{len(latencies)} of {count}",
            "all",
            not edits["missing"],
        ),
        Row(
            name,
            "edit → webhook arrival (the sandbox's delivery): median",
            f"{median(edits['delivery']):.2f} s",
        ),
        Row(
            burst_name,
            "Constant Contact calls",
            f"{burst['calls']} in {burst['runs']} runs: {imports} for the imports, "
            f"{2 * burst['puts']} for the {burst['puts']} customers whose edit emptied a field "
            f"sent before (the sandbox counted {burst['usage']['calls_total']}, "
            f"{burst['usage']['throttled']} throttled)",
            "≤ 10 for the imports; 2 (GET + PUT, the only way to clear) a customer whose edit "
            "empties a field",
            imports <= 10 and burst["calls"] == imports + 2 * burst["puts"],
        ),
        Row(
            burst_name,
            "edits made / all in Constant Contact after",
            f"{burst['edits_seconds']:.1f} s / {burst['settled_seconds']:.1f} s",
        ),
    ]

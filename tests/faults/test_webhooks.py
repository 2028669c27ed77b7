"""Webhooks delivered twice, out of order and late, and two worker processes given the same
tenant at once: the list still ends equal to QuickBooks'."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import requests
from celery import Celery

from ccsync.base import jobs
from ccsync.sync.rules import customer_email, is_active, is_top_level
from support.stack import spawn_worker, wait_for
from tests.faults.conftest import RUN_TIMEOUT, kill_worker, new_live_company, run_where
from tests.faults.expect import Target, assert_list_matches_company, wait_until_list_matches
from tests.plugins.companies import sign


def events(realm_id: str, *changes: tuple[str, str, datetime]) -> bytes:
    """A signed-to-be CloudEvents body: (action, customer id, when) per event."""
    return json.dumps(
        [
            {
                "specversion": "1.0",
                "id": uuid.uuid4().hex,
                "source": "intuit.qbo",
                "type": f"qbo.customer.{action}.v1",
                "datacontenttype": "application/json",
                "time": when.isoformat(),
                "intuitentityid": customer_id,
                "intuitaccountid": realm_id,
                "data": {},
            }
            for action, customer_id, when in changes
        ]
    ).encode()


def deliver(app_url: str, body: bytes) -> int:
    answer = requests.post(
        f"{app_url}/webhooks/quickbooks/",
        data=body,
        headers={"Content-Type": "application/json", "intuit-signature": sign(body)},
        timeout=10,
    )
    return answer.status_code


def synced_customers(target: Target) -> list[dict]:
    """Active top-level customers whose address is theirs alone (each is one contact)."""
    customers = target.customers()
    addresses = [customer_email(c).address for c in customers]
    return [
        c
        for c, address in zip(customers, addresses, strict=True)
        if address and addresses.count(address) == 1 and is_active(c) and is_top_level(c)
    ]


def settled(live, app_db, realm_id: str) -> bool:
    """QuickBooks has delivered every webhook of the company and the app has synced them."""
    outbox = live.control("GET", "/_sandbox/quickbooks/webhooks")
    ours = [e for e in outbox["pending"] if e["realm_id"] == realm_id]
    undelivered = [
        d
        for d in outbox["deliveries"]
        if not d["delivered"] and any(e["realm_id"] == realm_id for e in d["events"])
    ]
    waiting = app_db.query(
        "SELECT count(*) AS n FROM sync_webhookevent e JOIN tenants_tenant t "
        "ON t.id = e.tenant_id WHERE t.realm_id = %s AND e.processed_at IS NULL",
        realm_id,
    )[0]["n"]
    open_runs = [r for r in app_db.runs(realm_id) if r["state"] in ("queued", "running")]
    return not (ours or undelivered or waiting or open_runs)


def test_webhooks_delivered_twice_out_of_order_and_late(live, app_db):
    company = new_live_company(live, customers=20)
    company.install()
    target = company.target
    wait_until_list_matches(target, timeout=RUN_TIMEOUT)
    live.sandbox.set_knobs(webhook_delay_seconds=2.0)  # QuickBooks' own deliveries come late

    renamed, moved, deleted, untouched = synced_customers(target)[:4]
    company.control("POST", f"/customers/{renamed['Id']}", {"FamilyName": "First"})
    company.control("POST", f"/customers/{renamed['Id']}", {"FamilyName": "Second"})
    address = f"moved.{uuid.uuid4().hex[:6]}@example.com"
    company.control("POST", f"/customers/{moved['Id']}", {"PrimaryEmailAddr": {"Address": address}})
    company.control("POST", f"/customers/{deleted['Id']}/delete")
    added = company.control(
        "POST",
        "/customers",
        {"GivenName": "Late", "FamilyName": "Comer", "PrimaryEmailAddr": {"Address": "late@x.io"}},
    )
    now = datetime.now(UTC)
    newest = events(
        company.realm_id,
        ("updated", renamed["Id"], now),
        ("updated", moved["Id"], now),
        ("deleted", deleted["Id"], now),
        ("created", added["Id"], now),
    )
    older = events(company.realm_id, ("updated", renamed["Id"], now - timedelta(minutes=1)))
    ancient = events(company.realm_id, ("updated", untouched["Id"], now - timedelta(days=1)))
    # Before QuickBooks' own (late) deliveries: the newest twice, then older news.
    for body in (newest, newest, older, ancient, older):
        assert deliver(live.app_url, body) == 200

    # Synced once, never taken back: the deleted customer's contact stays.
    kept = Target(**{**target.__dict__, "kept": frozenset({customer_email(deleted).address})})
    wait_until_list_matches(kept, timeout=RUN_TIMEOUT)
    wait_for(
        lambda: settled(live, app_db, company.realm_id),
        timeout=RUN_TIMEOUT,
        what="QuickBooks' late deliveries to be synced",
        interval=0.3,
    )
    assert_list_matches_company(kept)
    runs = app_db.runs(company.realm_id)
    assert {r["state"] for r in runs} == {"completed"}


def test_two_workers_given_the_same_tenant_at_once(live, app_db):
    spawn_worker(live, "second-worker")
    broker = Celery(broker=live.env["CELERY_BROKER_URL"])
    try:
        company = new_live_company(live, customers=30)
        live.sandbox.set_knobs(quickbooks_latency_ms=200, constantcontact_latency_ms=200)
        company.install()
        run = run_where(
            app_db, company.realm_id, "the first sync to run", lambda r: r["state"] == "running"
        )
        # The same run and the same tenant's changes handed to both workers at once.
        for _ in range(3):
            broker.send_task("sync.run", args=[run["id"]], queue=jobs.FIRST_SYNC)
            broker.send_task("sync.changes", args=[run["tenant_id"]], queue=jobs.WEBHOOKS)
        wait_until_list_matches(company.target, timeout=RUN_TIMEOUT)

        # A burst of edits (QuickBooks sends their webhooks) while both workers take the
        # tenant's changes.
        for customer in synced_customers(company.target)[:6]:
            company.control("POST", f"/customers/{customer['Id']}", {"FamilyName": "Burst"})
            broker.send_task("sync.changes", args=[run["tenant_id"]], queue=jobs.WEBHOOKS)
        wait_for(
            lambda: settled(live, app_db, company.realm_id),
            timeout=RUN_TIMEOUT,
            what="the edits to be synced",
            interval=0.3,
        )
        assert_list_matches_company(company.target)
        runs = app_db.runs(company.realm_id)
        assert {r["state"] for r in runs} == {"completed"}
        assert [r["kind"] for r in runs].count("first") == 1
    finally:
        broker.close()
        kill_worker(live, "second-worker")


def test_a_chunked_delivery_is_read_and_an_oversized_one_refused(live, app_db):
    """A delivery sent with Transfer-Encoding: chunked has no Content-Length: gunicorn hands
    the body over as it arrives, and the app reads it (it is not taken as empty, which
    fails the signature), up to SYNC_WEBHOOK_MAX_BYTES (2 MB; Intuit sets no limit,
    "2MB is a common default size limit": https://developer.intuit.com/app/developer/qbo/
    docs/develop/webhooks/managing-webhooks-notifications)."""
    company = new_live_company(live, customers=3)
    company.install()
    customer_id = synced_customers(company.target)[0]["Id"]
    body = events(company.realm_id, ("updated", customer_id, datetime.now(UTC)))

    def post_chunked(data: bytes) -> int:
        return requests.post(
            f"{live.app_url}/webhooks/quickbooks/",
            data=(data[n : n + 64] for n in range(0, len(data), 64)),  # a generator: chunked
            headers={"Content-Type": "application/json", "intuit-signature": sign(data)},
            timeout=30,
        ).status_code

    assert post_chunked(body) == 200
    stored = app_db.query(
        "SELECT e.customer_id FROM sync_webhookevent e JOIN tenants_tenant t "
        "ON t.id = e.tenant_id WHERE t.realm_id = %s",
        company.realm_id,
    )
    assert customer_id in {row["customer_id"] for row in stored}
    padded = json.loads(body)
    padded[0]["data"] = {"pad": "x" * (2 * 1024 * 1024)}
    assert post_chunked(json.dumps(padded).encode()) == 413

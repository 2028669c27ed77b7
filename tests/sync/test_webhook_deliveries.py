"""Webhook deliveries of every documented shape, as the sandbox sends them, reach the app:
an event it cannot use is logged and dropped, the rest stored and answered 200, and no
stored event can stop a tenant's runs of changes for good.

Sources (see also tests/sandbox/quickbooks/test_webhooks.py): Intuit's managing-webhooks page
(no limit to the events of a delivery; lastUpdated "2015-10-05T14:42:19-0700"),
https://developer.intuit.com/app/developer/qbo/docs/develop/webhooks/managing-webhooks-notifications
and its 2025 payload note (lastUpdated "2025-09-08T20:52:31.657Z", CloudEvents time in
nanoseconds), https://blogs.intuit.com/2025/11/12/upcoming-change-to-webhooks-payload-structure/
"""

import io
import json
import logging
from importlib import import_module

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test import RequestFactory
from django.utils import timezone

from ccsync.sync.models import CustomerRecord, Run, TenantSync, WebhookEvent
from ccsync.web.webhooks import quickbooks_webhook
from tests.plugins.companies import cloud_events, person, sign
from tests.plugins.webhook_receiver import Receiver

UNUSABLE = ["void", "not_an_id", "too_long", "nul", "lone_surrogate", "unknown_entity"]


@pytest.fixture
def synced(install):
    company = install(person("Ann Lee", "ann@example.com"), person("Bo Li", "bo@example.com"))
    assert company.run().state == Run.State.COMPLETED
    return company


def forward(company, receiver: Receiver, count: int) -> list[int]:
    """The sandbox's first `count` deliveries, bytes and signature as sent, posted to the app."""
    return [
        company.journey.client.post(
            "/webhooks/quickbooks/",
            data=delivery.body,
            content_type="application/json",
            HTTP_INTUIT_SIGNATURE=delivery.headers["intuit-signature"],
        ).status_code
        for delivery in receiver.wait_for(count)[:count]
    ]


@pytest.mark.parametrize(
    ("webhook_format", "legacy_time"),
    [("legacy", "epoch_ms"), ("legacy", "utc_millis"), ("legacy", "offset"), ("cloudevents", "")],
)
def test_unusable_events_are_dropped_and_the_rest_synced(
    synced, receiver, knobs, caplog, webhook_format, legacy_time
):
    knobs(
        webhook_format=webhook_format,
        webhook_legacy_time=legacy_time or "offset",
        webhook_injected_events=UNUSABLE,
    )
    ann = synced.customer_id("Ann Lee")
    synced.change(ann, FamilyName="Shapes")
    with caplog.at_level(logging.WARNING, logger="ccsync.sync.event_store"):
        assert forward(synced, receiver, 1) == [200]

    stored = WebhookEvent.objects.filter(tenant=synced.tenant)
    assert sorted(stored.values_list("customer_id", "operation")) == [
        (ann, "update"),
        (ann, "void"),
    ]
    causes = {record.getMessage() for record in caplog.records}
    tenant = f"tenant={synced.tenant.pk} "
    expected = {
        "intuitentityid is not a QuickBooks id" if webhook_format == "cloudevents" else "id is",
        "too long",
        "NUL byte",
        "lone surrogate",
        "not an event of a customer or a sales transaction",
    }
    for cause in expected:
        assert any(tenant in line and cause in line for line in causes), (cause, causes)
    assert not any("@" in line for line in causes)

    run = synced.sync_changes()
    assert run.state == Run.State.COMPLETED
    assert synced.contacts()["ann@example.com"]["last_name"] == "Shapes"
    assert run.constantcontact_calls == 1  # the import, as for any one edit


def test_a_hundred_event_delivery_and_a_merge(synced, receiver, knobs):
    knobs(webhook_delay_seconds=0.5)  # the hundred creations gather into one delivery
    synced.add(*[person(f"New{n} Person", f"new{n}@example.com") for n in range(100)])
    assert forward(synced, receiver, 1) == [200]
    assert len(receiver.deliveries[0].json()) == 100
    ann, bo = synced.customer_id("Ann Lee"), synced.customer_id("Bo Li")
    synced.change(bo, f"merge-into/{ann}")
    assert forward(synced, receiver, 2)[1] == 200
    merge = WebhookEvent.objects.get(tenant=synced.tenant, operation="merge")
    assert (merge.customer_id, merge.deleted_id) == (ann, bo)

    run = synced.sync_changes()
    assert run.state == Run.State.COMPLETED
    contacts = synced.contacts()
    assert all(f"new{n}@example.com" in contacts for n in range(100))
    assert run.constantcontact_calls == 1  # the hundred in one import


def test_stored_ids_quickbooks_refuses_never_stop_the_changes(synced, caplog):
    """Events stored before the webhook checked ids (778ef3f stored "abc"): QuickBooks
    answers their Id IN (...) query with Fault 4001; the run isolates them and goes on."""
    ann = synced.customer_id("Ann Lee")
    synced.change(ann, FamilyName="Unstuck")
    now = timezone.now()
    for n, customer_id in enumerate(["abc", ann, "12345678901234567890123", "x'y"]):
        WebhookEvent.objects.create(
            tenant=synced.tenant,
            event_id=f"old-{n}",
            realm_id=synced.realm_id,
            customer_id=customer_id,
            operation="update",
            occurred_at=now,
        )
    with caplog.at_level(logging.WARNING, logger="ccsync.sync.kinds"):
        run = synced.sync_changes()

    assert run.state == Run.State.COMPLETED, run.error
    assert synced.contacts()["ann@example.com"]["last_name"] == "Unstuck"
    assert not WebhookEvent.objects.filter(tenant=synced.tenant, processed_at=None).exists()
    assert any(
        f"tenant={synced.tenant.pk} count=3" in record.getMessage() for record in caplog.records
    )
    assert run.constantcontact_calls == 1


def chunked(body: bytes, signature: str):
    """A request as gunicorn hands over a chunked body: no Content-Length, an input stream
    that ends with the body."""
    request = RequestFactory().post(
        "/webhooks/quickbooks/",
        data=body,
        content_type="application/json",
        HTTP_INTUIT_SIGNATURE=signature,
    )
    del request.META["CONTENT_LENGTH"]
    request.META["wsgi.input"] = io.BytesIO(body)
    request.META["wsgi.input_terminated"] = True
    return request


def test_a_chunked_delivery_is_read_and_capped(synced, settings):
    body = cloud_events(synced.realm_id, ("updated", synced.customer_id("Ann Lee")))
    assert quickbooks_webhook(chunked(body, sign(body))).status_code == 200
    assert WebhookEvent.objects.filter(tenant=synced.tenant).count() == 1
    settings.SYNC_WEBHOOK_MAX_BYTES = len(body) - 1
    assert quickbooks_webhook(chunked(body, sign(body))).status_code == 413


OUT_OF_RANGE_TIMES = [
    "0001-01-01T00:00:00+05:00",  # crosses year 0 once in UTC
    "9999-12-31T23:00:00-05:00",  # crosses year 9999
    "9999-12-31T23:59:59Z",
    253402300800000,  # epoch milliseconds past year 9999
]
PAGES = ["/status/", "/sync/status.json", "/sync/customers/", "/sync/customers.csv", "/sync/sales/"]


def load(company, path: str) -> int:
    answer = company.journey.client.get(path)
    if answer.streaming:
        b"".join(answer.streaming_content)
    return answer.status_code


def test_a_signed_delivery_whose_times_are_out_of_range_never_reaches_a_page(synced, caplog):
    """Issue 20.5: validly signed events whose times no page could read back are dropped
    at intake, logged with the tenant; the rest of the delivery is stored and synced."""
    ann = synced.customer_id("Ann Lee")
    synced.change(ann, FamilyName="Ranged")
    events = json.loads(cloud_events(synced.realm_id, ("updated", ann)))
    bad = [{**events[0], "id": f"bad-{n}", "time": t} for n, t in enumerate(OUT_OF_RANGE_TIMES)]
    body = json.dumps(bad + events).encode()
    with caplog.at_level(logging.WARNING, logger="ccsync.sync.event_store"):
        answer = synced.journey.client.post(
            "/webhooks/quickbooks/",
            data=body,
            content_type="application/json",
            HTTP_INTUIT_SIGNATURE=sign(body),
        )
    assert answer.status_code == 200
    stored = WebhookEvent.objects.filter(tenant=synced.tenant)
    assert list(stored.values_list("event_id", flat=True)) == [events[0]["id"]]
    dropped = [r.getMessage() for r in caplog.records if "time is out of range" in r.getMessage()]
    assert dropped == [
        f"webhook event dropped: tenant={synced.tenant.pk} cause=time is out of range count=4"
    ]
    assert all(load(synced, path) == 200 for path in PAGES)
    run = synced.sync_changes()
    assert run.state == Run.State.COMPLETED
    assert synced.contacts()["ann@example.com"]["last_name"] == "Ranged"
    last = synced.journey.client.get("/sync/status.json").json()["last_change_at"]
    assert last[:4] == str(timezone.now().year)


@pytest.mark.parametrize(
    "stored", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:00:00-05:00", "2999-01-01T00:00:00Z"]
)
def test_pages_never_fail_on_times_stored_out_of_range(synced, stored):
    """Times stored before intake checked them (straight into the database): the status
    page, its JSON and the customer pages answer 200 and show no such time. Then the
    migration that repairs them makes every row readable again."""
    ann = synced.customer_id("Ann Lee")
    event = WebhookEvent.objects.create(
        tenant=synced.tenant,
        event_id="stored-before",
        realm_id=synced.realm_id,
        customer_id=ann,
        operation="update",
        occurred_at=timezone.now(),
    )
    TenantSync.objects.update_or_create(tenant=synced.tenant)
    with connection.cursor() as cursor:
        for table, column, where in (
            ("sync_webhookevent", "occurred_at", event.pk),
            ("sync_tenantsync", "last_change_at", None),
            ("sync_customerrecord", "created_in_quickbooks", None),
        ):
            key = "id" if where else "tenant_id"
            cursor.execute(
                f"UPDATE {table} SET {column} = %s WHERE {key} = %s",  # noqa: S608
                [stored, where or synced.tenant.pk],
            )

    assert {path: load(synced, path) for path in PAGES} == dict.fromkeys(PAGES, 200)
    status = synced.journey.client.get("/sync/status.json").json()
    assert status["last_change_at"] is None or status["last_change_at"][:4] < "2999"

    repair = import_module("ccsync.sync.migrations.0006_times_out_of_range").repair
    repair(django_apps, None)
    event.refresh_from_db()
    assert event.occurred_at == event.received_at
    assert TenantSync.objects.get(tenant=synced.tenant).last_change_at is None
    created = CustomerRecord.objects.filter(tenant=synced.tenant)
    # Centuries ahead reads back (and sorts last); what crossed an end is made unknown.
    year = 2999 if stored.startswith("2999") else 9999
    assert {record.created_in_quickbooks.year for record in created} == {year}

"""Webhooks: Intuit's signature, both body formats, aggregation, retries, pause."""

import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

import requests

from sandbox.quickbooks import events

INTUIT_TOKEN = "b5771f19b12ddb4bcdb9f08bdc50bc63878a"
INTUIT_BODY = (
    b'{"eventNotifications":[{"realmId":"1185883450","dataChangeEvent":{"entities":'
    b'[{"name":"Customer","id":"1","operation":"Create","lastUpdated":'
    b'"2015-10-05T14:42:19-0700"}]}}]}'
)


def test_signature_matches_intuits_test_vector():
    signature = events.sign(body=INTUIT_BODY, verifier_token=INTUIT_TOKEN)
    assert signature == "JC2GUwciPmRBwEO7WvrRmKqu9tGOKL8FFallocTFi8Q="


def change(
    operation: str,
    customer_id: str,
    realm_id: str = "1185883450",
    deleted_id: str = "",
    entity: str = "Customer",
):
    return SimpleNamespace(
        event_id=uuid.uuid4(),
        realm_id=realm_id,
        entity=entity,
        customer_id=customer_id,
        operation=operation,
        deleted_id=deleted_id,
        occurred_at=datetime(2015, 10, 5, 21, 42, 19, tzinfo=UTC),
    )


def test_legacy_body_groups_entities_by_company():
    body = json.loads(
        events.body(
            changes=[
                change("created", "1"),
                change("merged", "2", deleted_id="3"),
                change("deleted", "9", realm_id="42"),
            ],
            webhook_format=events.LEGACY,
            source="intuit.x",
        )
    )
    first, second = body["eventNotifications"]
    assert first["realmId"] == "1185883450"
    assert first["dataChangeEvent"]["entities"] == [
        {
            "name": "Customer",
            "id": "1",
            "operation": "Create",
            "lastUpdated": "2015-10-05T14:42:19-0700",
        },
        {
            "name": "Customer",
            "id": "2",
            "operation": "Merge",
            "lastUpdated": "2015-10-05T14:42:19-0700",
            "deletedId": "3",
        },
    ]
    assert second["realmId"] == "42"
    assert second["dataChangeEvent"]["entities"][0]["operation"] == "Delete"


def test_retry_schedule_is_intuits():
    delays = [events.retry_delay(attempts=n, scale=1).total_seconds() for n in range(1, 11)]
    assert delays == [10, 20, 30, 300, 1200, 7200, 14400, 21600, 21600, 21600]
    assert events.retry_delay(attempts=1, scale=0.01).total_seconds() == 0.1


def verify(delivery, sandbox) -> None:
    assert delivery.headers["Content-Type"] == "application/json"
    expected = base64.b64encode(
        hmac.new(sandbox.webhook_verifier_token.encode(), delivery.body, hashlib.sha256).digest()
    ).decode()
    assert delivery.headers["intuit-signature"] == expected


def outbox(sandbox) -> dict:
    return requests.get(f"{sandbox.url}/_sandbox/quickbooks/webhooks", timeout=10).json()


def test_cloudevents_for_create_update_delete_and_merge(sandbox, receiver, company):
    first, second = company.create([{"DisplayName": "First"}, {"DisplayName": "Second"}])
    created = receiver.wait_for(1)[0]
    verify(created, sandbox)
    batch = created.json()
    assert isinstance(batch, list)
    assert [event["intuitentityid"] for event in batch] == [first["Id"], second["Id"]]
    event = batch[0]
    assert event["specversion"] == "1.0"
    assert event["type"] == "qbo.customer.created.v1"
    assert event["source"].startswith("intuit.")
    assert event["datacontenttype"] == "application/json"
    assert event["intuitaccountid"] == company.realm_id
    assert event["data"] == {}
    assert datetime.fromisoformat(event["time"]).tzinfo is not None
    assert len({event["id"] for event in batch}) == 2

    company.change(first["Id"], {"CompanyName": "First Co"})
    company.change(f"{first['Id']}/merge-into/{second['Id']}")
    third = company.create({"DisplayName": "Third"})
    company.change(f"{third['Id']}/delete")
    # Events made while a delivery is on its way gather into the next one.
    later = receiver.wait_for_cloud_events(6)[2:]
    assert [(event["type"], event["intuitentityid"]) for event in later] == [
        ("qbo.customer.updated.v1", first["Id"]),
        ("qbo.customer.merged.v1", second["Id"]),
        ("qbo.customer.created.v1", third["Id"]),
        ("qbo.customer.deleted.v1", third["Id"]),
    ]
    assert later[1]["data"] == {"deletedid": first["Id"]}
    for delivery in receiver.deliveries:
        verify(delivery, sandbox)


def test_legacy_format_and_aggregation(sandbox, receiver, company, knobs):
    knobs(webhook_format="legacy", webhook_delay_seconds=1.5)
    started = time.monotonic()
    one, two = company.create([{"DisplayName": "One"}, {"DisplayName": "Two"}])
    company.change(two["Id"], {"Notes": "edited"})
    company.change(f"{one['Id']}/merge-into/{two['Id']}")
    delivery = receiver.wait_for(1)[0]
    assert time.monotonic() - started >= 1.4  # held back for the aggregation delay
    verify(delivery, sandbox)
    body = delivery.json()
    (notification,) = body["eventNotifications"]
    assert notification["realmId"] == company.realm_id
    entities = notification["dataChangeEvent"]["entities"]
    assert [(e["name"], e["id"], e["operation"]) for e in entities] == [
        ("Customer", one["Id"], "Create"),
        ("Customer", two["Id"], "Create"),
        ("Customer", two["Id"], "Update"),
        ("Customer", two["Id"], "Merge"),
    ]
    assert entities[3]["deletedId"] == one["Id"]
    # Every event went in that one delivery: nothing is left to send.
    state = outbox(sandbox)
    mine = [d for d in state["deliveries"] if d["target_url"] == receiver.url]
    assert len(mine) == 1 and len(mine[0]["events"]) == 4
    assert [e for e in state["pending"] if e["target_url"] == receiver.url] == []


def test_failed_delivery_is_retried_and_later_events_wait(sandbox, receiver, company, knobs):
    knobs(webhook_retry_scale=0.01)
    receiver.statuses = [500, 503]
    first = company.create({"DisplayName": "Retried"})
    receiver.wait_for(1)
    second = company.create({"DisplayName": "Waits"})
    deliveries = receiver.wait_for(4)
    bodies = [delivery.json() for delivery in deliveries]
    # The same delivery (same event ids) three times, then the next one.
    assert bodies[0] == bodies[1] == bodies[2]
    assert [event["intuitentityid"] for event in bodies[0]] == [first["Id"]]
    assert [event["intuitentityid"] for event in bodies[3]] == [second["Id"]]
    state = [
        delivery
        for delivery in outbox(sandbox)["deliveries"]
        if delivery["target_url"] == receiver.url
    ]
    by_customer = {d["events"][0]["customer_id"]: d for d in state}
    assert by_customer[first["Id"]]["attempts"] == 3
    assert by_customer[first["Id"]]["delivered"] is True
    assert by_customer[second["Id"]]["attempts"] == 1


def test_paused_webhooks_wait_in_the_outbox(sandbox, receiver, company, knobs):
    knobs(webhooks_enabled=False)
    customer = company.create({"DisplayName": "Paused"})
    time.sleep(1)
    assert receiver.deliveries == []
    pending = [e for e in outbox(sandbox)["pending"] if e["target_url"] == receiver.url]
    assert [(e["customer_id"], e["operation"]) for e in pending] == [(customer["Id"], "created")]
    knobs(webhooks_enabled=True)
    assert receiver.wait_for(1)[0].json()[0]["intuitentityid"] == customer["Id"]


def test_only_connected_apps_hear_of_changes(sandbox, receiver, company):
    """Changes in a company no app is connected to go nowhere; seeding sends nothing."""
    company.seed(50)
    loose = requests.post(
        f"{sandbox.url}/_sandbox/quickbooks/999000111/customers",
        json={"DisplayName": "Nobody listens"},
        timeout=10,
    )
    assert loose.status_code == 201
    company.create({"DisplayName": "Heard"})
    (delivery,) = receiver.wait_for(1)
    assert [event["intuitentityid"] for event in delivery.json()] == ["51"]


def test_every_documented_time_shape_and_nanosecond_cloud_events():
    """Intuit's samples: legacy lastUpdated "2015-10-05T14:42:19-0700" (managing-webhooks-
    notifications) and "2025-09-08T20:52:31.657Z", CloudEvents time in nanoseconds
    "2025-09-10T21:31:25.179851517Z" (the 2025 payload note); epoch milliseconds as SDKs
    serialise a Date. https://developer.intuit.com/app/developer/qbo/docs/develop/webhooks/
    managing-webhooks-notifications, https://blogs.intuit.com/2025/11/12/upcoming-change-to-
    webhooks-payload-structure/"""
    moment = datetime(2015, 10, 5, 21, 42, 19, 657000, tzinfo=UTC)
    assert events.legacy_time(moment, "offset") == "2015-10-05T14:42:19-0700"
    assert events.legacy_time(moment, "utc_millis") == "2015-10-05T21:42:19.657Z"
    assert events.legacy_time(moment, "epoch_ms") == 1444081339657
    (cloud,) = json.loads(
        events.body(changes=[change("updated", "1")], webhook_format="cloudevents", source="s")
    )
    assert cloud["time"] == "2015-10-05T21:42:19.000000000Z"


def test_a_hundred_events_merges_voids_and_unusable_events_on_demand(
    sandbox, receiver, company, knobs
):
    """Intuit sets no limit to the events of a delivery ("There are no Intuit-imposed limits
    to either payload size or number of events", managing-webhooks-notifications); Customer
    events include Merge, the table lists Void for transactions (webhooks page). The knob
    webhook_injected_events adds events an app must survive: an id that is no QuickBooks
    id, values too long, NUL bytes, lone surrogates, a void and an entity it does not know.
    https://developer.intuit.com/app/developer/qbo/docs/develop/webhooks"""
    knobs(
        webhook_format="legacy",
        webhook_legacy_time="epoch_ms",
        webhook_delay_seconds=0.5,
        webhook_injected_events=list(events.INJECTED),
    )
    created = company.create([{"DisplayName": f"Customer {n}"} for n in range(100)])
    delivery = receiver.wait_for(1)[0]
    verify(delivery, sandbox)
    entities = delivery.json()["eventNotifications"][0]["dataChangeEvent"]["entities"]
    assert [e["id"] for e in entities[:100]] == [c["Id"] for c in created]
    assert all(isinstance(e["lastUpdated"], int) for e in entities)
    injected = entities[100:]
    assert [(e["name"], e["operation"]) for e in injected] == [
        ("Customer", "Void"),
        *[("Customer", "Update")] * 4,
        ("Widget", "Create"),
    ]
    assert [e["id"] for e in injected[1:5]] == ["abc", "9" * 40, "12\x0034", "\ud800"]
    assert b"\\ud800" in delivery.body  # escaped: the body stays valid UTF-8

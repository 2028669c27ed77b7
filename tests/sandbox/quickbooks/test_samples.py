"""The sandbox answers in the shape of Intuit's published samples (tests/samples/quickbooks/,
its README names each source): the same call, compared key by key and type by type
(tests.samples.shape_differences), never value by value."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.samples import sample, shape_differences

# What QuickBooks sets itself, never what a person types: a customer is made in the sandbox
# from the rest of a sample's customer, so everything QuickBooks adds must come from the
# sandbox.
SET_BY_QUICKBOOKS = {
    *("Id", "SyncToken", "MetaData", "domain", "sparse", "Job", "Level"),
    *("FullyQualifiedName", "Balance", "BalanceWithJobs"),
}
ADDRESS_SET_BY_QUICKBOOKS = {"Id", "Lat", "Long"}


def as_typed(customer: dict[str, Any]) -> dict[str, Any]:
    """A published customer as a person would enter it in QuickBooks."""
    typed = {key: value for key, value in customer.items() if key not in SET_BY_QUICKBOOKS}
    for kind in ("BillAddr", "ShipAddr"):
        if kind in typed:
            typed[kind] = {
                key: value
                for key, value in typed[kind].items()
                if key not in ADDRESS_SET_BY_QUICKBOOKS
            }
    return typed


def test_a_customer_read_has_the_published_shape(company, unthrottled):
    """Intuit's Customer reference, "Read a customer": https://developer.intuit.com/app/
    developer/qbo/docs/api/accounting/all-entities/customer (customer-read.json). Its
    addresses carry an Id and Lat/Long that QuickBooks sets ("INVALID" where it cannot
    place the address, as in the query sample)."""
    published = sample("quickbooks/customer-read.json")
    created = company.create(as_typed(published["Customer"]))

    answer = company.get(f"customer/{created['Id']}")

    assert answer.status_code == 200
    assert shape_differences(published, answer.json()) == []


def test_customers_queried_have_the_published_shape(company, unthrottled):
    """Same page, "Query a customer" (customer-query.json): Amy's Bird Sanctuary (taxable,
    two addresses, notes) and Weiskopf Consulting."""
    published = sample("quickbooks/customer-query.json")
    company.create([as_typed(customer) for customer in published["QueryResponse"]["Customer"]])

    answer = company.query("select * from Customer Where Metadata.LastUpdatedTime > '2015-03-01'")

    assert answer.status_code == 200
    body = answer.json()
    assert len(body["QueryResponse"]["Customer"]) == 2
    assert shape_differences(published, body) == []


def test_cdc_has_the_published_shape_deleted_rows_included(company, unthrottled):
    """ "Change data capture operation": https://developer.intuit.com/app/developer/qbo/docs/
    learn/explore-the-quickbooks-online-api/change-data-capture (cdc.json). A deleted
    object is {"domain", "status": "Deleted", "Id", "MetaData": {"LastUpdatedTime"}}."""
    published = sample("quickbooks/cdc.json")
    since = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    kept, gone = company.create([{"DisplayName": "Kept"}, {"DisplayName": "Gone"}])
    company.change(kept["Id"], {"Notes": "changed"})
    company.change(f"{gone['Id']}/delete")

    body = company.get("cdc", entities="Customer", changedSince=since).json()

    assert shape_differences(published, body) == []
    (section,) = body["CDCResponse"][0]["QueryResponse"]
    deleted = [row for row in section["Customer"] if row.get("status") == "Deleted"]
    published_deleted = published["CDCResponse"][0]["QueryResponse"][1]["Estimate"][2]
    assert [row["Id"] for row in deleted] == [gone["Id"]]
    assert shape_differences(published_deleted, deleted[0]) == []
    assert set(deleted[0]) == set(published_deleted)


def test_cdc_without_changes_answers_as_published(company, unthrottled):
    """Same page, the answer when nothing changed (cdc-no-changes.json): one empty
    QueryResponse entry, whatever entities were asked for."""
    published = sample("quickbooks/cdc-no-changes.json")
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()

    for entities in ("Customer", "Customer,Invoice,Payment"):
        body = company.get("cdc", entities=entities, changedSince=future).json()
        assert body["CDCResponse"] == published["CDCResponse"]
        assert shape_differences(published, body) == []


@pytest.mark.parametrize(
    ("webhook_format", "published"),
    [
        ("legacy", "webhook-legacy.json"),
        ("legacy", "webhook-legacy-2025.json"),
        ("cloudevents", "webhook-cloudevents-customer.json"),
        ("cloudevents", "webhook-cloudevents-2025.json"),
    ],
)
def test_webhook_deliveries_have_the_published_shape(
    receiver, company, knobs, webhook_format, published
):
    """Both formats: "Managing webhooks notifications" (webhook-legacy.json), the 2025
    payload note https://blogs.intuit.com/2025/11/12/upcoming-change-to-webhooks-payload-
    structure/ (webhook-*-2025.json) and Intuit's CloudEvents sample app
    (webhook-cloudevents-customer.json)."""
    knobs(webhook_format=webhook_format, webhook_delay_seconds=0)
    company.create({"DisplayName": "Webhook Shape"})

    (delivery,) = receiver.wait_for(1)

    assert shape_differences(sample(f"quickbooks/{published}"), delivery.json()) == []


def test_a_merge_delivery_has_the_published_data_object(receiver, company, knobs):
    """ "Understanding the data object", Customer merged: data.deletedid names the customer
    merged away. https://developer.intuit.com/app/developer/qbo/docs/develop/webhooks/
    data-objects (webhook-cloudevents-customer-merged.json)"""
    knobs(webhook_format="cloudevents", webhook_delay_seconds=0)
    merged, survivor = company.create([{"DisplayName": "Merged"}, {"DisplayName": "Survivor"}])
    receiver.wait_for(1)
    company.change(f"{merged['Id']}/merge-into/{survivor['Id']}")

    events = receiver.wait_for_cloud_events(3)
    (merge,) = [event for event in events if event["type"] == "qbo.customer.merged.v1"]

    published = sample("quickbooks/webhook-cloudevents-customer-merged.json")
    assert shape_differences(published, [merge]) == []
    assert (merge["intuitentityid"], merge["data"]) == (survivor["Id"], {"deletedid": merged["Id"]})

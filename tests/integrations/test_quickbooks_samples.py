"""The client reads what Intuit publishes: each sample of tests/samples/quickbooks/ (its
README names the sources) parsed by integrations/quickbooks/."""

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from integrations.quickbooks.client import QuickBooksClient
from integrations.quickbooks.webhooks import parse_delivery, verify_signature
from tests.integrations.conftest import QB_BASE
from tests.samples import sample, sample_bytes

pytestmark = pytest.mark.usefixtures("provider_settings")

COMPANY = f"{QB_BASE}/v3/company/4620816365"
NOT_OURS = "not an event of a customer or a sales transaction"


@pytest.fixture
def client(tokens):
    return QuickBooksClient(realm_id="4620816365", tokens=tokens)


def test_customers_queried(client, mocked):
    mocked.get(f"{COMPANY}/query", json=sample("quickbooks/customer-query.json"))

    amy, nicola = client.query_customers(where="Active IN (true, false)")

    assert (amy["Id"], amy["DisplayName"], amy["PrimaryEmailAddr"]["Address"]) == (
        "1",
        "Amy's Bird Sanctuary",
        "Birds@Intuit.com",
    )
    assert amy["ShipAddr"]["Line1"] == "4581 Finch St." and amy["Active"] is True
    assert (nicola["Id"], nicola["GivenName"], nicola["FamilyName"]) == (
        "29",
        "Nicola",
        "Weiskopf",
    )


def test_a_page_that_says_more_than_it_holds_still_ends_the_paging(client, mocked):
    """Intuit's sample says maxResults 6 and holds 2 customers: the client goes by the rows."""
    mocked.get(f"{COMPANY}/query", json=sample("quickbooks/customer-query.json"))

    pages = list(client.iter_customer_pages(page_size=1000))

    assert [[row["Id"] for row in rows] for _, rows in pages] == [["1", "29"]]
    assert len(mocked.calls) == 1


def test_changed_customers_of_the_published_cdc_answer(client, mocked):
    """The Customer section is read; the Estimate section (with its deleted row) is not
    the client's to return when it asked for customers."""
    mocked.get(f"{COMPANY}/cdc", json=sample("quickbooks/cdc.json"))

    changed = client.changed_customers(since=datetime(2015, 12, 23, 17, tzinfo=UTC))

    assert changed == [{"Id": "63"}, {"Id": "99"}]


def test_a_cdc_answer_without_changes(client, mocked):
    mocked.get(f"{COMPANY}/cdc", json=sample("quickbooks/cdc-no-changes.json"))

    since = datetime(2015, 12, 23, 17, tzinfo=UTC)
    assert client.changed_customers(since=since) == []
    assert client.changed_transactions(since=since) == []


@pytest.mark.parametrize("vector", sample("quickbooks/webhook-signatures.json"))
def test_the_published_signature_vectors(vector):
    body = vector["body"].encode()
    token, signature = vector["verifier_token"], vector["intuit_signature"]

    assert verify_signature(body=body, signature=signature, verifier_token=token)
    assert not verify_signature(body=body + b" ", signature=signature, verifier_token=token)
    assert not verify_signature(body=body, signature=signature, verifier_token=token + "x")


def test_the_legacy_sample_delivery():
    delivery = parse_delivery(body=sample_bytes("quickbooks/webhook-legacy.json"))

    (event,) = delivery.events
    assert (event.realm_id, event.entity, event.customer_id, event.operation) == (
        "1185883450",
        "Customer",
        "1",
        "create",
    )
    assert event.occurred_at == datetime(
        2015, 10, 5, 14, 42, 19, tzinfo=timezone(-timedelta(hours=7))
    )
    assert [(dropped.realm_id, dropped.cause) for dropped in delivery.dropped] == [
        ("1185883450", NOT_OURS)  # the Vendor
    ]


def test_the_signed_legacy_bodies_parse_too():
    """The SDKs' signed bodies: the .NET one carries a Vendor and a Customer."""
    vectors = sample("quickbooks/webhook-signatures.json")
    parsed = [parse_delivery(body=vector["body"].encode()) for vector in vectors[:2]]

    assert [[e.customer_id for e in delivery.events] for delivery in parsed] == [["1"], ["43"]]
    assert parsed[1].events[0].occurred_at == datetime(2016, 10, 5, 3, 7, 4, tzinfo=UTC)
    assert len(parsed[1].dropped) == 1


@pytest.mark.parametrize("name", ["webhook-legacy-2025.json", "webhook-cloudevents-2025.json"])
def test_the_2025_payload_notes_samples_are_deliveries_of_another_entity(name):
    """An Account event: the delivery is read, the event left out as another entity's."""
    delivery = parse_delivery(body=sample_bytes(f"quickbooks/{name}"))

    assert delivery.events == []
    assert [(dropped.realm_id, dropped.cause) for dropped in delivery.dropped] == [
        ("310687", NOT_OURS)
    ]


def test_the_cloud_events_sample_of_a_customer():
    body = sample_bytes("quickbooks/webhook-cloudevents-customer.json")
    (event,) = parse_delivery(body=body).events

    assert (event.event_id, event.realm_id, event.customer_id, event.operation) == (
        "88cd52aa-33b6-4351-9aa4-47572edbd068",
        "310687",
        "1234",
        "create",
    )
    assert event.occurred_at == datetime(2025, 9, 10, 21, 31, 25, 179000, tzinfo=UTC)
    assert event.deleted_id is None


def unmasked(name: str) -> bytes:
    """Intuit's data-object samples mask ids with '*'; digits in their place make the
    company id one QuickBooks could send (the parser refuses anything but digits)."""
    deliveries = sample(f"quickbooks/{name}")
    for event in deliveries:
        event["intuitaccountid"] = event["intuitaccountid"].replace("*", "0")
    return json.dumps(deliveries).encode()


@pytest.mark.parametrize(
    "name",
    [
        "webhook-cloudevents-customer-merged.json",
        "webhook-cloudevents-salesreceipt-updated.json",
    ],
)
def test_masked_company_ids_are_dropped_as_published(name):
    delivery = parse_delivery(body=sample_bytes(f"quickbooks/{name}"))

    assert delivery.events == []
    assert [(d.realm_id, d.cause) for d in delivery.dropped] == [
        ("", "intuitaccountid is not a QuickBooks id")
    ]


def test_a_customer_merged_names_the_customer_merged_away():
    (event,) = parse_delivery(body=unmasked("webhook-cloudevents-customer-merged.json")).events

    assert (event.realm_id, event.customer_id, event.operation, event.deleted_id) == (
        "93414556000000000",
        "123",
        "merge",
        "27",
    )
    assert event.event_id == "********-****-****-****-************-Customer-123"
    assert event.occurred_at == datetime(2025, 12, 4, 15, 25, 5, tzinfo=UTC)


def test_a_sales_receipt_updated_without_a_data_object():
    (event,) = parse_delivery(body=unmasked("webhook-cloudevents-salesreceipt-updated.json")).events

    assert (event.entity, event.transaction_id, event.customer_id, event.operation) == (
        "SalesReceipt",
        "150",
        "",
        "update",
    )
    assert event.deleted_id is None


def test_an_employee_is_no_event_of_ours():
    delivery = parse_delivery(body=unmasked("webhook-cloudevents-employee-created.json"))

    assert delivery.events == []
    assert [d.cause for d in delivery.dropped] == [NOT_OURS]

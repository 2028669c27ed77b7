"""Intuit's published customers (tests/samples/quickbooks/) become contacts by the sync's
own rules: the read and query samples' customers, and CDC's deleted row."""

from datetime import datetime, timedelta, timezone

from ccsync.sync.mapping import import_row
from ccsync.sync.rules import created_at, customer_email, is_active, is_top_level
from tests.samples import sample

PACIFIC_DAYLIGHT = timezone(-timedelta(hours=7))


def test_the_customer_read_becomes_a_contact():
    customer = sample("quickbooks/customer-read.json")["Customer"]
    email = customer_email(customer)

    assert email.address == "surf@intuit.com"
    assert is_active(customer) and is_top_level(customer)
    assert created_at(customer) == datetime(2014, 9, 11, 16, 49, 28, tzinfo=PACIFIC_DAYLIGHT)
    assert import_row(customer, email=email.address) == {
        "email": "surf@intuit.com",
        "first_name": "Bill",
        "last_name": "Lucchini",
        "company_name": "Bill's Windsurf Shop",
        "work_phone": "(415) 444-6538",
        "work_street": "12 Ocean Dr.",
        "work_city": "Half Moon Bay",
        "work_state": "CA",
        "work_zip": "94213",
    }


def test_the_customers_queried_become_contacts():
    amy, nicola = sample("quickbooks/customer-query.json")["QueryResponse"]["Customer"]

    row = import_row(amy, email=customer_email(amy).address)
    assert (row["email"], row["first_name"], row["last_name"]) == (
        "birds@intuit.com",
        "Amy",
        "Lauterbach",
    )
    # Both addresses go, Lat, Long and the address Id stay behind.
    assert row["work_street"] == row["other_street"] == "4581 Finch St."
    assert not any("INVALID" in value for value in row.values())
    assert customer_email(nicola).address == "consulting@intuit.com"
    assert import_row(nicola, email="consulting@intuit.com")["other_city"] == "Bayshore"


def test_a_deleted_row_of_cdc_is_not_active():
    (_customers, estimates) = sample("quickbooks/cdc.json")["CDCResponse"][0]["QueryResponse"]
    deleted = estimates["Estimate"][2]

    assert deleted["status"] == "Deleted"
    assert not is_active(deleted)

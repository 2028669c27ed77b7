"""The first sync against the sandbox over real HTTP: every rule of docs/product.md's
"Sync rules"."""

import pytest

from ccsync.sync import customer_state, judging, services, worker
from ccsync.sync.models import CustomerRecord, Run
from integrations import http
from integrations.constantcontact import errors as cc_errors
from tests.plugins.companies import person


def outcomes(company) -> dict[str, tuple[str, str]]:
    """{display name: (outcome, reason)} for every customer of the company."""
    return {
        record.display_name: (record.outcome, record.reason)
        for record in CustomerRecord.objects.filter(tenant=company.tenant)
    }


# The records are judged as a stream: the same outcomes whatever its chunks' sizes.
@pytest.mark.parametrize("chunk", [judging.JUDGE_CHUNK, 1])
def test_first_sync_follows_every_rule(install, settings, monkeypatch, chunk):
    settings.SYNC_CUSTOMER_CAP = 5
    monkeypatch.setattr(judging, "JUDGE_CHUNK", chunk)
    monkeypatch.setattr(customer_state, "RECORDS_PER_UPDATE", max(chunk, 2))
    company = install(
        person(
            "Amy Lauterbach",
            "Amy@Example.com",
            CompanyName="Amy's Bird Sanctuary",
            Title="Treasurer",
            PrimaryPhone={"FreeFormNumber": "(650) 555-3311"},
            Mobile={"FreeFormNumber": "(650) 555-0000"},
            AlternatePhone={"FreeFormNumber": "555-1111"},
            BillAddr={"Line1": "4581 Finch St.", "City": "Bayshore", "PostalCode": "94326"},
            ShipAddr={"Line1": "1 Dock Rd", "City": "Harbor", "Country": "USA"},
        ),
        person("No Email"),
        person("Bad Email", "not-an-email"),
        person("Several Emails", "nope, first@example.com; second@example.com"),
        person("Inactive Ivy", "ivy@example.com", Active=False),
        person("Gone Gus", "gus@example.com"),
        {"DisplayName": "Cher", "PrimaryEmailAddr": {"Address": "cher@example.com"}},
        person("Twin Older", "twin@example.com"),
        person("Twin Younger", "twin@example.com"),
        person("Long Company", "long@example.com", CompanyName="C" * 80),
        person("Over Cap", "over@example.com"),
        unsubscribed=("gus@example.com",),
    )
    run = company.run()
    assert run.state == Run.State.COMPLETED, run.error

    assert outcomes(company) == {
        "Amy Lauterbach": ("synced", ""),
        "No Email": ("skipped", "no_email"),
        "Bad Email": ("skipped", "invalid_email"),
        "Several Emails": ("synced", ""),
        "Inactive Ivy": ("skipped", "inactive"),
        "Gone Gus": ("skipped", "unsubscribed"),
        "Cher": ("synced", ""),
        "Twin Older": ("synced", ""),
        "Twin Younger": ("skipped", "duplicate_email"),
        "Long Company": ("synced", ""),
        "Over Cap": ("skipped", "over_cap"),  # the 5th place went to the older "Long Company"
    }
    assert (run.synced, run.skipped, run.failed) == (5, 6, 0)

    contacts = company.contacts()
    in_list = {email for email, c in contacts.items() if c["list_names"] == ["Customers"]}
    assert in_list == {
        "amy@example.com",
        "first@example.com",
        "cher@example.com",
        "twin@example.com",
        "long@example.com",
    }
    gus = contacts["gus@example.com"]
    assert gus["permission"] == "unsubscribed" and gus["list_names"] == []

    amy = contacts["amy@example.com"]
    assert (amy["first_name"], amy["last_name"]) == ("Amy", "Lauterbach")
    assert (amy["company_name"], amy["job_title"]) == ("Amy's Bird Sanctuary", "Treasurer")
    assert {(p["kind"], p["phone_number"]) for p in amy["phone_numbers"]} == {
        ("work", "(650) 555-3311"),
        ("mobile", "(650) 555-0000"),
        ("other", "555-1111"),
    }
    addresses = {a["kind"]: a for a in amy["street_addresses"]}
    assert addresses["work"]["street"] == "4581 Finch St."
    assert addresses["work"]["postal_code"] == "94326"
    assert addresses["other"]["city"] == "Harbor"
    cher = contacts["cher@example.com"]  # only a DisplayName: it is the first name
    assert cher["first_name"] == "Cher" and not cher.get("last_name")
    assert len(contacts["long@example.com"]["company_name"]) == 50

    several = CustomerRecord.objects.get(tenant=company.tenant, display_name="Several Emails")
    assert several.email_from_several and several.sent_email == "first@example.com"
    twin = CustomerRecord.objects.get(tenant=company.tenant, display_name="Twin Younger")
    older = CustomerRecord.objects.get(tenant=company.tenant, display_name="Twin Older")
    assert twin.detail == f"synced as customer {older.customer_id}"


def test_top_level_customer_wins_over_its_sub_customer(install):
    # (that it wins even over an older sub-customer is proved in test_rules)
    company = install(person("Parent Co", "family@example.com", CompanyName="Parent Co"))
    parent_id = company.customer_id("Parent Co")
    company.add(
        {
            "DisplayName": "Kitchen Job",
            "Job": True,
            "ParentRef": {"value": parent_id},
            "PrimaryEmailAddr": {"Address": "family@example.com"},
        }
    )
    run = company.run()
    assert run.state == Run.State.COMPLETED, run.error
    assert outcomes(company)["Kitchen Job"] == ("skipped", "duplicate_email")
    assert outcomes(company)["Parent Co"] == ("synced", "")
    assert company.contacts()["family@example.com"]["company_name"] == "Parent Co"


def test_running_twice_changes_and_sends_nothing(install):
    company = install(person("Ann Lee", "ann@example.com"), person("Bo Li", "bo@example.com"))
    first = company.run()
    assert first.synced == 2
    before = company.contacts()
    again = company.run(services.sync_now(tenant=company.tenant))
    assert again.kind == Run.Kind.FULL_CHECK
    assert again.state == Run.State.COMPLETED, again.error
    assert (again.synced, again.unchanged, again.skipped) == (0, 2, 0)
    assert again.constantcontact_calls == 1  # the unsubscribed addresses, nothing sent
    assert company.contacts() == before


def test_an_account_with_too_many_imports_waiting_is_tried_again_later(install, knobs, monkeypatch):
    """The spec's 429 on contacts_json_import: "You exceeded 1,000 queued activities for this
    user account": that run waits, minutes not seconds, and holds no other company."""
    monkeypatch.setattr(http, "THROTTLE_BACKOFF", (0.01, 0.01, 0.01))
    company = install(person("Ann Lee", "ann@example.com"))
    knobs(cc_max_queued_activities=0)  # Constant Contact answers 429 to every import
    with pytest.raises(cc_errors.ActivityQueueFull) as queued:  # the task retries later
        company.run()
    assert worker.backoff(queued.value, 0) == 300.0 and worker.backoff(queued.value, 9) == 3600.0
    knobs(cc_max_queued_activities=1_000)
    run = company.run()
    assert run.state == Run.State.COMPLETED, run.error
    assert run.synced == 1
    assert list(company.contacts()) == ["ann@example.com"]

"""The engine's decisions in process, in `make test-fast`: a first sync, a run of changes and
the confirmations, against the fakes of QuickBooks and Constant Contact (tests/plugins/
fakes.py; tests/contract/ holds them to the sandbox's behaviour). The engine is driven
through its entry points only: the install's services and Settings page, the webhook
endpoint, and the Celery tasks by name as a worker runs them.
"""

import pytest

from ccsync.sync import selectors
from ccsync.sync.models import CustomerRecord, Run
from tests.plugins.companies import person
from tests.plugins.fakes import run_task

LIST = "Customers"


def outcomes(company) -> dict[str, tuple[str, str]]:
    """{display name: (outcome, reason)} of every customer of the company."""
    return {
        record.display_name: (record.outcome, record.reason)
        for record in CustomerRecord.objects.filter(tenant=company.tenant)
    }


def work(company) -> Run:
    """The tenant's open run, worked on by the task a worker runs."""
    run = selectors.open_run(tenant=company.tenant)
    assert run is not None, "no open run"
    run_task("sync.run", run.pk)
    run.refresh_from_db()
    return run


def in_list(company) -> set[str]:
    return {email for email, c in company.contacts().items() if c["list_names"] == [LIST]}


REGULARS = [person(f"Regular {n:02}", f"regular{n:02}@example.com") for n in range(22)]


@pytest.fixture
def synced(fakes):
    """A company of 30 customers whose first sync is done."""
    company = fakes.install(
        *REGULARS,
        person("No Email"),
        person("Bad Email", "not-an-email"),
        person("Inactive Ivy", "ivy@example.com", Active=False),
        person("Inactive Ike", "ike@example.com", Active=False),
        person("Twin Older", "twin@example.com"),
        person("Twin Younger", "TWIN@example.com"),
        person("Gone Gus", "gus@example.com"),
        person("Amy Lee", "amy@example.com", PrimaryPhone={"FreeFormNumber": "555-0100"}),
        unsubscribed=("gus@example.com",),
    )
    run = work(company)
    assert run.state == Run.State.COMPLETED, run.error
    return company


def test_a_first_sync_follows_the_rules(synced):
    run = Run.objects.get(tenant=synced.tenant, kind=Run.Kind.FIRST)
    found = outcomes(synced)
    assert {name: found.pop(name) for name in list(found) if not name.startswith("Regular")} == {
        "No Email": ("skipped", "no_email"),
        "Bad Email": ("skipped", "invalid_email"),
        "Inactive Ivy": ("skipped", "inactive"),
        "Inactive Ike": ("skipped", "inactive"),
        "Twin Older": ("synced", ""),
        "Twin Younger": ("skipped", "duplicate_email"),
        "Gone Gus": ("skipped", "unsubscribed"),
        "Amy Lee": ("synced", ""),
    }
    assert set(found.values()) == {("synced", "")} and len(found) == 22
    assert (run.synced, run.skipped, run.failed) == (24, 6, 0)
    assert in_list(synced) == {c["PrimaryEmailAddr"]["Address"] for c in REGULARS} | {
        "twin@example.com",
        "amy@example.com",
    }
    gus = synced.contacts()["gus@example.com"]
    assert gus["permission"] == "unsubscribed" and gus["list_names"] == []
    # The unsubscribed addresses read, one import, its confirmation: 3 calls for 24 contacts.
    assert run.constantcontact_calls == 3
    assert run.quickbooks_calls == 2  # the count, then one page of customers


def test_an_edit_reaches_constant_contact_and_is_confirmed_later(synced):
    amy = synced.customer_id("Amy Lee")
    synced.change(amy, PrimaryPhone={"FreeFormNumber": "555-0199"}, FamilyName="Lee-Smith")
    assert synced.webhook(("updated", amy)) == 200
    run_task("sync.changes", synced.tenant.pk)  # the end of the change window
    run = work(synced)
    assert run.kind == Run.Kind.CHANGES and run.state == Run.State.COMPLETED, run.error
    assert (run.sent, run.synced) == (1, 0)  # Constant Contact has not said yet
    assert run.constantcontact_calls == 1  # the import alone
    contact = synced.contacts()["amy@example.com"]
    assert contact["last_name"] == "Lee-Smith"
    assert [p["phone_number"] for p in contact["phone_numbers"]] == ["555-0199"]
    assert outcomes(synced)["Amy Lee"] == ("sent", "")

    run_task("sync.confirm_imports", synced.tenant.pk)  # beat's confirmation
    assert outcomes(synced)["Amy Lee"] == ("synced", "")
    run.refresh_from_db()
    assert (run.sent, run.synced) == (0, 1)


def test_an_address_change_puts_the_same_contact(synced):
    before = synced.contacts()["amy@example.com"]
    amy = synced.customer_id("Amy Lee")
    synced.change(amy, PrimaryEmailAddr={"Address": "amy.lee@example.com"})
    synced.webhook(("updated", amy))
    run_task("sync.changes", synced.tenant.pk)
    run = work(synced)
    assert run.state == Run.State.COMPLETED, run.error
    assert run.synced == 1 and run.constantcontact_calls == 2  # GET and PUT, confirmed at once
    contacts = synced.contacts()
    assert "amy@example.com" not in contacts
    assert contacts["amy.lee@example.com"]["contact_id"] == before["contact_id"]
    assert contacts["amy.lee@example.com"]["list_names"] == [LIST]


def test_a_contact_constant_contact_refuses_is_failed_with_its_reason(fakes):
    fakes.set_knobs(cc_import_refused_domains=["refused.example"])
    company = fakes.install(
        person("Kept Kay", "kay@example.com"), person("Refused Rex", "rex@refused.example")
    )
    run = work(company)
    assert run.state == Run.State.COMPLETED, run.error
    assert (run.synced, run.failed) == (1, 1)
    rex = CustomerRecord.objects.get(tenant=company.tenant, display_name="Refused Rex")
    assert rex.outcome == "failed" and "cannot be imported" in rex.detail
    assert in_list(company) == {"kay@example.com"}


def test_a_slow_import_is_waited_for_on_the_clock(fakes):
    fakes.set_knobs(cc_import_rate_per_second=1)  # 30 contacts: 30 s of Constant Contact's work
    company = fakes.install(*(person(f"Slow {n:02}", f"slow{n:02}@example.com") for n in range(30)))
    run = work(company)
    assert run.state == Run.State.COMPLETED, run.error
    assert run.synced == 30 and len(in_list(company)) == 30
    # The run paused until Constant Contact was done, on the test's clock, asking again at
    # growing intervals rather than at every moment.
    assert fakes.offset.total_seconds() >= 30
    assert 3 <= run.constantcontact_calls <= 8

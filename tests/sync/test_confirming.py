"""No outcome Constant Contact has not confirmed, against the sandbox as Constant Contact
documents itself (tests/sandbox/constantcontact/test_imports.py and test_api.py cite the
sources): import errors in every shape they come in, fields cleared only by PUT, and a PUT
that never re-subscribes. Every test counts its Constant Contact calls."""

import pytest

from ccsync.sync import dispatch
from ccsync.sync.models import ContactImport, CustomerRecord, Run
from integrations.constantcontact.client import ConstantContactClient
from integrations.limiter import get_limiter
from tenants.clients import constantcontact_client
from tests.plugins.companies import person

Outcome = CustomerRecord.Outcome


def record(company, name: str) -> CustomerRecord:
    return CustomerRecord.objects.get(tenant=company.tenant, display_name=name)


def calls(action) -> int:
    """The Constant Contact calls `action` makes (the limiter counts every one)."""
    before = get_limiter().constantcontact_used_today()
    action()
    return get_limiter().constantcontact_used_today() - before


@pytest.fixture
def synced(install):
    company = install(
        person("Ann Lee", "ann@example.com", PrimaryPhone={"FreeFormNumber": "111"}),
        person("Bo Li", "bo@example.com"),
    )
    run = company.run()
    assert run.state == Run.State.COMPLETED and run.synced == 2
    return company


def test_a_change_run_costs_one_call_and_its_import_is_confirmed_later_with_others(synced):
    ann, bo = synced.customer_id("Ann Lee"), synced.customer_id("Bo Li")
    synced.change(ann, FamilyName="Lee-Smith")
    synced.webhook(("updated", ann))
    first = synced.sync_changes(confirm=False)
    assert first.constantcontact_calls == 1  # the import: unsubscribes are fresh, nothing due
    assert (first.sent, first.synced) == (1, 0)
    assert record(synced, "Ann Lee").outcome == Outcome.SENT
    assert synced.contacts()["ann@example.com"]["last_name"] == "Lee-Smith"  # it is there

    synced.change(bo, FamilyName="Li-Wu")
    synced.webhook(("updated", bo))
    second = synced.sync_changes(confirm=False)
    assert second.constantcontact_calls == 1
    assert ContactImport.objects.filter(tenant=synced.tenant, state="sent").count() == 2

    assert calls(synced.confirm) == 1  # one GET /activities confirms both runs' imports
    assert {record(synced, n).outcome for n in ("Ann Lee", "Bo Li")} == {Outcome.SYNCED}
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.sent, first.synced, second.sent, second.synced) == (0, 1, 0, 1)
    assert calls(synced.confirm) == 0  # nothing waits: nothing asked


@pytest.mark.parametrize("style", ["plain", "line", "line_with_header"])
def test_import_errors_in_every_shape_never_record_a_refused_customer_as_synced(
    install, knobs, style
):
    """Constant Contact's errors are free text; "Line N" may count a header row. Outcomes
    come from what Constant Contact holds, read back, whatever the wording."""
    knobs(cc_import_error_format=style, cc_import_refused_domains=["refused.example"])
    company = install(
        person("Ann Lee", "ann@example.com"),
        person("Ray Fused", "ray@refused.example"),
        person("Cy New", "cy@example.com"),
    )
    spent = calls(company.run)
    run = Run.objects.get(tenant=company.tenant, kind=Run.Kind.FIRST)
    assert run.state == Run.State.COMPLETED, run.error
    assert (run.synced, run.failed) == (2, 1)
    assert record(company, "Ray Fused").outcome == Outcome.FAILED
    assert {record(company, n).outcome for n in ("Ann Lee", "Cy New")} == {Outcome.SYNCED}
    assert "ray@refused.example" not in company.contacts()
    # unsubscribes, the import, one GET /activities, one page of contacts read back
    assert spent == run.constantcontact_calls == 4


def test_an_emptied_field_is_cleared_by_a_put_that_carries_back_what_quickbooks_does_not_own(
    synced,
):
    cc = constantcontact_client(tenant=synced.tenant)
    ann = cc.find_contact(email="ann@example.com", include=["list_memberships", "phone_numbers"])
    cc.put_contact(
        contact_id=ann["contact_id"],
        contact={
            "email_address": {"address": "ann@example.com"},
            "first_name": "Ann",
            "last_name": "Lee",
            "phone_numbers": [
                *ann["phone_numbers"],
                {"kind": "home", "phone_number": "999"},
            ],
            "list_memberships": [*ann["list_memberships"], synced.lists["Donors"]],
        },
    )
    customer = synced.customer_id("Ann Lee")
    synced.change(customer, PrimaryPhone=None)
    synced.webhook(("updated", customer))
    run = synced.sync_changes(confirm=False)
    assert run.state == Run.State.COMPLETED, run.error
    assert run.constantcontact_calls == 2  # GET the contact, PUT it: confirmed by its answer
    assert record(synced, "Ann Lee").outcome == Outcome.SYNCED
    contact = synced.contacts()["ann@example.com"]
    assert [(p["kind"], p["phone_number"]) for p in contact["phone_numbers"]] == [("home", "999")]
    assert contact["list_names"] == ["Customers", "Donors"]
    assert contact["permission"] == "implicit"


def test_a_put_never_re_subscribes_a_contact_who_unsubscribed_after_it_was_read(
    synced, monkeypatch
):
    """The race: the contact unsubscribes between the GET and the PUT. The PUT does not
    carry the permission it read (the sandbox sets any permission a PUT sends)."""
    read = ConstantContactClient.find_contact

    def read_then_unsubscribe(self, **kwargs):
        contact = read(self, **kwargs)
        synced.unsubscribe("ann@example.com")
        return contact

    monkeypatch.setattr(ConstantContactClient, "find_contact", read_then_unsubscribe)
    customer = synced.customer_id("Ann Lee")
    synced.change(customer, PrimaryPhone=None, FamilyName="Lee-Smith")
    synced.webhook(("updated", customer))
    run = synced.sync_changes()
    assert run.state == Run.State.COMPLETED, run.error
    contact = synced.contacts()["ann@example.com"]
    assert contact["permission"] == "unsubscribed"
    # The PUT's answer says so: recorded unsubscribed, nothing more is sent to it.
    assert record(synced, "Ann Lee").outcome == Outcome.SKIPPED
    assert record(synced, "Ann Lee").reason == "unsubscribed"


def test_a_contact_unsubscribed_when_read_is_never_put(synced):
    synced.unsubscribe("ann@example.com")
    customer = synced.customer_id("Ann Lee")
    synced.change(customer, PrimaryPhone=None, FamilyName="Changed")
    synced.webhook(("updated", customer))
    run = synced.sync_changes(confirm=False)
    assert run.constantcontact_calls == 1  # the GET: no PUT
    contact = synced.contacts()["ann@example.com"]
    assert contact["permission"] == "unsubscribed" and contact["last_name"] == "Lee"
    assert record(synced, "Ann Lee").reason == "unsubscribed"


def test_an_import_whose_contacts_were_refused_to_the_list_is_read_back(synced):
    """An address unsubscribed since the last read: the import may update its fields but
    cannot add it to a list (cannot_add_to_list_count); the outcome says unsubscribed."""
    [created] = synced.add(person("Cy New", "cy@example.com"))
    synced.unsubscribe("cy@example.com")  # after the last unsubscribe read
    synced.webhook(("created", created["Id"]))
    run = dispatch.start_changes(tenant_id=synced.tenant.pk)
    synced.run(run)
    spent = calls(synced.confirm)
    assert spent == 2  # GET /activities, then one page of contacts read back
    cy = record(synced, "Cy New")
    assert (cy.outcome, cy.reason) == (Outcome.SKIPPED, "unsubscribed")
    contact = synced.contacts()["cy@example.com"]
    assert contact["permission"] == "unsubscribed" and contact["list_names"] == []

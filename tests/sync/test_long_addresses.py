"""Addresses of 51 to 80 characters: a contact takes them (the spec's
`email_address.address`, maxLength 80), an import does not (`email`, maxLength 50; the
sandbox refuses them as tests/sandbox/constantcontact/test_imports.py shows). They go by
POST /contacts when new and by GET + PUT after, never re-subscribing anyone. Every test
counts its Constant Contact calls."""

from typing import Any

import pytest

from ccsync.sync.models import CustomerRecord, Run
from integrations.constantcontact.client import ConstantContactClient
from tenants.clients import constantcontact_client
from tests.plugins.companies import person

Outcome = CustomerRecord.Outcome
LONG = "lou.long-address." + "x" * 31 + "@example.com"  # 60 characters


def record(company, name: str) -> CustomerRecord:
    return CustomerRecord.objects.get(tenant=company.tenant, display_name=name)


def test_a_new_long_address_is_created_by_post_in_one_call(install):
    assert 50 < len(LONG) <= 80
    company = install(person("Ann Lee", "ann@example.com"), person("Lou Long", LONG))
    run = company.run()
    assert run.state == Run.State.COMPLETED, run.error
    assert run.synced == 2 and record(company, "Lou Long").outcome == Outcome.SYNCED
    # unsubscribes, Ann's import, its confirmation (GET /activities), and Lou's POST
    assert run.constantcontact_calls == 3 + 1
    lou = company.contacts()[LONG]
    assert lou["list_names"] == ["Customers"] and lou["first_name"] == "Lou"
    assert lou["permission"] == "implicit" and lou["create_source"] == "Account"
    assert record(company, "Lou Long").contact_id == lou["contact_id"]

    customer = company.customer_id("Lou Long")
    company.change(customer, FamilyName="Longer")
    company.webhook(("updated", customer))
    changes = company.sync_changes(confirm=False)
    assert changes.state == Run.State.COMPLETED, changes.error
    assert changes.constantcontact_calls == 2  # GET + PUT: an import cannot carry it
    assert company.contacts()[LONG]["last_name"] == "Longer"
    assert record(company, "Lou Long").outcome == Outcome.SYNCED


def test_a_long_address_that_is_a_contact_already_is_read_and_put(install):
    """POST /contacts answers 409 for an address that exists ("Avoiding 409 Responses",
    developer.constantcontact.com/api_guide/contacts_create.html): that contact is read
    (GET) and PUT, like any synced contact: 3 calls."""
    company = install(person("Lou Long", LONG))
    people_made = {"email_address": {"address": LONG}, "first_name": "Louis"}
    constantcontact_client(tenant=company.tenant).create_contact(contact=people_made)
    run = company.run()
    assert run.state == Run.State.COMPLETED, run.error
    assert record(company, "Lou Long").outcome == Outcome.SYNCED
    assert run.constantcontact_calls == 1 + 3  # unsubscribes; POST (409), GET, PUT
    lou = company.contacts()[LONG]
    assert lou["first_name"] == "Lou" and lou["list_names"] == ["Customers"]


def test_a_long_address_unsubscribed_since_the_read_is_never_opted_back_in(install):
    """The spec's warning on POST and PUT /contacts: never opt a contact back in without
    their consent. POST only creates (409 here), the GET shows the contact unsubscribed: no
    PUT, the customer recorded unsubscribed. 2 calls besides the unsubscribe read."""
    company = install(person("Lou Long", LONG))
    original = ConstantContactClient.create_contact

    def unsubscribed_meanwhile(self, **kwargs: Any) -> dict:
        # People made the contact and it unsubscribed, after the run's read of unsubscribes.
        theirs = constantcontact_client(tenant=company.tenant)
        original(theirs, contact={"email_address": {"address": LONG}, "first_name": "Louis"})
        company.unsubscribe(LONG)
        return original(self, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ConstantContactClient, "create_contact", unsubscribed_meanwhile)
        run = company.run()
    assert run.state == Run.State.COMPLETED, run.error
    assert run.constantcontact_calls == 1 + 2  # unsubscribes; POST (409), GET
    assert record(company, "Lou Long").reason == "unsubscribed"
    lou = company.contacts()[LONG]
    assert lou["permission"] == "unsubscribed" and lou["first_name"] == "Louis"


def test_where_a_post_does_not_put_the_contact_in_the_list_an_activity_does(install):
    """The spec marks createContact_request's list_memberships items read-only: read that
    way, a POST makes the contact outside any list. Where its answer does not show the list,
    one add_list_memberships activity (up to 500 contacts a call) adds them, confirmed like
    an import: POST + 1 call, then the confirmation."""
    company = install(person("Lou Long", LONG), person("Liz Long", LONG.replace("lou", "liz")))
    original = ConstantContactClient.create_contact

    def lists_ignored(self, *, contact: dict) -> dict:
        created = original(self, contact={**contact, "list_memberships": []})
        return {**created, "list_memberships": []}

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ConstantContactClient, "create_contact", lists_ignored)
        run = company.run()
    assert run.state == Run.State.COMPLETED, run.error
    # unsubscribes, 2 POSTs, 1 add_list_memberships, its confirmation (GET /activities)
    assert run.constantcontact_calls == 1 + 2 + 1 + 1
    assert {record(company, n).outcome for n in ("Lou Long", "Liz Long")} == {Outcome.SYNCED}
    assert company.contacts()[LONG]["list_names"] == ["Customers"]

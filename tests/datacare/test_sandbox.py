"""Against the sandbox over real HTTP: installing again after the purge duplicates no contact
and re-subscribes no one; a failed customer retried by the operator is sent again."""

from datetime import timedelta

import requests
from django.utils import timezone

from ccsync.datacare import retention
from ccsync.sync import lifecycle, operations
from ccsync.sync.models import CustomerRecord, Run
from support.accounts import Account, Identity
from tests.plugins.companies import person


def all_contacts(company) -> list[dict]:
    """Every contact of the account, duplicates included (by email they would collapse)."""
    answer = requests.get(
        f"{company.sandbox.url}/_sandbox/cc/accounts/{company.username}/contacts", timeout=30
    )
    answer.raise_for_status()
    return answer.json()["contacts"]


def outcomes(company) -> dict[str, tuple[str, str]]:
    return {
        r.display_name: (r.outcome, r.reason)
        for r in CustomerRecord.objects.filter(tenant=company.tenant)
    }


def test_installing_again_after_the_purge_duplicates_no_contact(install, settings):
    settings.DATA_RETENTION_AFTER_DISCONNECT_DAYS = 30
    company = install(
        person("Amy Lauterbach", "amy@example.com"),
        person("Bob Ray", "bob@example.com", PrimaryPhone={"FreeFormNumber": "111"}),
        person("Gone Gus", "gus@example.com"),
        unsubscribed=("gus@example.com",),
    )
    assert company.run().state == Run.State.COMPLETED
    before = sorted(contact["email"] for contact in all_contacts(company))
    assert before == ["amy@example.com", "bob@example.com", "gus@example.com"]

    lifecycle.disconnect(tenant=company.tenant, reason="Disconnected in QuickBooks.")
    assert retention.purge_disconnected(now=timezone.now() + timedelta(days=31)) == 1
    assert not CustomerRecord.objects.filter(tenant=company.tenant).exists()
    company.change(company.customer_id("Bob Ray"), PrimaryPhone={"FreeFormNumber": "222"})

    # The same person installs again (still signed in at Intuit and Constant Contact).
    identity = Identity(email="", companies=[{"realm_id": company.realm_id}])
    account = Account(username=company.username, lists=company.lists)
    assert company.journey.full_install(identity, account, "Customers").status_code == 200
    run = company.run()
    assert run.state == Run.State.COMPLETED, run.error

    after = all_contacts(company)
    assert sorted(contact["email"] for contact in after) == before  # one contact each
    by_email = {contact["email"]: contact for contact in after}
    assert by_email["gus@example.com"]["permission"] == "unsubscribed"  # never re-subscribed
    assert by_email["gus@example.com"]["list_names"] == []
    assert [p["phone_number"] for p in by_email["bob@example.com"]["phone_numbers"]] == ["222"]
    assert outcomes(company) == {
        "Amy Lauterbach": ("synced", ""),
        "Bob Ray": ("synced", ""),
        "Gone Gus": ("skipped", "unsubscribed"),
    }


def test_a_failed_customer_retried_by_the_operator_is_sent_again(install):
    company = install(person("Amy Lauterbach", "amy@example.com"), person("Bob Ray"))
    assert company.run().state == Run.State.COMPLETED
    bob = company.customer_id("Bob Ray")
    # Bob now has an address, and Constant Contact refused him the last time.
    company.change(bob, PrimaryEmailAddr={"Address": "bob@example.com"})
    CustomerRecord.objects.filter(tenant=company.tenant, customer_id=bob).update(
        outcome=CustomerRecord.Outcome.FAILED, reason="", detail="Line 1: refused"
    )

    assert operations.retry_failed(tenant=company.tenant) == 1
    run = company.sync_changes()
    assert run.state == Run.State.COMPLETED, run.error
    assert run.synced == 1
    assert outcomes(company)["Bob Ray"] == ("synced", "")
    contact = {c["email"]: c for c in all_contacts(company)}["bob@example.com"]
    assert contact["list_names"] == ["Customers"]

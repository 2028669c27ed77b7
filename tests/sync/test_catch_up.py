"""Beat's catch-up (CDC) when more customers changed than one CDC answer holds (the engine's
decisions: against the in-process fakes, held to the sandbox's cap by tests/contract)."""

from ccsync.sync import catch_up, selectors
from ccsync.sync.models import Run, TenantSync, WebhookEvent
from tests.plugins.companies import person

CHANGES = 2_500


def test_more_changes_than_cdcs_cap_are_all_read(fakes, django_capture_on_commit_callbacks):
    """CDC answers hold at most 1,000 objects ("Server responses can handle a maximum of
    1,000 objects"): 2,500 changes in one window, missed by webhooks, all reach Constant
    Contact, and caught_up_at never passes a change not read.
    https://developer.intuit.com/app/developer/qbo/docs/learn/explore-the-quickbooks-online-api/change-data-capture"""
    company = fakes.install(*[person(f"P{n} Person", f"p{n}@example.com") for n in range(CHANGES)])
    assert company.run().state == Run.State.COMPLETED
    before = TenantSync.objects.get(tenant=company.tenant).caught_up_at
    for customer in company.customers():
        company.change(customer["Id"], FamilyName="Changed")  # no webhook reaches the app

    with django_capture_on_commit_callbacks():
        catch_up.catch_up(tenant_id=company.tenant.pk)

    # The answer was capped: nothing is taken as read, a full check reads everyone.
    assert TenantSync.objects.get(tenant=company.tenant).caught_up_at == before
    assert not WebhookEvent.objects.filter(tenant=company.tenant).exists()
    run = selectors.open_run(tenant=company.tenant)
    assert run is not None and run.kind == Run.Kind.FULL_CHECK
    run = company.run(run)
    assert run.state == Run.State.COMPLETED
    contacts = company.contacts()
    assert sum(contacts[f"p{n}@example.com"]["last_name"] == "Changed" for n in range(CHANGES)) == (
        CHANGES
    )
    assert TenantSync.objects.get(tenant=company.tenant).caught_up_at == run.started_at
    # Unsubscribes read, one import of the 2,500, its confirmation.
    assert run.constantcontact_calls == 3, run.constantcontact_calls


def test_an_answer_under_the_cap_moves_caught_up_at(install):
    company = install(person("Ann Lee", "ann@example.com"))
    company.run()
    before = TenantSync.objects.get(tenant=company.tenant).caught_up_at
    company.change(company.customer_id("Ann Lee"), FamilyName="Missed")
    catch_up.catch_up(tenant_id=company.tenant.pk)
    assert TenantSync.objects.get(tenant=company.tenant).caught_up_at > before
    assert WebhookEvent.objects.filter(tenant=company.tenant).count() == 1
    assert selectors.open_run(tenant=company.tenant) is None

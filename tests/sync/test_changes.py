"""Runs of changes: webhooks in, changes out. The engine's decisions against the in-process
fakes of the providers (tests/plugins/fakes.py); an edit's whole way against the sandbox
over real HTTP."""

import json
import time

import pytest
from django.utils import timezone

from ccsync.sync import dispatch, event_store, pacing, selectors, services
from ccsync.sync.models import CustomerRecord, Run, TenantSync, WebhookEvent
from integrations.clock import Clock
from integrations.quickbooks.webhooks import ChangeEvent
from tenants.models import ListSelection, Tenant
from tests.plugins.companies import cloud_events, person, sign


def first_synced(install):
    """A company whose first sync is done: Ann and Bo in the list "Customers"."""
    company = install(
        person("Ann Lee", "ann@example.com", PrimaryPhone={"FreeFormNumber": "111"}),
        person("Bo Li", "bo@example.com"),
        person("Inactive Ivy", "ivy@example.com", Active=False),
    )
    run = company.run()
    assert run.state == Run.State.COMPLETED and run.synced == 2
    return company


@pytest.fixture
def synced(fakes):
    return first_synced(fakes.install)


@pytest.fixture
def synced_over_http(install):
    return first_synced(install)


def record(company, name: str) -> CustomerRecord:
    return CustomerRecord.objects.get(tenant=company.tenant, display_name=name)


def test_an_edit_is_sent_and_an_unchanged_customer_is_not(synced_over_http):
    synced = synced_over_http
    ann = synced.customer_id("Ann Lee")
    bo = synced.customer_id("Bo Li")
    synced.change(ann, PrimaryPhone={"FreeFormNumber": "222"})
    assert synced.webhook(("updated", ann), ("updated", bo)) == 200
    run = synced.sync_changes()
    assert run.state == Run.State.COMPLETED, run.error
    assert (run.synced, run.unchanged) == (1, 1)
    assert run.quickbooks_calls == 1  # one Id IN (...) query for both
    phones = synced.contacts()["ann@example.com"]["phone_numbers"]
    assert [p["phone_number"] for p in phones] == ["222"]
    assert not WebhookEvent.objects.filter(tenant=synced.tenant, processed_at=None).exists()


def test_a_new_customer_goes_to_the_list(synced):
    [created] = synced.add(person("Cy New", "cy@example.com"))
    synced.webhook(("created", created["Id"]))
    run = synced.sync_changes()
    assert run.synced == 1
    assert synced.contacts()["cy@example.com"]["list_names"] == ["Customers"]


def test_an_email_change_updates_the_same_contact(synced):
    before = synced.contacts()["ann@example.com"]
    ann = synced.customer_id("Ann Lee")
    synced.change(ann, PrimaryEmailAddr={"Address": "ann.lee@example.com"})
    synced.webhook(("updated", ann))
    run = synced.sync_changes()
    assert run.state == Run.State.COMPLETED, run.error
    contacts = synced.contacts()
    assert "ann@example.com" not in contacts
    after = contacts["ann.lee@example.com"]
    assert after["contact_id"] == before["contact_id"]
    assert after["list_names"] == ["Customers"]
    assert len(contacts) == 2
    assert record(synced, "Ann Lee").contact_id == before["contact_id"]


def test_a_field_emptied_in_quickbooks_is_emptied_in_constant_contact(synced):
    before = synced.contacts()["ann@example.com"]
    assert [p["phone_number"] for p in before["phone_numbers"]] == ["111"]
    ann, bo = synced.customer_id("Ann Lee"), synced.customer_id("Bo Li")
    synced.change(ann, PrimaryPhone=None, CompanyName="Lee Florists")
    synced.change(bo, FamilyName="Li-Wu")
    synced.webhook(("updated", ann), ("updated", bo))
    run = synced.sync_changes()
    assert run.state == Run.State.COMPLETED, run.error
    assert (run.synced, run.failed) == (2, 0)
    contacts = synced.contacts()
    after = contacts["ann@example.com"]
    assert after["phone_numbers"] == []
    assert after["company_name"] == "Lee Florists"
    assert after["contact_id"] == before["contact_id"]
    assert after["list_names"] == ["Customers"]
    assert contacts["bo@example.com"]["last_name"] == "Li-Wu"  # nothing emptied: imported
    assert record(synced, "Ann Lee").sent_row == record(synced, "Ann Lee").row
    # Sent as it is now: the next change of Ann is imported again.
    synced.change(ann, FamilyName="Lee-Smith")
    synced.webhook(("updated", ann))
    assert synced.sync_changes().synced == 1
    assert synced.contacts()["ann@example.com"]["last_name"] == "Lee-Smith"


def test_after_a_list_change_new_contacts_go_to_the_new_list_and_edits_to_both(synced):
    ListSelection.objects.create(
        tenant=synced.tenant, list_id=synced.lists["Donors"], list_name="Donors"
    )
    ann = synced.customer_id("Ann Lee")
    synced.change(ann, FamilyName="Lee-Smith")
    [created] = synced.add(person("Di New", "di@example.com"))
    synced.webhook(("updated", ann), ("created", created["Id"]))
    run = synced.sync_changes()
    assert run.synced == 2
    contacts = synced.contacts()
    assert contacts["ann@example.com"]["list_names"] == ["Customers", "Donors"]
    assert contacts["ann@example.com"]["last_name"] == "Lee-Smith"
    assert contacts["di@example.com"]["list_names"] == ["Donors"]
    assert contacts["bo@example.com"]["list_names"] == ["Customers"]  # nothing else moves


def test_deactivating_deleting_or_merging_after_the_sync_removes_nothing(synced):
    ann, bo = synced.customer_id("Ann Lee"), synced.customer_id("Bo Li")
    before = synced.contacts()
    synced.change(ann, "deactivate")
    synced.change(bo, f"merge-into/{ann}")
    synced.webhook(("updated", ann), ("merged", ann), deleted_id=bo)
    run = synced.sync_changes()
    assert run.state == Run.State.COMPLETED, run.error
    assert run.synced == 0
    after = synced.contacts()
    assert after.keys() == before.keys()
    assert all(after[e]["list_names"] == ["Customers"] for e in after)
    assert record(synced, "Ann Lee").outcome == CustomerRecord.Outcome.SYNCED
    assert record(synced, "Bo Li").deleted


def test_inactive_before_the_first_sync_stays_out_until_reactivated(synced):
    ivy = synced.customer_id("Inactive Ivy")
    synced.change(ivy, FamilyName="Still Inactive")
    synced.webhook(("updated", ivy))
    synced.sync_changes()
    assert "ivy@example.com" not in synced.contacts()
    assert record(synced, "Inactive Ivy").reason == "inactive"
    synced.change(ivy, "reactivate")
    synced.webhook(("updated", ivy))
    synced.sync_changes()
    assert synced.contacts()["ivy@example.com"]["list_names"] == ["Customers"]


def test_an_address_unsubscribed_after_the_sync_is_never_sent_again(synced, settings):
    settings.SYNC_UNSUBSCRIBES_FRESH_SECONDS = [0, 0]  # read the opt-outs before this change
    synced.unsubscribe("bo@example.com")
    bo = synced.customer_id("Bo Li")
    synced.change(bo, FamilyName="Changed")
    synced.webhook(("updated", bo))
    run = synced.sync_changes()
    assert run.synced == 0 and run.skipped == 1
    contact = synced.contacts()["bo@example.com"]
    assert contact["permission"] == "unsubscribed"
    assert contact["last_name"] == "Li"
    assert record(synced, "Bo Li").reason == "unsubscribed"


def learned_days(*, calls_an_hour: float, runs_an_hour: float = 10.0) -> None:
    """The pacer as after days whose runs of changes needed `calls_an_hour` Constant Contact
    calls and asked for `runs_an_hour` runs every hour (today's state made, then taught)."""
    pacer = pacing.get_pacer()
    pacer.snapshot()
    with pacer.store.transaction() as state:
        state.update(spend=[calls_an_hour] * 24, profile=[runs_an_hour] * 24)


def unsubscribe_after_the_first_sync_and_edit(company) -> Run:
    """Bo unsubscribes in Constant Contact minutes after the first sync read the
    unsubscribes; Ann and Bo are edited in QuickBooks; the next run of changes."""
    company.unsubscribe("bo@example.com")
    ann, bo = company.customer_id("Ann Lee"), company.customer_id("Bo Li")
    company.change(ann, FamilyName="Edited")
    company.change(bo, FamilyName="Changed")
    company.webhook(("updated", ann), ("updated", bo))
    before = company.constantcontact_api_calls()
    run = company.sync_changes(confirm=False)
    assert run.state == Run.State.COMPLETED, run.error
    assert company.constantcontact_api_calls() - before == run.constantcontact_calls
    return run


def test_an_unsubscribe_minutes_old_is_respected_while_the_day_has_slack(synced):
    """Issue 20.4: while the day's share holds more than it is expected to need, a run of
    changes reads the unsubscribes changed since its last read before it imports."""
    learned_days(calls_an_hour=100)  # 2,400 of 9,500 a day: slack for a read every run
    run = unsubscribe_after_the_first_sync_and_edit(synced)
    assert run.constantcontact_calls == 2  # the unsubscribes read, Ann's import
    assert run.checkpoint["slack_read"]
    contacts = synced.contacts()
    assert contacts["ann@example.com"]["last_name"] == "Edited"
    assert contacts["bo@example.com"]["last_name"] == "Li"  # nothing sent to Bo
    assert contacts["bo@example.com"]["permission"] == "unsubscribed"
    assert record(synced, "Bo Li").reason == "unsubscribed"
    page = synced.client.get("/status/").content.decode()
    assert "Unsubscribes in Constant Contact are checked before every change is sent" in page
    assert "Unsubscribed in Constant Contact" in page  # Bo, not in the list, and why


def test_without_slack_unsubscribes_are_read_when_4_hours_old_as_before(synced, settings):
    """A bucket as big as the day: every call left is the pace's, none is slack. The read
    made by the first sync minutes ago is fresh enough (4 to 24 hours): Bo's contact is
    updated (never subscribed again) until the next read."""
    settings.SYNC_PACE_BURST = float(settings.SYNC_CC_DAILY_SHARE)
    learned_days(calls_an_hour=100)
    run = unsubscribe_after_the_first_sync_and_edit(synced)
    assert run.constantcontact_calls == 1  # the import alone
    assert not run.checkpoint.get("slack_read")
    contacts = synced.contacts()
    assert contacts["bo@example.com"]["last_name"] == "Changed"
    assert contacts["bo@example.com"]["permission"] == "unsubscribed"
    page = synced.client.get("/status/").content.decode()
    assert "Unsubscribes in Constant Contact are checked at most every 4 hours now" in page


def test_events_are_coalesced_into_one_run(synced, django_capture_on_commit_callbacks):
    ann, bo = synced.customer_id("Ann Lee"), synced.customer_id("Bo Li")
    with django_capture_on_commit_callbacks() as scheduled:
        synced.webhook(("updated", ann))
        synced.webhook(("updated", bo))
        synced.webhook(("updated", ann))
    assert len(scheduled) == 1  # one run of changes for the window, not three
    assert WebhookEvent.objects.filter(tenant=synced.tenant, processed_at=None).count() == 3


def test_the_last_change_seen_counts_waiting_and_synced_events(synced):
    assert selectors.tenant_sync_status(tenant=synced.tenant)["last_change_at"] is None
    ann = synced.customer_id("Ann Lee")
    synced.webhook(("updated", ann))
    event = WebhookEvent.objects.get(tenant=synced.tenant)
    # Waiting: only the event knows it.
    assert TenantSync.objects.get(tenant=synced.tenant).last_change_at is None
    assert selectors.tenant_sync_status(tenant=synced.tenant)["last_change_at"] == (
        event.occurred_at
    )
    synced.sync_changes()
    assert TenantSync.objects.get(tenant=synced.tenant).last_change_at == event.occurred_at
    assert selectors.tenant_sync_status(tenant=synced.tenant)["last_change_at"] == (
        event.occurred_at
    )


BOTH_WAYS = pytest.mark.parametrize(
    "record",
    [event_store.record_events, event_store.record_events_portably],
    ids=["postgresql", "portable"],  # the portable one is the demo's SQLite's
)


@BOTH_WAYS
def test_events_are_stored_once_and_their_window_scheduled_once(
    synced, record, django_capture_on_commit_callbacks
):
    gone = Tenant.objects.create(realm_id="999000111", state=Tenant.State.DISCONNECTED)
    now = timezone.now()
    events = [
        ChangeEvent("e1", synced.realm_id, "1", "update", now),
        ChangeEvent("e1", synced.realm_id, "1", "update", now),  # twice in one delivery
        ChangeEvent("e2", synced.realm_id, "2", "create", now),
        ChangeEvent("e3", gone.realm_id, "1", "update", now),
        ChangeEvent("e4", "123456789", "1", "update", now),  # not a company of ours
    ]
    with django_capture_on_commit_callbacks() as scheduled:
        assert record(events=events) == 2
        assert record(events=events) == 0  # delivered again
    assert len(scheduled) == 1
    stored = WebhookEvent.objects.values_list("tenant_id", "event_id", "customer_id")
    assert sorted(stored) == [(synced.tenant.pk, "e1", "1"), (synced.tenant.pk, "e2", "2")]


@BOTH_WAYS
def test_a_paused_tenants_events_are_stored_not_scheduled(
    synced, record, django_capture_on_commit_callbacks
):
    services.pause(tenant=synced.tenant)
    event = ChangeEvent("e1", synced.realm_id, "1", "update", timezone.now())
    with django_capture_on_commit_callbacks() as scheduled:
        assert record(events=[event]) == 1
    assert scheduled == []
    assert WebhookEvent.objects.filter(tenant=synced.tenant, processed_at=None).count() == 1


# --- the webhook endpoint ------------------------------------------------------------------------


def post(client, body: bytes, signature: str | None = None, **headers):
    if signature is not None:
        headers["HTTP_INTUIT_SIGNATURE"] = signature
    return client.post(
        "/webhooks/quickbooks/", data=body, content_type="application/json", **headers
    )


def test_webhook_refusals_store_nothing(synced, client, settings):
    body = cloud_events(synced.realm_id, ("updated", "1"))
    assert post(client, body).status_code == 401
    assert post(client, body, sign(body, "forged")).status_code == 401
    assert post(client, b"[{]", sign(b"[{]")).status_code == 400
    not_events = json.dumps({"hello": "world"}).encode()
    assert post(client, not_events, sign(not_events)).status_code == 400
    settings.SYNC_WEBHOOK_MAX_BYTES = 100
    assert post(client, body, sign(body)).status_code == 413
    assert client.get("/webhooks/quickbooks/").status_code == 405
    assert not WebhookEvent.objects.exists()


def test_webhook_stores_once_and_ignores_unknown_and_disconnected_companies(synced, client):
    other = Tenant.objects.create(realm_id="999000111", state=Tenant.State.DISCONNECTED)
    body = json.dumps(
        json.loads(cloud_events(synced.realm_id, ("updated", "1"), ("created", "2")))
        + json.loads(cloud_events("123456789", ("updated", "1")))
        + json.loads(cloud_events(other.realm_id, ("updated", "1")))
    ).encode()
    assert post(client, body, sign(body)).status_code == 200
    assert post(client, body, sign(body)).status_code == 200  # Intuit delivers it again
    stored = WebhookEvent.objects.all()
    assert sorted(stored.values_list("realm_id", "customer_id")) == [
        (synced.realm_id, "1"),
        (synced.realm_id, "2"),
    ]


def test_webhook_accepts_the_legacy_format(synced, client):
    body = json.dumps(
        {
            "eventNotifications": [
                {
                    "realmId": synced.realm_id,
                    "dataChangeEvent": {
                        "entities": [
                            {
                                "name": "Customer",
                                "id": "7",
                                "operation": "Update",
                                "lastUpdated": "2025-10-05T14:42:19-0700",
                            }
                        ]
                    },
                }
            ]
        }
    ).encode()
    assert post(client, body, sign(body)).status_code == 200
    event = WebhookEvent.objects.get()
    assert (event.customer_id, event.operation) == ("7", "update")


def test_paused_tenant_keeps_its_events_for_later(synced):
    services.pause(tenant=synced.tenant)
    ann = synced.customer_id("Ann Lee")
    synced.change(ann, FamilyName="Later")
    synced.webhook(("updated", ann))
    assert dispatch.start_changes(tenant_id=synced.tenant.pk) is None
    run = services.resume(tenant=synced.tenant)
    assert run is not None and run.kind == Run.Kind.CHANGES
    synced.run(run)
    assert synced.contacts()["ann@example.com"]["last_name"] == "Later"


def test_past_the_pace_a_company_waits_its_turn_gathering_changes(
    synced, fakes, settings, monkeypatch
):
    """The pacer's bucket holds one run: the second company waits (its changes gather)
    until the pace has refilled it, then beat's dispatch starts its run."""
    settings.SYNC_PACE_BURST = 2.0  # one run at the expected 1.3 calls, not two
    other = fakes.install(person("Cy New", "cy@example.com"))
    other.run()
    ann = synced.customer_id("Ann Lee")
    synced.change(ann, FamilyName="First")
    synced.webhook(("updated", ann))
    assert synced.sync_changes().state == Run.State.COMPLETED  # the bucket's one run
    cy = other.customer_id("Cy New")
    other.change(cy, FamilyName="Waits")
    other.webhook(("updated", cy))
    assert dispatch.start_changes(tenant_id=other.tenant.pk) is None  # waiting its turn
    other.change(cy, FamilyName="Gathered")
    other.webhook(("updated", cy))  # the window stays claimed: no second task
    assert TenantSync.objects.get(tenant=other.tenant).changes_scheduled
    assert dispatch.dispatch() == 0  # not yet

    later = time.time() + 3600  # an hour on: the pace has refilled the bucket
    monkeypatch.setattr(pacing, "CLOCK", Clock(time=lambda: later))
    assert dispatch.dispatch() == 1
    run = other.run()
    assert run.state == Run.State.COMPLETED and run.total == 1  # both edits, one run
    other.confirm()
    assert other.contacts()["cy@example.com"]["last_name"] == "Gathered"


def test_a_full_check_counts_only_the_customers_that_still_exist(synced):
    """A customer merged away (and told by webhook) or deleted without a word still has its
    record: the full check's progress counts neither ("3 of 1 customers" before, "1 of 1
    customer" now)."""
    ann, bo, ivy = (synced.customer_id(n) for n in ("Ann Lee", "Bo Li", "Inactive Ivy"))
    synced.change(ivy, f"merge-into/{ann}")
    synced.webhook(("merged", ann), deleted_id=ivy)
    synced.sync_changes()
    synced.change(bo, "delete")  # no webhook reaches the app
    before = synced.contacts()

    services.sync_now(tenant=synced.tenant)
    run = synced.run()
    assert run.state == Run.State.COMPLETED, run.error
    assert run.checkpoint["expected"] == run.total == run.done == 1  # Ann alone
    assert (run.unchanged, run.skipped, run.synced) == (1, 0, 0)
    assert run.constantcontact_calls == 1  # the unsubscribes read: nothing sent, no call added
    page = synced.client.get("/status/").content.decode()
    assert "1 of 1 customer" in page
    assert record(synced, "Bo Li").deleted and record(synced, "Inactive Ivy").deleted
    # Synced once, never taken back: Bo's contact stays as it was.
    assert record(synced, "Bo Li").outcome == CustomerRecord.Outcome.SYNCED
    assert synced.contacts() == before

"""Journeys 2-4 and 6: Constant Contact Allow/Deny, Settings, Connect, changing the list."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from ccsync.sync import services as sync_services
from ccsync.sync.models import Run
from tenants.models import ConstantContactConnection, ListSelection, Tenant


@pytest.fixture
def installed(journey):
    identity = journey.new_identity()
    journey.install(identity)
    return identity


def test_constantcontact_authorization_uses_pkce_and_state(journey, installed):
    answer = journey.client.get("/constantcontact/connect/")
    query = parse_qs(urlsplit(answer["Location"]).query)
    assert set(query["scope"][0].split()) == {"contact_data", "offline_access", "account_read"}
    assert query["code_challenge_method"] == ["S256"]
    flow = journey.client.session["oauth_constantcontact"]
    assert query["state"] == [flow["state"]]
    # The verifier stays on the server: only its challenge travels.
    assert flow["code_verifier"] not in answer["Location"]
    assert query["code_challenge"][0] != flow["code_verifier"]


def test_allow_connects_and_shows_which_account(journey, installed):
    account = journey.new_account("Newsletter", "Customers")
    answer = journey.connect_constantcontact(account)
    assert answer.status_code == 302 and answer["Location"] == "/settings/"

    tenant = Tenant.objects.get(realm_id=installed.realm_id)
    connection = ConstantContactConnection.objects.get(tenant=tenant)
    assert connection.is_connected and connection.refresh_token and connection.account_id
    page = journey.client.get("/settings/").content.decode()
    assert connection.account_name and connection.account_name in page
    assert "Connected to the Constant Contact account" in page


def test_deny_comes_back_to_a_page_offering_to_try_again(journey, installed):
    account = journey.new_account("Newsletter")
    answer = journey.connect_constantcontact(account, allow=False)
    assert answer.status_code == 200
    page = answer.content.decode()
    assert "You clicked <strong>Deny</strong>" in page
    assert 'href="/constantcontact/connect/"' in page
    assert not ConstantContactConnection.objects.filter(
        tenant__realm_id=installed.realm_id
    ).exists()

    # Trying again works.
    assert journey.connect_constantcontact(account)["Location"] == "/settings/"


def test_settings_lists_every_list_refreshes_and_creates_in_place(journey, installed, sandbox):
    account = journey.new_account("Newsletter", "Customers")
    journey.connect_constantcontact(account)
    page = journey.client.get("/settings/").content.decode()
    assert "Set Up and Connect the Constant Contact App for QuickBooks Online" in page
    assert "Click Connect to begin syncing your QuickBooks Online customers or donors" in page
    for list_id in account.lists.values():
        assert f'value="{list_id}"' in page

    # A list made in Constant Contact meanwhile shows once the person clicks Refresh lists.
    # (seeding is idempotent by username: this adds a list to the same account)
    seeded = requests.post(
        f"{sandbox.url}/_sandbox/cc/accounts",
        json={
            "username": account.username,
            "password": "correct horse",
            "list_names": ["Newsletter", "Customers", "Donors"],
        },
        timeout=10,
    ).json()["lists"]
    assert f'value="{seeded["Donors"]}"' not in journey.client.get("/settings/").content.decode()
    refreshed = journey.client.get("/settings/?refresh=1").content.decode()
    assert f'value="{seeded["Donors"]}"' in refreshed

    # Create a list right here; it is selected on the page that follows.
    answer = journey.client.post("/settings/lists/", {"name": "QuickBooks customers"})
    assert answer.status_code == 302
    new_id = parse_qs(urlsplit(answer["Location"]).query)["list"][0]
    page = journey.client.get(answer["Location"]).content.decode()
    assert f'<option value="{new_id}" selected>QuickBooks customers</option>' in page

    # The same name again: a clear message, nothing created.
    answer = journey.client.post("/settings/lists/", {"name": "QuickBooks customers"})
    assert answer.status_code == 400
    assert "already has a list named" in answer.content.decode()


def test_cancel_goes_back_one_step(journey, installed):
    account = journey.new_account("Newsletter")
    journey.connect_constantcontact(account)
    page = journey.client.get("/settings/").content.decode()
    assert '<a class="button secondary" href="/status/">Cancel</a>' in page
    status = journey.client.get("/status/").content.decode()
    assert "Next step: tell QuickBooks Online where your customer list will sync to" in status
    assert 'href="/settings/"' in status


def test_connect_saves_the_list_starts_the_first_sync_and_congratulates(journey):
    identity = journey.new_identity()
    account = journey.new_account("Newsletter", "Customers")
    answer = journey.full_install(identity, account, "Customers")

    assert answer.status_code == 200
    page = answer.content.decode()
    assert "You're done!" in page and "Congratulations!" in page
    assert "successfully installed and configured" in page
    assert "You will see contacts appear progressively" in page
    tenant = Tenant.objects.get(realm_id=identity.realm_id)
    first = Run.objects.get(tenant=tenant)
    assert (first.kind, first.state) == (Run.Kind.FIRST, Run.State.QUEUED)
    selection = ListSelection.objects.get(tenant=tenant)
    assert selection.list_id == account.lists["Customers"] and selection.list_name == "Customers"
    assert selection.chosen_by is not None


def test_connect_queues_a_first_run(journey, django_capture_on_commit_callbacks):
    identity = journey.new_identity()
    account = journey.new_account("Customers")
    with django_capture_on_commit_callbacks():
        assert journey.full_install(identity, account, "Customers").status_code == 200
    tenant = Tenant.objects.get(realm_id=identity.realm_id)
    assert Run.objects.filter(tenant=tenant).count() == 1


def test_changing_the_list_keeps_history_and_does_not_restart_the_first_sync(journey):
    identity = journey.new_identity()
    account = journey.new_account("Newsletter", "Customers")
    journey.full_install(identity, account, "Customers")

    # Later, from My Apps → Settings.
    page = journey.client.get("/settings/").content.decode()
    assert "Currently syncing to <strong>Customers</strong>" in page
    answer = journey.client.post("/settings/", {"list_id": account.lists["Newsletter"]})
    assert answer.status_code == 302 and answer["Location"] == "/status/"
    status = journey.client.get("/status/").content.decode()
    assert "New contacts now go to the list “Newsletter”." in status

    tenant = Tenant.objects.get(realm_id=identity.realm_id)
    history = list(ListSelection.objects.filter(tenant=tenant).values_list("list_name", flat=True))
    assert history == ["Newsletter", "Customers"]
    assert Run.objects.filter(tenant=tenant).count() == 1  # the install's first sync alone


def test_a_list_of_another_account_cannot_be_chosen(journey):
    identity = journey.new_identity()
    account = journey.new_account("Mine")
    other = journey.new_account("Theirs")
    journey.install(identity)
    journey.connect_constantcontact(account)
    answer = journey.client.post("/settings/", {"list_id": other.lists["Theirs"]})
    assert answer.status_code == 400
    assert not ListSelection.objects.filter(tenant__realm_id=identity.realm_id).exists()


def test_settings_once_installed_has_one_heading_and_its_copy_names_its_button(
    journey, monkeypatch
):
    monkeypatch.setattr(sync_services, "start_first_sync", lambda *, tenant: None)
    identity = journey.new_identity()
    account = journey.new_account("Newsletter", "Customers")
    installing = journey.full_install(identity, account, "Customers")
    assert installing.status_code == 200

    page = journey.client.get("/settings/").content.decode()
    assert len(re.findall(r"<h[1-6]>\s*Settings\s*</h[1-6]>", page)) == 1
    assert "Set Up and Connect" not in page and "continue the set up" not in page
    assert "Click Save" in page and "Click Connect" not in page
    assert re.search(r"<button[^>]*>Save</button>", page)


def test_the_current_list_is_never_among_the_lists_synced_to_before(journey, monkeypatch):
    monkeypatch.setattr(sync_services, "start_first_sync", lambda *, tenant: None)
    identity = journey.new_identity()
    account = journey.new_account("Newsletter", "Customers")
    journey.full_install(identity, account, "Customers")
    status = journey.client.get("/status/").content.decode()
    assert "Lists synced to before" not in status

    for name in ("Newsletter", "Customers", "Newsletter", "Customers"):
        journey.client.post("/settings/", {"list_id": account.lists[name]})
    status = journey.client.get("/status/").content.decode()
    before = status.split("Lists synced to before", 1)[1].split("</ul>", 1)[0]
    assert before.count("<li>") == 1 and "Newsletter" in before and "Customers" not in before

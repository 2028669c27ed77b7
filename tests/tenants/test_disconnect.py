"""Journey 7: Disconnect from QuickBooks' My Apps and from our pages; installing again."""

import pytest
import requests

from ccsync.sync import services as sync_services
from integrations.constantcontact import errors as cc_errors
from integrations.constantcontact import oauth as cc_oauth
from integrations.quickbooks import errors as qb_errors
from integrations.quickbooks import oauth as qb_oauth
from tenants.models import ConstantContactConnection, ListSelection, QuickBooksConnection, Tenant

NEXT_TEXT = 'Click "Next" to go to Constant Contact to confirm this action.'


@pytest.fixture
def stops(monkeypatch):
    stopped = []
    monkeypatch.setattr(sync_services, "stop_syncs", lambda *, tenant: stopped.append(tenant.pk))
    monkeypatch.setattr(sync_services, "start_first_sync", lambda *, tenant: None)
    return stopped


@pytest.fixture
def connected(journey, stops):
    identity = journey.new_identity()
    account = journey.new_account("Customers", "Newsletter")
    assert journey.full_install(identity, account, "Customers").status_code == 200
    tenant = Tenant.objects.get(realm_id=identity.realm_id)
    return identity, account, tenant


def _tokens(tenant):
    intuit = QuickBooksConnection.objects.get(tenant=tenant)
    cc = ConstantContactConnection.objects.get(tenant=tenant)
    return intuit.refresh_token, cc.refresh_token


def _assert_disconnected(tenant, stops, old_intuit, old_cc):
    tenant.refresh_from_db()
    assert tenant.state == Tenant.State.DISCONNECTED and tenant.disconnected_at
    for model in (QuickBooksConnection, ConstantContactConnection):
        connection = model.objects.get(tenant=tenant)
        assert connection.state == connection.State.DISCONNECTED
        assert connection.access_token_encrypted == connection.refresh_token_encrypted == ""
    assert stops == [tenant.pk]
    # Both sides revoked: the old refresh tokens are refused.
    with pytest.raises(qb_errors.InvalidGrant):
        qb_oauth.refresh(refresh_token=old_intuit)
    with pytest.raises(cc_errors.InvalidGrant):
        cc_oauth.refresh(refresh_token=old_cc)
    # Nothing removed from Constant Contact's side of our records: the list history stays.
    assert ListSelection.objects.filter(tenant=tenant).exists()


def test_disconnect_url_get_changes_nothing_while_intuit_still_accepts_the_tokens(
    journey, connected, stops
):
    _, _, tenant = connected
    answer = journey.client.get("/disconnect/")
    assert answer.status_code == 200
    page = answer.content.decode()
    assert "Are you sure you want to disconnect your data from Constant Contact?" in page
    assert '<form method="post" action="/disconnect/">' in page
    tenant.refresh_from_db()
    assert tenant.is_connected and stops == []
    assert QuickBooksConnection.objects.get(tenant=tenant).is_connected
    assert ConstantContactConnection.objects.get(tenant=tenant).refresh_token


def test_disconnect_url_from_my_apps_acts_once_intuit_confirms(journey, connected, stops, sandbox):
    _, _, tenant = connected
    old_intuit, old_cc = _tokens(tenant)
    browser = journey.browser
    assert browser.open(f"{sandbox.url}/qbo/apps/myapps/") is None
    assert browser.open(f"{sandbox.url}{browser.page.link('Disconnect')}") is None
    assert "Are you sure you want to disconnect your data from Constant Contact?" in browser.html
    back = browser.press("Disconnect")
    assert back.startswith("http://127.0.0.1:8000/disconnect/")

    answer = journey.get(back)
    assert answer.status_code == 200
    page = answer.content.decode()
    assert "You have successfully disconnected from Constant Contact." in page
    assert NEXT_TEXT in page
    assert f'href="{sandbox.url}/cc/account/">Next</a>' in page
    _assert_disconnected(tenant, stops, old_intuit, old_cc)
    # QuickBooks no longer lists the app.
    live = requests.get(
        f"{sandbox.url}/_sandbox/intuit/connections", params={"realm_id": tenant.realm_id}
    ).json()
    assert live["live"] is False


def test_disconnect_url_without_our_session_still_acts_on_intuits_word(
    journey, connected, stops, new_journey, sandbox
):
    _, _, tenant = connected
    old_intuit, old_cc = _tokens(tenant)
    browser = journey.browser
    browser.open(f"{sandbox.url}/qbo/apps/myapps/")
    browser.open(f"{sandbox.url}{browser.page.link('Disconnect')}")
    back = browser.press("Disconnect")
    other_browser = new_journey()  # QuickBooks opened in a browser without our cookie
    answer = other_browser.get(back)
    assert "You have successfully disconnected from Constant Contact." in answer.content.decode()
    _assert_disconnected(tenant, stops, old_intuit, old_cc)


def test_disconnect_url_visited_by_a_stranger_changes_nothing(
    journey, connected, stops, new_journey
):
    _, _, tenant = connected
    stranger = new_journey()
    answer = stranger.client.get(f"/disconnect/?realmId={tenant.realm_id}")
    assert answer.status_code == 200
    assert "The app is still connected" in answer.content.decode()
    assert tenant.realm_id not in answer.content.decode()
    tenant.refresh_from_db()
    assert tenant.is_connected and stops == []
    # And the POST needs a session of a member.
    answer = stranger.client.post("/disconnect/")
    assert answer.status_code == 302 and answer["Location"].startswith("/launch/")
    tenant.refresh_from_db()
    assert tenant.is_connected


def test_in_app_disconnect_revokes_both_sides(journey, connected, stops, settings):
    _, _, tenant = connected
    old_intuit, old_cc = _tokens(tenant)
    page = journey.client.get("/status/").content.decode()
    assert 'href="/disconnect/confirm/"' in page
    confirm = journey.client.get("/disconnect/confirm/").content.decode()
    assert "Nothing is removed from Constant Contact" in confirm
    tenant.refresh_from_db()
    assert tenant.is_connected  # the confirmation page changes nothing

    answer = journey.client.post("/disconnect/")
    assert answer.status_code == 200
    page = answer.content.decode()
    assert "You have successfully disconnected from Constant Contact." in page
    assert f'href="{settings.CONSTANTCONTACT_ACCOUNT_URL}">Next</a>' in page
    _assert_disconnected(tenant, stops, old_intuit, old_cc)

    status = journey.client.get("/status/").content.decode()
    assert "disconnected from this company" in status


def test_installing_again_reuses_the_tenant_and_starts_a_new_first_sync(
    journey, connected, monkeypatch
):
    identity, account, tenant = connected
    journey.client.post("/disconnect/")
    started = []
    monkeypatch.setattr(
        sync_services, "start_first_sync", lambda *, tenant: started.append(tenant.pk)
    )

    answer = journey.full_install(identity, account, "Newsletter")
    assert answer.status_code == 200 and "You're done!" in answer.content.decode()
    assert Tenant.objects.filter(realm_id=identity.realm_id).count() == 1
    tenant.refresh_from_db()
    assert tenant.is_connected and tenant.disconnected_at is None
    assert QuickBooksConnection.objects.get(tenant=tenant).is_connected
    assert ConstantContactConnection.objects.get(tenant=tenant).is_connected
    assert started == [tenant.pk]
    assert list(
        ListSelection.objects.filter(tenant=tenant).values_list("list_name", flat=True)
    ) == ["Newsletter", "Customers"]

"""Journey 7: Disconnect from QuickBooks' My Apps and from our pages; installing again."""

import re
from html import escape

import pytest
import requests
from django.utils import timezone

from ccsync.sync import services as sync_services
from ccsync.sync import tasks
from integrations.constantcontact import errors as cc_errors
from integrations.constantcontact import oauth as cc_oauth
from integrations.limiter import get_limiter
from integrations.quickbooks import errors as qb_errors
from integrations.quickbooks import oauth as qb_oauth
from support.accounts import PASSWORD, Identity
from support.query_string import query_of
from tenants.models import ConstantContactConnection, ListSelection, QuickBooksConnection, Tenant
from tenants.tokens import mark_broken, refresh_expiring_tokens

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


def disconnect_in_my_apps(journey, sandbox, realm_id: str) -> str:
    """QuickBooks' My Apps → Disconnect for `realm_id` (switched to first, as an accountant
    would): where Intuit then sends the browser."""
    browser = journey.browser
    browser.open(f"{sandbox.url}/qbo/")
    if f'value="{realm_id}"' in browser.html:  # not the current company: open it
        form = next(f for f in browser.page.forms if ("realm_id", realm_id, "Open") in f.buttons)
        data = {**form.fields, "realm_id": realm_id}
        assert browser.open(f"{sandbox.url}/qbo/", method="POST", data=data) is None
    assert browser.open(f"{sandbox.url}/qbo/apps/myapps/") is None
    assert browser.open(f"{sandbox.url}{browser.page.link('Disconnect')}") is None
    assert "Are you sure you want to disconnect your data from Constant Contact?" in browser.html
    return browser.press("Disconnect")


SIGN_IN_LINE = "To confirm which company was disconnected, sign in with Intuit."


def visit_disconnect_url(journey, identity, url: str = "http://127.0.0.1:8000/disconnect/"):
    """Our Disconnect URL in this browser: one line says why, then an OpenID-only sign-in
    with Intuit, then the result at its own address (the answer of that address)."""
    page = journey.get(url)
    assert page.status_code == 200 and SIGN_IN_LINE in page.content.decode()
    assert 'href="/disconnect/sign-in/">Sign in with Intuit</a>' in page.content.decode()
    answer = journey.get("/disconnect/sign-in/")
    assert answer.status_code == 302
    to_intuit = answer["Location"]
    scopes = set(query_of(to_intuit)["scope"].split())
    assert scopes == {"openid", "email", "profile"}  # who it is, not the company's data
    back = journey.get(journey.browser.intuit_authorize(to_intuit, identity))
    assert back.status_code == 302 and back["Location"].startswith("/disconnect/done/")
    return journey.get(back["Location"])


def test_disconnect_url_changes_nothing_while_intuit_still_accepts_the_tokens(
    journey, connected, stops
):
    identity, _, tenant = connected
    before = _tokens(tenant)
    answer = visit_disconnect_url(journey, identity)
    assert answer.status_code == 200
    page = answer.content.decode()
    assert "We will confirm with QuickBooks" in page
    assert "Nothing was changed by visiting this page." in page
    tenant.refresh_from_db()
    assert tenant.is_connected and stops == []
    assert QuickBooksConnection.objects.get(tenant=tenant).is_connected
    assert _tokens(tenant) == before


def test_disconnect_url_from_my_apps_acts_once_intuit_confirms(journey, connected, stops, sandbox):
    identity, _, tenant = connected
    old_intuit, old_cc = _tokens(tenant)
    back = disconnect_in_my_apps(journey, sandbox, tenant.realm_id)
    assert back == "http://127.0.0.1:8000/disconnect/"  # no realmId: Intuit sends none

    before = get_limiter().constantcontact_used_today()
    answer = visit_disconnect_url(journey, identity, back)
    assert get_limiter().constantcontact_used_today() == before  # no Constant Contact call
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
    identity, _, tenant = connected
    old_intuit, old_cc = _tokens(tenant)
    back = disconnect_in_my_apps(journey, sandbox, tenant.realm_id)
    other_browser = new_journey()  # QuickBooks opened in a browser without our cookie
    other_browser.browser = journey.browser  # but signed in to Intuit
    answer = visit_disconnect_url(other_browser, identity, back)
    assert "You have successfully disconnected from Constant Contact." in answer.content.decode()
    _assert_disconnected(tenant, stops, old_intuit, old_cc)


def test_an_accountant_disconnecting_x_while_on_y_disconnects_x_only(
    journey, stops, sandbox, monkeypatch
):
    """Issue 12: the session on company Y, company X disconnected in My Apps: X is
    disconnected, Y stays connected."""
    accountant = journey.new_identity("Books X", "Books Y")
    x, y = (company["realm_id"] for company in accountant.companies)
    for realm_id, list_name in ((x, "X list"), (y, "Y list")):
        account = journey.new_account(list_name)
        assert journey.install(accountant, realm_id=realm_id)["Location"].startswith("/")
        journey.connect_constantcontact(account)
        journey.client.post("/settings/", {"list_id": account.lists[list_name]})
    tenant_x, tenant_y = Tenant.objects.get(realm_id=x), Tenant.objects.get(realm_id=y)
    assert journey.client.session["tenant_id"] == tenant_y.pk
    old_intuit, old_cc = _tokens(tenant_x)

    answer = visit_disconnect_url(journey, accountant, disconnect_in_my_apps(journey, sandbox, x))
    assert "You have successfully disconnected from Constant Contact." in answer.content.decode()
    _assert_disconnected(tenant_x, stops, old_intuit, old_cc)
    tenant_y.refresh_from_db()
    assert tenant_y.is_connected
    assert QuickBooksConnection.objects.get(tenant=tenant_y).is_connected
    assert ConstantContactConnection.objects.get(tenant=tenant_y).is_connected


def test_disconnect_url_visited_by_a_stranger_changes_nothing(
    journey, connected, stops, new_journey
):
    """Anyone may GET the Disconnect URL, with any realmId: it only asks Intuit who they
    are. Not even a broken connection is acted on, nor any token refreshed."""
    _, _, tenant = connected
    qb = QuickBooksConnection.objects.get(tenant=tenant)
    mark_broken(qb, reason="test")
    before = (_tokens(tenant), qb.access_token, qb.refreshed_at)
    stranger = new_journey()
    answer = stranger.client.get(f"/disconnect/?realmId={tenant.realm_id}")
    assert answer.status_code == 200 and tenant.realm_id not in answer.content.decode()
    answer = stranger.client.get(f"/disconnect/sign-in/?realmId={tenant.realm_id}")
    assert answer.status_code == 302 and tenant.realm_id not in answer["Location"]
    qb.refresh_from_db()
    tenant.refresh_from_db()
    assert tenant.is_connected and stops == []
    assert (_tokens(tenant), qb.access_token, qb.refreshed_at) == before
    # Signed in with Intuit as themselves, they are a member of nothing here.
    page = visit_disconnect_url(stranger, stranger.new_identity("Other Books")).content.decode()
    assert "We will confirm with QuickBooks" in page and tenant.realm_id not in page
    tenant.refresh_from_db()
    assert tenant.is_connected and stops == []
    # And the POST needs a session of a member.
    answer = new_journey().client.post("/disconnect/")
    assert answer.status_code == 302 and answer["Location"].startswith("/launch/")
    tenant.refresh_from_db()
    assert tenant.is_connected


def test_a_refresh_refused_for_good_disconnects_the_company(
    journey, connected, stops, sandbox, enqueued, django_capture_on_commit_callbacks
):
    """The app learns of a revoke on its own: a refresh answering invalid_grant marks the
    connection broken at once and the company disconnected (same grace period)."""
    _, _, tenant = connected
    old_intuit, old_cc = _tokens(tenant)
    disconnect_in_my_apps(journey, sandbox, tenant.realm_id)  # nobody visits our URL
    QuickBooksConnection.objects.filter(tenant=tenant).update(access_expires_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        refresh_expiring_tokens()  # beat's refresh ahead of expiry
    assert QuickBooksConnection.objects.get(tenant=tenant).is_broken
    assert ("sync.quickbooks_revoked", (tenant.pk,)) in [(j.task, j.args) for j in enqueued]
    tasks.quickbooks_revoked(tenant.pk)
    _assert_disconnected(tenant, stops, old_intuit, old_cc)
    assert "Disconnected in QuickBooks." in QuickBooksConnection.objects.get(tenant=tenant).reason


def test_a_company_installed_again_is_not_disconnected_by_an_old_refusal(journey, connected, stops):
    identity, _, tenant = connected
    tasks.quickbooks_revoked(tenant.pk)  # enqueued before the person installed again
    tenant.refresh_from_db()
    assert tenant.is_connected and stops == []


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
    assert answer.status_code == 302 and answer["Location"].startswith("/disconnect/done/")
    page = journey.client.get(answer["Location"]).content.decode()
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


def without_csrf(page: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", page)


def another_admin(journey, sandbox, identity):
    """A second Intuit user, admin of the identity's company, signed in to QuickBooks in a
    browser of their own (Intuit's help: any admin manages the company's apps)."""
    admin = journey.__class__(sandbox)
    email = f"admin-{identity.email}"
    requests.post(
        f"{sandbox.url}/_sandbox/intuit/companies",
        json={
            "email": email,
            "password": PASSWORD,
            "name": "Sam Admin",
            "company_names": [identity.companies[0]["name"]],
        },
        timeout=10,
    ).raise_for_status()
    admin.browser.open(f"{sandbox.url}/qbo/")
    admin.browser.press("Sign in", email=email, password=PASSWORD)
    admin.admin = Identity(email=email, companies=identity.companies)
    return admin


def test_the_result_has_its_own_address_that_stays_true(journey, connected, stops, new_journey):
    """Issue 21.4: refreshing the page after a disconnect, or coming back later in another
    browser, shows the same result, never "This sign-in link has expired" and its button
    that would install the app again; once installed again, it says so."""
    identity, account, tenant = connected
    answer = journey.client.post("/disconnect/")
    result = answer["Location"]
    first = journey.client.get(result).content.decode()
    again = journey.client.get(result).content.decode()  # the refresh
    later = new_journey().client.get(result).content.decode()  # no session at all
    for page in (first, again, later):
        assert "You have successfully disconnected from Constant Contact." in page
        assert escape(tenant.company_name) in page
        assert "This sign-in link has expired" not in page
        assert 'href="/connect/"' not in page
    assert without_csrf(first) == without_csrf(again)
    forged = result.replace("/done/", "/done/x")
    assert journey.client.get(forged).status_code == 404

    stops.clear()
    journey.full_install(identity, account, "Customers")  # installed again since
    page = journey.client.get(result).content.decode()
    assert "installed again since it was disconnected" in page
    assert "You have successfully disconnected" not in page


def test_another_admin_disconnects_in_my_apps_and_opens_the_disconnect_url(
    journey, connected, stops, sandbox, enqueued, django_capture_on_commit_callbacks
):
    """Any admin of the company may disconnect the app in My Apps; Intuit then sends their
    browser, not the installer's, to our Disconnect URL. They use none of our pages, so no
    company is theirs here: the neutral page, nothing changed by it. The app notices at its
    next call to QuickBooks (a refresh refused: invalid_grant), and disconnects."""
    identity, _, tenant = connected
    old_intuit, old_cc = _tokens(tenant)
    admin = another_admin(journey, sandbox, identity)
    back = disconnect_in_my_apps(admin, sandbox, tenant.realm_id)
    page = visit_disconnect_url(admin, admin.admin, back).content.decode()
    assert "We will confirm with QuickBooks" in page
    assert "another admin of your QuickBooks company" in page
    tenant.refresh_from_db()
    assert tenant.is_connected and stops == []

    QuickBooksConnection.objects.filter(tenant=tenant).update(access_expires_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        refresh_expiring_tokens()  # the app's next call to Intuit
    assert ("sync.quickbooks_revoked", (tenant.pk,)) in [(j.task, j.args) for j in enqueued]
    tasks.quickbooks_revoked(tenant.pk)
    _assert_disconnected(tenant, stops, old_intuit, old_cc)


def test_the_installer_opening_the_disconnect_url_after_another_admin_disconnected(
    journey, connected, stops, sandbox
):
    """The installer, later at the Disconnect URL (or anyone of the company who uses our
    pages): Intuit has revoked the grant, so the company is disconnected."""
    identity, _, tenant = connected
    old_intuit, old_cc = _tokens(tenant)
    admin = another_admin(journey, sandbox, identity)
    back = disconnect_in_my_apps(admin, sandbox, tenant.realm_id)
    page = visit_disconnect_url(journey, identity, back).content.decode()
    assert "You have successfully disconnected from Constant Contact." in page
    _assert_disconnected(tenant, stops, old_intuit, old_cc)


def test_a_disconnect_sign_in_that_comes_back_stale_or_cancelled_never_offers_an_install(
    journey, connected, stops, sandbox, new_journey
):
    """Issue 21.4: Intuit's answer to the Disconnect URL's sign-in, opened again (used,
    expired, or in a browser without the flow), or refused with Cancel: the page's button
    leads back to the Disconnect URL, never to Get App Now."""
    identity, _, tenant = connected
    back = disconnect_in_my_apps(journey, sandbox, tenant.realm_id)
    assert journey.get(back).status_code == 200  # the line before Intuit's sign-in
    to_intuit = journey.get("/disconnect/sign-in/")["Location"]
    callback = journey.browser.intuit_authorize(to_intuit, identity)
    assert journey.get(callback)["Location"].startswith("/disconnect/done/")
    for client in (journey, new_journey()):
        again = client.get(callback).content.decode()  # its flow is used up, or not there
        assert "This sign-in link has expired" in again
        assert 'href="/disconnect/">Start again</a>' in again
        assert 'href="/connect/"' not in again

    cancelled = new_journey()
    to_intuit = cancelled.get("/disconnect/sign-in/")["Location"]
    page = cancelled.get(cancelled.browser.intuit_authorize(to_intuit, identity, allow=False))
    text = page.content.decode()
    assert "You did not sign in with Intuit" in text and "Nothing was changed." in text
    assert 'href="/disconnect/">Try again</a>' in text and 'href="/connect/"' not in text

"""The QuickBooks pages: sign-in, company switcher, Apps tab, My Apps and Disconnect."""

import uuid

import jwt
import requests
from intuitlib.enums import Scopes

from tests.sandbox.intuit.conftest import (
    PASSWORD,
    SCOPES,
    Browser,
    Identity,
    Page,
    callback_query,
    connect,
)

OPENID_ONLY = [Scopes.OPENID, Scopes.EMAIL, Scopes.PROFILE]

APP_NAME = "Constant Contact for QuickBooks Online"


def registration(sandbox) -> dict:
    return requests.get(f"{sandbox.url}/_sandbox/intuit/app", timeout=10).json()


def test_quickbooks_pages_need_sign_in(sandbox):
    answer = requests.get(f"{sandbox.url}/qbo/apps/", allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/qbo/?next=%2Fqbo%2Fapps%2F"


def test_sign_in_goes_back_to_the_page_asked_for(sandbox, seed_identity):
    identity = seed_identity()
    browser = Browser(sandbox)
    page = browser.get("/qbo/apps/myapps/")
    answer = browser.submit(page, "Sign in", email=identity.email, password="correct horse")
    assert answer.headers["Location"] == "/qbo/apps/myapps/"


def test_sign_in_refuses_a_wrong_password_and_forms_need_csrf(sandbox, seed_identity):
    identity = seed_identity()
    browser = Browser(sandbox)
    answer = browser.submit(browser.get("/qbo/"), "Sign in", email=identity.email, password="x")
    assert answer.status_code == 401
    forged = requests.post(
        f"{sandbox.url}/qbo/",
        data={"email": identity.email, "password": "correct horse"},
        allow_redirects=False,
        timeout=10,
    )
    assert forged.status_code == 403


def test_apps_tab_search_finds_the_app_and_get_app_now_starts_connect(sandbox, seed_identity):
    browser = Browser(sandbox)
    browser.sign_in(seed_identity().email)
    results = Page(browser.get("/qbo/apps/", params={"q": APP_NAME}).text)
    app_page = browser.get(results.link(APP_NAME))
    assert app_page.status_code == 200
    assert Page(app_page.text).link("Get App Now") == registration(sandbox)["connect_url"]
    nothing = browser.get("/qbo/apps/", params={"q": "no such app anywhere"})
    assert APP_NAME not in nothing.text


def test_company_switcher(sandbox, seed_identity):
    identity = seed_identity("Alpha", "Beta")
    browser = Browser(sandbox)
    chooser = browser.sign_in(identity.email)
    assert "Choose a company" in chooser.text
    home = browser.follow(browser.submit(chooser, "Open", identity.realm_ids[1]))
    assert "Switch company" in home.text
    assert f'value="{identity.realm_ids[0]}"' in home.text
    assert f'value="{identity.realm_ids[1]}"' not in home.text  # the current one
    # The apps pages are reachable once a company is chosen.
    assert browser.get("/qbo/apps/myapps/", allow_redirects=False).status_code == 200


def test_my_apps_lists_the_connected_app_and_disconnect_revokes(sandbox, connected):
    """My Apps' Disconnect: Intuit revokes the app's tokens for the company itself and
    sends the browser to the app's Disconnect URL, as registered (App URLs):
    https://developer.intuit.com/app/developer/qbo/docs/get-started/app-settings
    https://developers.apideck.com/connectors/quickbooks/docs/application_owner+disconnect_setup
    No parameter says which company: the app must not need one."""
    identity, auth = connected
    app = registration(sandbox)
    browser = Browser(sandbox)
    browser.sign_in(identity.email)
    my_apps = Page(browser.get("/qbo/apps/myapps/").text)
    assert my_apps.link("Launch") == app["launch_url"]
    assert my_apps.link("Settings") == app["settings_url"]
    # The user guide's My Apps card: "Launch Settings Support Disconnect"; the app's
    # Support opens its Help page.
    assert my_apps.link("Support") == app["support_url"]
    assert app["support_url"].endswith("/help/")

    confirm = browser.get(my_apps.link("Disconnect"))
    assert "Are you sure you want to disconnect your data from Constant Contact?" in confirm.text
    assert "The app will no longer have access to the QuickBooks data" in confirm.text
    assert "The app will no longer appear in Blue Dot menu or My Apps page" in confirm.text
    answer = browser.submit(confirm, "Disconnect")
    assert answer.status_code == 302
    assert answer.headers["Location"] == app["disconnect_url"]

    state = requests.get(
        f"{sandbox.url}/_sandbox/intuit/connections",
        params={"realm_id": identity.realm_ids[0]},
        timeout=10,
    ).json()
    assert state["live"] is False
    assert "Disconnect" not in [
        text for text, _ in Page(browser.get("/qbo/apps/myapps/").text).links
    ]
    refreshed = requests.post(
        f"{sandbox.url}/intuit/oauth2/v1/tokens/bearer",
        data={"grant_type": "refresh_token", "refresh_token": auth.refresh_token},
        auth=(sandbox.intuit_client_id, sandbox.intuit_client_secret),
        timeout=10,
    )
    assert refreshed.status_code == 400
    assert refreshed.json() == {"error": "invalid_grant"}


def test_the_app_registration_has_a_reconnect_url(sandbox, app_registration):
    """A Reconnect URL is a mandatory app setting from January 2026: "a link to the page
    from where customers can reconnect to your app" (Intuit's developer blog, "Important
    changes to refresh token policy", 2025-11-12,
    https://blogs.a.intuit.com/2025/11/12/important-changes-to-refresh-token-policy).
    Where QuickBooks shows it to people is not documented: My Apps is left as it was."""
    app = registration(sandbox)
    assert app["reconnect_url"] == "http://127.0.0.1:8000/reconnect/"
    changed = app_registration(reconnect_url="https://app.example.com/reconnect/")
    assert changed["reconnect_url"] == "https://app.example.com/reconnect/"


def test_another_admin_of_the_company_disconnects_the_app(sandbox, auth_client):
    """Any admin of a QuickBooks Online company manages its apps, not only the person who
    connected one ("Only QuickBooks Online Admin users can connect and manage apps for their
    company", Intuit's help article "Disconnect an app in QuickBooks Online and QuickBooks
    Online Accountant", https://quickbooks.intuit.com/learn-support/en-ca/help-article/
    accountant-access/disconnect-app-change-subscription/L5y72TDf3_CA_en_CA). Every member
    of a sandbox company is one of its admins. The Disconnect URL is then opened in that
    admin's browser: the person who installed may never come."""
    company = f"Shared Books {uuid.uuid4().hex[:8]}"
    installer, other_admin = (seed(sandbox, name, company) for name in ("Pat Owner", "Sam Admin"))
    auth = auth_client()
    query = connect(sandbox, Browser(sandbox), auth, installer)
    auth.get_bearer_token(query["code"], realm_id=query["realmId"])

    browser = Browser(sandbox)
    browser.sign_in(other_admin.email)
    my_apps = Page(browser.get("/qbo/apps/myapps/").text)
    answer = browser.submit(browser.get(my_apps.link("Disconnect")), "Disconnect")
    assert answer.headers["Location"] == registration(sandbox)["disconnect_url"]
    state = requests.get(
        f"{sandbox.url}/_sandbox/intuit/connections",
        params={"realm_id": installer.realm_ids[0]},
        timeout=10,
    ).json()
    assert state["live"] is False
    refreshed = requests.post(
        f"{sandbox.url}/intuit/oauth2/v1/tokens/bearer",
        data={"grant_type": "refresh_token", "refresh_token": auth.refresh_token},
        auth=(sandbox.intuit_client_id, sandbox.intuit_client_secret),
        timeout=10,
    )
    assert refreshed.json() == {"error": "invalid_grant"}  # the installer's grant ended


def seed(sandbox, name: str, company: str) -> Identity:
    """An Intuit user who is an admin of `company`."""
    email = f"{uuid.uuid4().hex[:12]}@example.com"
    answer = requests.post(
        f"{sandbox.url}/_sandbox/intuit/companies",
        json={"email": email, "password": PASSWORD, "name": name, "company_names": [company]},
        timeout=10,
    )
    answer.raise_for_status()
    return Identity(email=email, realm_ids=[c["realm_id"] for c in answer.json()["companies"]])


def test_my_apps_is_per_company(sandbox, seed_identity, auth_client):
    identity = seed_identity("Connected", "Other")
    browser = Browser(sandbox)
    auth = auth_client()
    query = connect(sandbox, browser, auth, identity, realm_id=identity.realm_ids[0])
    auth.get_bearer_token(query["code"])
    live = requests.get(
        f"{sandbox.url}/_sandbox/intuit/connections",
        params={"realm_id": identity.realm_ids[0]},
        timeout=10,
    ).json()
    assert live["live"] is True
    # Signed in on the authorize page is signed in to QuickBooks too.
    home = browser.get("/qbo/")
    browser.follow(browser.submit(home, "Open", identity.realm_ids[1]))
    assert APP_NAME not in browser.get("/qbo/apps/myapps/").text
    browser.follow(browser.submit(browser.get("/qbo/"), "Open", identity.realm_ids[0]))
    assert APP_NAME in browser.get("/qbo/apps/myapps/").text


def test_signed_in_browser_goes_straight_to_consent(sandbox, seed_identity, auth_client):
    identity = seed_identity()
    browser = Browser(sandbox)
    browser.sign_in(identity.email)
    page = browser.get(auth_client().get_authorization_url(SCOPES, state_token="s"))
    assert "Allow" in page.text
    assert callback_query(browser.submit(page, "Allow"))["realmId"] == identity.realm_ids[0]


def test_a_sign_in_with_openid_alone_connects_no_company(sandbox, seed_identity, auth_client):
    """Sign-in with OpenID scopes only (openid email profile) asks who the person is, not
    for a company's data: no company to choose, no realmId back, no realmid claim, and the
    app does not appear in My Apps. The accounting scope is what connects a company:
    https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/openid-connect
    https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/oauth-2.0
    """
    identity = seed_identity("One", "Two")
    browser = Browser(sandbox)
    browser.sign_in(identity.email)
    auth = auth_client()
    page = browser.get(auth.get_authorization_url(OPENID_ONLY, state_token="s"))
    assert "Which company" not in page.text and "Allow" in page.text
    query = callback_query(browser.submit(page, "Allow"))
    assert "realmId" not in query
    auth.get_bearer_token(query["code"])
    claims = jwt.decode(auth.id_token, options={"verify_signature": False})
    assert claims["sub"] and "realmid" not in claims
    # Not an accounting token, and no company lists the app.
    for realm_id in identity.realm_ids:
        api = f"{sandbox.quickbooks_api_base}/v3/company/{realm_id}/companyinfo/{realm_id}"
        headers = {"Authorization": f"Bearer {auth.access_token}", "Accept": "application/json"}
        assert requests.get(api, headers=headers, timeout=10).status_code == 401
        states = requests.get(
            f"{sandbox.url}/_sandbox/intuit/connections", params={"realm_id": realm_id}, timeout=10
        ).json()
        assert states["live"] is False


def test_app_registration_control(sandbox, app_registration):
    changed = app_registration(disconnect_url="http://127.0.0.1:9/bye/")
    assert changed["disconnect_url"] == "http://127.0.0.1:9/bye/"
    bad = requests.post(
        f"{sandbox.url}/_sandbox/intuit/app", json={"redirect_uris": "x"}, timeout=10
    )
    assert bad.status_code == 400
    bad = requests.post(f"{sandbox.url}/_sandbox/intuit/app", json={"client_id": "x"}, timeout=10)
    assert bad.status_code == 400

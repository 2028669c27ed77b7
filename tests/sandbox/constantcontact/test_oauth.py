"""Constant Contact's identity and OAuth2 (authorization code + PKCE) in the sandbox, driven
through its pages as a person would, with requests-oauthlib as the app would."""

import re

import pytest
import requests
from oauthlib.oauth2 import InvalidGrantError
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth2Session

from tests.sandbox.constantcontact.conftest import (
    REDIRECT_URI,
    Browser,
    CCApi,
    authorize,
    callback_query,
    consent,
    start_authorization,
    tokens_for,
    unique,
)


def _token_call(sandbox, auth=None, **data) -> requests.Response:
    auth = auth or HTTPBasicAuth(sandbox.cc_client_id, sandbox.cc_client_secret)
    return requests.post(f"{sandbox.cc_oauth_base}/token", data=data, auth=auth, timeout=10)


def test_allow_gives_a_code_that_pkce_exchanges_for_tokens(sandbox, cc_account, contract):
    oauth, url = start_authorization(sandbox)
    assert "code_challenge=" in url and "code_challenge_method=S256" in url
    browser = Browser(sandbox)
    first = browser.get(url)
    assert first.status_code == 302 and first.headers["Location"].startswith("/cc/login?next=")
    login_page = browser.get(first.headers["Location"])
    for text in ("Username", "Password", "Remember my username", "Log In", "Sign up"):
        assert text in login_page.text
    answer = consent(browser, url, cc_account)
    query = callback_query(answer)
    assert query["state"] == oauth._state and query["code"]

    token = oauth.fetch_token(
        f"{sandbox.cc_oauth_base}/token",
        authorization_response=answer.headers["Location"],
        client_secret=sandbox.cc_client_secret,
    )
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 24 * 3600
    assert token["refresh_token"] and token["access_token"]
    assert set(token["scope"]) == {"contact_data", "offline_access", "account_read"}

    summary = CCApi(sandbox.cc_api_base, token["access_token"], contract).get("/account/summary")
    assert summary.status_code == 200
    assert summary.json()["encoded_account_id"] == cc_account["account_id"]
    assert summary.json()["organization_name"]


def test_consent_page_words_and_deny(sandbox, cc_account):
    oauth, url = start_authorization(sandbox)
    browser = Browser(sandbox)
    page = browser.get(browser.get(url).headers["Location"])
    browser.log_in(page, cc_account["username"], "pw")
    consent_page = browser.get(url)
    assert "Allow Access?" in consent_page.text
    assert (
        "Constant Contact for QuickBooks Online would like to access and/or update your "
        "Constant Contact account." in consent_page.text
    )
    assert (
        "You should only grant access to applications you trust with your Constant Contact "
        "account information." in consent_page.text
    )
    query = callback_query(browser.submit(consent_page, decision="deny"))
    assert query["error"] == "access_denied"
    assert query["error_description"]
    assert query["state"] == oauth._state
    assert "code" not in query


def test_wrong_password_and_csrf_are_refused(sandbox, cc_account):
    browser = Browser(sandbox)
    page = browser.get("/cc/login")
    answer = browser.log_in(page, cc_account["username"], "wrong")
    assert answer.status_code == 400 and "incorrect" in answer.text
    forged = requests.post(
        f"{sandbox.url}/cc/login",
        data={"username": cc_account["username"], "password": "pw"},
        allow_redirects=False,
        timeout=10,
    )
    assert forged.status_code == 403


def test_remember_my_username_prefills_the_login(sandbox, cc_account):
    browser = Browser(sandbox)
    browser.log_in(browser.get("/cc/login"), cc_account["username"], "pw", remember="1")
    fresh = Browser(sandbox)
    fresh.session.cookies.set(
        "cc_remembered_username", browser.session.cookies["cc_remembered_username"]
    )
    assert f'value="{cc_account["username"]}"' in fresh.get("/cc/login").text
    assert 'name="username" value=""' in Browser(sandbox).get("/cc/login").text


def test_sign_up_link_creates_an_account_and_returns_to_the_authorization(sandbox):
    oauth, url = start_authorization(sandbox)
    browser = Browser(sandbox)
    login_page = browser.get(browser.get(url).headers["Location"])
    link = re.search(r'<a href="([^"]*)">Sign up</a>', login_page.text)
    signup_href = link.group(1).replace("&amp;", "&")
    assert signup_href.startswith("/cc/signup?next=")
    signup_page = browser.get(signup_href)
    username = unique("new")
    answer = browser.submit(
        signup_page, username=username, password="secret", organization_name="Acme Shop"
    )
    assert answer.status_code == 302
    consent_page = browser.get(answer.headers["Location"])
    assert "Allow Access?" in consent_page.text and username in consent_page.text
    query = callback_query(browser.submit(consent_page, decision="allow"))
    assert query["code"] and query["state"] == oauth._state
    taken = browser.submit(browser.get(signup_href), username=username, password="x")
    assert taken.status_code == 400 and "taken" in taken.text


def test_pkce_is_required_and_bad_clients_are_not_redirected(sandbox, cc_account):
    base = f"{sandbox.cc_oauth_base}/authorize"
    common = {"response_type": "code", "client_id": sandbox.cc_client_id, "state": "s1"}
    no_pkce = requests.get(
        base,
        params={**common, "redirect_uri": REDIRECT_URI, "scope": "contact_data"},
        allow_redirects=False,
        timeout=10,
    )
    query = callback_query(no_pkce)
    assert query["error"] == "invalid_request" and query["state"] == "s1"
    foreign = requests.get(
        base,
        params={**common, "redirect_uri": "https://evil.example/cb", "scope": "contact_data"},
        allow_redirects=False,
        timeout=10,
    )
    assert foreign.status_code == 400 and "Location" not in foreign.headers


def test_wrong_verifier_is_invalid_grant(sandbox, cc_account):
    code = callback_query(authorize(sandbox, Browser(sandbox), cc_account))["code"]
    answer = _token_call(
        sandbox,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT_URI,
        code_verifier="x" * 50,
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant" and answer.json()["error_description"]


@pytest.mark.parametrize(
    ("client_id", "client_secret", "status", "error"),
    [
        ("sandbox-cc-client", "sandbox-cc-secret", 400, "invalid_grant"),
        ("sandbox-cc-client", "not-the-secret", 401, "invalid_client"),
        ("nobody", "sandbox-cc-secret", 401, "invalid_client"),
    ],
)
def test_a_code_never_issued_tells_good_client_credentials_from_bad(
    sandbox, client_id, client_secret, status, error
):
    """What a deployment's preflight relies on: token requests authenticate the client
    with HTTP Basic (client_id:client_secret, Constant Contact's Authorization Code Flow,
    step 4), and the server authenticates the client before it looks at the grant (RFC
    6749 5.2: invalid_client, 401 with WWW-Authenticate for HTTP Basic; invalid_grant, 400,
    for a code it never issued). https://developer.constantcontact.com/api_guide/
    server_flow.html, https://datatracker.ietf.org/doc/html/rfc6749#section-5.2"""
    assert (sandbox.cc_client_id, sandbox.cc_client_secret) == (
        "sandbox-cc-client",
        "sandbox-cc-secret",
    )
    answer = _token_call(
        sandbox,
        auth=HTTPBasicAuth(client_id, client_secret),
        grant_type="authorization_code",
        code="never-issued",
        redirect_uri=REDIRECT_URI,
        code_verifier="v" * 64,
    )
    assert (answer.status_code, answer.json()["error"]) == (status, error)
    assert answer.headers.get("WWW-Authenticate", "").startswith("Basic") == (status == 401)


def test_code_works_once(sandbox, cc_account):
    oauth, url = start_authorization(sandbox)
    answer = consent(Browser(sandbox), url, cc_account)
    token_url = f"{sandbox.cc_oauth_base}/token"
    oauth.fetch_token(
        token_url,
        authorization_response=answer.headers["Location"],
        client_secret=sandbox.cc_client_secret,
    )
    again = _token_call(
        sandbox,
        grant_type="authorization_code",
        code=callback_query(answer)["code"],
        redirect_uri=REDIRECT_URI,
        code_verifier=oauth._code_verifier,
    )
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_expired_code_and_bad_client(sandbox, cc_account, knobs):
    bad = _token_call(
        sandbox,
        auth=HTTPBasicAuth(sandbox.cc_client_id, "not-the-secret"),
        grant_type="refresh_token",
        refresh_token="x",
    )
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
    knobs(cc_code_ttl=0)
    oauth, url = start_authorization(sandbox)
    answer = consent(Browser(sandbox), url, cc_account)
    expired = _token_call(
        sandbox,
        grant_type="authorization_code",
        code=callback_query(answer)["code"],
        redirect_uri=REDIRECT_URI,
        code_verifier=oauth._code_verifier,
    )
    assert expired.status_code == 400 and expired.json()["error"] == "invalid_grant"


def test_refresh_tokens_rotate(sandbox, cc_account, contract):
    first = tokens_for(sandbox, cc_account)
    second = _token_call(sandbox, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert second.status_code == 200
    newer = second.json()
    assert newer["refresh_token"] != first["refresh_token"]
    assert newer["access_token"] != first["access_token"]
    reused = _token_call(sandbox, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    api = CCApi(sandbox.cc_api_base, newer["access_token"], contract)
    assert api.get("/contact_lists").status_code == 200
    third = _token_call(sandbox, grant_type="refresh_token", refresh_token=newer["refresh_token"])
    assert third.status_code == 200


def test_requests_oauthlib_refresh_and_rotation(sandbox, cc_account):
    token = tokens_for(sandbox, cc_account)
    oauth = OAuth2Session(sandbox.cc_client_id, token=token)
    auth = HTTPBasicAuth(sandbox.cc_client_id, sandbox.cc_client_secret)
    renewed = oauth.refresh_token(f"{sandbox.cc_oauth_base}/token", auth=auth)
    assert renewed["refresh_token"] != token["refresh_token"]
    stale = OAuth2Session(sandbox.cc_client_id, token=token)
    try:
        stale.refresh_token(f"{sandbox.cc_oauth_base}/token", auth=auth)
    except InvalidGrantError:
        refused = True
    else:
        refused = False
    assert refused


def test_expired_access_and_refresh_tokens(sandbox, cc_account, contract, knobs):
    knobs(cc_access_token_ttl=0, cc_refresh_token_ttl=0)
    token = tokens_for(sandbox, cc_account)
    answer = CCApi(sandbox.cc_api_base, token["access_token"], contract).get("/contact_lists")
    assert answer.status_code == 401
    assert answer.json()[0]["error_key"] == "unauthorized"
    refresh = _token_call(sandbox, grant_type="refresh_token", refresh_token=token["refresh_token"])
    assert refresh.status_code == 400 and refresh.json()["error"] == "invalid_grant"


def test_revoke_ends_the_grant(sandbox, cc_account, contract):
    token = tokens_for(sandbox, cc_account)
    api = CCApi(sandbox.cc_api_base, token["access_token"], contract)
    assert api.get("/contact_lists").status_code == 200
    unauthenticated = requests.post(
        f"{sandbox.cc_oauth_base}/revoke", data={"token": token["refresh_token"]}, timeout=10
    )
    assert unauthenticated.status_code == 401
    revoked = requests.post(
        f"{sandbox.cc_oauth_base}/revoke",
        data={"token": token["refresh_token"], "token_type_hint": "refresh_token"},
        auth=HTTPBasicAuth(sandbox.cc_client_id, sandbox.cc_client_secret),
        timeout=10,
    )
    assert revoked.status_code == 200
    assert api.get("/contact_lists").status_code == 401
    refresh = _token_call(sandbox, grant_type="refresh_token", refresh_token=token["refresh_token"])
    assert refresh.json()["error"] == "invalid_grant"


def test_missing_scope_is_forbidden(sandbox, cc_account, contract):
    oauth, url = start_authorization(sandbox)
    oauth.scope = ["contact_data"]
    url, _ = oauth.authorization_url(f"{sandbox.cc_oauth_base}/authorize")
    answer = consent(Browser(sandbox), url, cc_account)
    token = oauth.fetch_token(
        f"{sandbox.cc_oauth_base}/token",
        authorization_response=answer.headers["Location"],
        client_secret=sandbox.cc_client_secret,
    )
    assert "refresh_token" not in token  # no offline_access, no refresh token
    api = CCApi(sandbox.cc_api_base, token["access_token"], contract)
    summary = api.get("/account/summary")
    assert summary.status_code == 403
    assert api.get("/contact_lists").status_code == 200
    assert CCApi(sandbox.cc_api_base, "nope", contract).get("/contacts").status_code == 401

"""Intuit's OAuth 2.0 / OpenID Connect server, driven by intuit-oauth's real AuthClient."""

import base64
import json
import time

import jwt
import pytest
import requests
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError

from tests.sandbox.intuit.conftest import (
    REDIRECT_URI,
    SCOPES,
    Browser,
    callback_query,
    connect,
    run_in_sandbox,
)


def _invalid_grant(call) -> None:
    with pytest.raises(AuthClientError) as raised:
        call()
    assert raised.value.status_code == 400
    assert json.loads(raised.value.content) == {"error": "invalid_grant"}


def test_intuit_oauth_client_completes_the_whole_flow(sandbox, seed_identity, auth_client):
    identity = seed_identity()
    auth = auth_client()
    browser = Browser(sandbox)
    query = connect(sandbox, browser, auth, identity)
    assert query["realmId"] == identity.realm_ids[0]

    auth.get_bearer_token(query["code"], realm_id=query["realmId"])
    # AuthClient keeps id_token only when validate_id_token passed (issuer, aud, exp, RS256).
    assert auth.id_token
    assert auth.access_token and auth.refresh_token
    assert auth.expires_in == 3600
    assert auth.x_refresh_token_expires_in == 100 * 24 * 3600
    claims = jwt.decode(
        auth.id_token, options={"verify_signature": False}, audience=sandbox.intuit_client_id
    )
    assert claims["aud"] == [sandbox.intuit_client_id]
    assert claims["realmid"] == identity.realm_ids[0]
    assert claims["email"] == identity.email
    assert claims["iss"] == f"{sandbox.url}/intuit/op/v1"
    assert claims["iat"] <= time.time() < claims["exp"]
    assert claims["auth_time"] <= claims["iat"]

    first_refresh = auth.refresh_token
    auth.refresh()
    assert auth.refresh_token != first_refresh
    _invalid_grant(lambda: auth.refresh(refresh_token=first_refresh))

    info = auth.get_user_info().json()
    assert info["sub"] == claims["sub"]
    assert info["email"] == identity.email
    assert info["emailVerified"] is True
    assert (info["givenName"], info["familyName"]) == ("Pat", "Doe")

    access_token = auth.access_token
    assert auth.revoke() is True
    _invalid_grant(lambda: auth.refresh())
    answer = requests.get(
        f"{sandbox.url}/intuit/v1/openid_connect/userinfo",
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=10,
    )
    assert answer.status_code == 401


def test_id_token_segments_decode_with_plain_base64(connected, sandbox):
    """intuit-oauth reads the header and payload with b64decode: no '-' or '_' allowed."""
    _, auth = connected
    header, payload, _ = auth.id_token.split(".")
    for segment in (header, payload):
        assert "-" not in segment and "_" not in segment
        decoded = json.loads(base64.b64decode(segment + "=" * (-len(segment) % 4)))
        assert decoded
    jwks = requests.get(f"{sandbox.url}/intuit/op/v1/jwks", timeout=10).json()
    kid = jwt.get_unverified_header(auth.id_token)["kid"]
    key = jwt.PyJWKSet.from_dict(jwks)[kid].key
    claims = jwt.decode(auth.id_token, key, algorithms=["RS256"], audience=sandbox.intuit_client_id)
    assert claims["auth_time"] and claims["sub"]


def test_code_works_once(sandbox, seed_identity, auth_client):
    identity = seed_identity()
    auth = auth_client()
    query = connect(sandbox, Browser(sandbox), auth, identity)
    auth.get_bearer_token(query["code"], realm_id=query["realmId"])
    _invalid_grant(lambda: auth_client().get_bearer_token(query["code"]))


def test_expired_code(sandbox, seed_identity, auth_client):
    identity = seed_identity()
    auth = auth_client()
    with sandbox.knobs(intuit_code_ttl=0):
        query = connect(sandbox, Browser(sandbox), auth, identity)
    _invalid_grant(lambda: auth.get_bearer_token(query["code"]))


def test_code_needs_the_same_redirect_uri(sandbox, seed_identity, auth_client, app_registration):
    other = "http://127.0.0.1:8000/elsewhere/"
    app_registration(redirect_uris=[REDIRECT_URI, other])
    identity = seed_identity()
    query = connect(sandbox, Browser(sandbox), auth_client(), identity)
    _invalid_grant(lambda: auth_client(redirect_uri=other).get_bearer_token(query["code"]))
    auth = auth_client()
    auth.get_bearer_token(query["code"])
    assert auth.access_token


def test_token_endpoint_needs_client_authentication(sandbox, seed_identity, auth_client):
    identity = seed_identity()
    query = connect(sandbox, Browser(sandbox), auth_client(), identity)
    with pytest.raises(AuthClientError) as raised:
        auth_client(client_secret="wrong").get_bearer_token(query["code"])
    assert raised.value.status_code == 401
    assert json.loads(raised.value.content)["error"] == "invalid_client"
    answer = requests.post(
        f"{sandbox.url}/intuit/oauth2/v1/tokens/bearer",
        data={"grant_type": "authorization_code", "code": query["code"]},
        timeout=10,
    )
    assert answer.status_code == 401
    # A failed client authentication does not use the code up.
    auth = auth_client()
    auth.get_bearer_token(query["code"])
    assert auth.access_token


@pytest.mark.parametrize(
    ("client_id", "client_secret", "status", "error"),
    [
        ("sandbox-intuit-client", "sandbox-intuit-secret", 400, "invalid_grant"),
        ("sandbox-intuit-client", "not-the-secret", 401, "invalid_client"),
        ("nobody", "sandbox-intuit-secret", 401, "invalid_client"),
    ],
)
def test_a_code_never_issued_tells_good_client_credentials_from_bad(
    sandbox, client_id, client_secret, status, error
):
    """What a deployment's preflight relies on: the token endpoint authenticates the client
    before it looks at the grant (RFC 6749 5.2: invalid_client, 401 with WWW-Authenticate
    when the client used HTTP Basic; invalid_grant, 400, for a code it never issued). Intuit
    answers exactly {"error":"invalid_client"} 401 for bad keys (intuit/oauth-rubyclient
    issue 14) and {"error":"invalid_grant"} 400 for a code or refresh token it does not
    know (intuit/oauth-jsclient issues 77 and 128). https://datatracker.ietf.org/doc/html/
    rfc6749#section-5.2, https://developer.intuit.com/app/developer/qbo/docs/develop/
    authentication-and-authorization/oauth-2.0"""
    assert (sandbox.intuit_client_id, sandbox.intuit_client_secret) == (
        "sandbox-intuit-client",
        "sandbox-intuit-secret",
    )
    answer = requests.post(
        f"{sandbox.url}/intuit/oauth2/v1/tokens/bearer",
        data={
            "grant_type": "authorization_code",
            "code": "AB11never-issued",
            "redirect_uri": REDIRECT_URI,
        },
        auth=(client_id, client_secret),
        headers={"Accept": "application/json"},
        timeout=10,
    )
    assert (answer.status_code, answer.json()) == (status, {"error": error})
    assert answer.headers.get("WWW-Authenticate", "").startswith("Basic") == (status == 401)


def test_unsupported_grant_type(sandbox):
    answer = requests.post(
        f"{sandbox.url}/intuit/oauth2/v1/tokens/bearer",
        data={"grant_type": "password"},
        auth=(sandbox.intuit_client_id, sandbox.intuit_client_secret),
        timeout=10,
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "unsupported_grant_type"


def test_cancel_sends_access_denied(sandbox, seed_identity, auth_client):
    identity = seed_identity()
    browser = Browser(sandbox)
    browser.sign_in(identity.email)
    page = browser.get(auth_client().get_authorization_url(SCOPES, state_token="s1"))
    assert "Allow" in page.text
    query = callback_query(browser.submit(page, "Cancel"))
    assert query == {"error": "access_denied", "state": "s1"}


def test_unknown_client_or_unregistered_redirect_is_not_redirected(sandbox, auth_client):
    auth = auth_client()
    for url in (
        auth.get_authorization_url(SCOPES, state_token="s").replace(
            sandbox.intuit_client_id, "nobody"
        ),
        auth_client(redirect_uri="https://evil.example/cb").get_authorization_url(
            SCOPES, state_token="s"
        ),
    ):
        answer = requests.get(url, allow_redirects=False, timeout=10)
        assert answer.status_code == 400
        assert "evil.example" not in answer.headers.get("Location", "")


def test_wrong_password_is_refused(sandbox, seed_identity, auth_client):
    identity = seed_identity()
    browser = Browser(sandbox)
    page = browser.get(auth_client().get_authorization_url(SCOPES, state_token="s"))
    answer = browser.submit(page, "Sign in", email=identity.email, password="wrong")
    assert answer.status_code == 401
    assert "Allow" not in answer.text


def test_choosing_among_several_companies(sandbox, seed_identity, auth_client):
    identity = seed_identity("North", "South")
    auth = auth_client()
    query = connect(sandbox, Browser(sandbox), auth, identity, realm_id=identity.realm_ids[1])
    assert query["realmId"] == identity.realm_ids[1]
    auth.get_bearer_token(query["code"], realm_id=query["realmId"])
    claims = jwt.decode(auth.id_token, options={"verify_signature": False})
    assert claims["realmid"] == identity.realm_ids[1]


def test_a_company_of_someone_else_cannot_be_chosen(sandbox, seed_identity, auth_client):
    mine, theirs = seed_identity("Mine", "Also mine"), seed_identity()
    browser = Browser(sandbox)
    browser.sign_in(mine.email)
    page = browser.get(auth_client().get_authorization_url(SCOPES, state_token="s"))
    answer = browser.submit(page, "Next", realm_id=theirs.realm_ids[0])
    assert answer.status_code == 200
    assert "Which company" in answer.text


def test_expired_refresh_and_access_tokens(sandbox, seed_identity, auth_client):
    identity = seed_identity()
    auth = auth_client()
    query = connect(sandbox, Browser(sandbox), auth, identity)
    with sandbox.knobs(intuit_access_token_ttl=0, intuit_refresh_token_ttl=0):
        auth.get_bearer_token(query["code"])
    assert auth.expires_in == 0
    with pytest.raises(AuthClientError) as raised:
        auth.get_user_info()
    assert raised.value.status_code == 401
    _invalid_grant(lambda: auth.refresh())


FIVE_YEARS = 5 * 365 * 24 * 3600


def test_the_token_answer_gives_the_refresh_tokens_five_year_expiry(
    sandbox, seed_identity, auth_client, knobs
):
    """Refresh tokens live five years at most, whatever their use (Intuit's developer blog,
    "Important changes to refresh token policy", 2025-11-12,
    https://blogs.a.intuit.com/2025/11/12/important-changes-to-refresh-token-policy). The
    answer's field is x_refresh_token_hard_expires_in, in seconds, given when the request
    carries the header x-include-refresh-token-hard-expires-in: true (intuit-oauth 1.2.7,
    intuitlib/config.py and AuthClient.include_refresh_token_hard_expires_in; the Java SDK's
    v6.5.4 and the .NET SDK's V14.7.1.4 release notes). The knob
    intuit_refresh_token_hard_expiry gives it always, or never (an answer from before)."""
    identity = seed_identity()
    auth = auth_client()
    query = connect(sandbox, Browser(sandbox), auth, identity)
    auth.include_refresh_token_hard_expires_in = True
    auth.get_bearer_token(query["code"], realm_id=query["realmId"])
    assert FIVE_YEARS - 60 < auth.x_refresh_token_hard_expires_in <= FIVE_YEARS
    # The grant's limit, not the token's: a refresh answers what is left of the same one.
    auth.refresh()
    assert FIVE_YEARS - 60 < auth.x_refresh_token_hard_expires_in <= FIVE_YEARS
    assert auth.x_refresh_token_expires_in == 100 * 24 * 3600  # the rolling 100 days

    auth.include_refresh_token_hard_expires_in = False
    auth.x_refresh_token_hard_expires_in = None
    auth.refresh()
    assert auth.x_refresh_token_hard_expires_in is None  # not asked for: not given
    knobs(intuit_refresh_token_hard_expiry="always")
    auth.refresh()
    assert FIVE_YEARS - 60 < auth.x_refresh_token_hard_expires_in <= FIVE_YEARS
    knobs(intuit_refresh_token_hard_expiry="never")
    auth.include_refresh_token_hard_expires_in = True
    auth.x_refresh_token_hard_expires_in = None
    auth.refresh()
    assert auth.x_refresh_token_hard_expires_in is None


def test_a_grant_near_its_five_years_rolls_no_further(sandbox, seed_identity, auth_client, knobs):
    """The rolling refresh token never outlives the grant's hard limit (same blog post);
    the knob intuit_refresh_token_hard_lifetime makes a grant that ends in 20 days."""
    knobs(intuit_refresh_token_hard_lifetime=20 * 24 * 3600)
    identity = seed_identity()
    auth = auth_client()
    auth.include_refresh_token_hard_expires_in = True
    query = connect(sandbox, Browser(sandbox), auth, identity)
    auth.get_bearer_token(query["code"], realm_id=query["realmId"])
    assert 20 * 24 * 3600 - 60 < auth.x_refresh_token_hard_expires_in <= 20 * 24 * 3600
    assert auth.x_refresh_token_expires_in == auth.x_refresh_token_hard_expires_in


def test_revoke_of_an_unknown_token_answers_200(sandbox):
    answer = requests.post(
        f"{sandbox.url}/intuit/v2/oauth2/tokens/revoke",
        json={"token": "not-a-token"},
        auth=(sandbox.intuit_client_id, sandbox.intuit_client_secret),
        timeout=10,
    )
    assert answer.status_code == 200
    answer = requests.post(
        f"{sandbox.url}/intuit/v2/oauth2/tokens/revoke", json={"token": "x"}, timeout=10
    )
    assert answer.status_code == 401


def test_revoking_the_access_token_ends_the_refresh_token_too(connected, auth_client):
    identity, auth = connected
    auth_client().revoke(token=auth.access_token)
    _invalid_grant(lambda: auth.refresh())


def test_discovery_document(sandbox):
    document = requests.get(sandbox.discovery_url, timeout=10).json()
    assert document["issuer"] == f"{sandbox.url}/intuit/op/v1"
    assert document["token_endpoint"] == f"{sandbox.url}/intuit/oauth2/v1/tokens/bearer"
    assert document["jwks_uri"] == f"{sandbox.url}/intuit/op/v1/jwks"


def test_id_token_encoding_avoids_base64url_only_characters(sandbox):
    """Claims full of the characters that would give '-' or '_' still decode with b64decode."""
    claims = run_in_sandbox(
        sandbox,
        "import json, base64; from sandbox.intuit.idtokens import sign; "
        "token = sign({'x': '?>~o/O_' * 9, 'y': 'ü/?'}); "
        "head, body, _ = token.split('.'); "
        "assert not set('-_') & set(head + body), token; "
        "print(base64.b64decode(body + '===').decode())",
    )
    assert claims == {"x": "?>~o/O_" * 9, "y": "ü/?"}


# realm_for_access_token, which sandbox.quickbooks relies on, runs inside the sandbox.


def realm_for(sandbox, token: str) -> str | None:
    return run_in_sandbox(
        sandbox,
        "import json; from sandbox.intuit.oauth import realm_for_access_token as r; "
        f"print(json.dumps(r(token={token!r})))",
    )


def test_realm_for_access_token(sandbox, connected, auth_client):
    identity, auth = connected
    assert realm_for(sandbox, auth.access_token) == identity.realm_ids[0]
    assert realm_for(sandbox, "not-a-token") is None
    auth_client().revoke(token=auth.refresh_token)
    assert realm_for(sandbox, auth.access_token) is None


def test_realm_needs_an_unexpired_accounting_token(sandbox, seed_identity, auth_client):
    identity = seed_identity()
    openid_only = auth_client()
    query = connect(
        sandbox, Browser(sandbox), openid_only, identity, scopes=[Scopes.OPENID, Scopes.EMAIL]
    )
    openid_only.get_bearer_token(query["code"])
    assert openid_only.access_token
    assert realm_for(sandbox, openid_only.access_token) is None

    expired = auth_client()
    query = connect(sandbox, Browser(sandbox), expired, identity)
    with sandbox.knobs(intuit_access_token_ttl=0):
        expired.get_bearer_token(query["code"])
    assert realm_for(sandbox, expired.access_token) is None


def test_the_id_token_names_the_company_in_its_realmid_claim(sandbox, seed_identity, auth_client):
    """Intuit's ID token carries the company connected in its `realmid` claim (the
    discovery document lists it among claims_supported), signed RS256 with a key of the
    JWKS at jwks_uri:
    https://developer.intuit.com/.well-known/openid-sandbox-configuration
    https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/openid-connect
    """
    document = requests.get(sandbox.discovery_url, timeout=10).json()
    assert "realmid" in document["claims_supported"]
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]
    identity = seed_identity("One", "Two")
    auth = auth_client()
    query = connect(sandbox, Browser(sandbox), auth, identity, realm_id=identity.realm_ids[1])
    auth.get_bearer_token(query["code"], realm_id=query["realmId"])
    keys = jwt.PyJWKSet.from_dict(requests.get(document["jwks_uri"], timeout=10).json())
    kid = jwt.get_unverified_header(auth.id_token)["kid"]
    claims = jwt.decode(
        auth.id_token,
        keys[kid].key,
        algorithms=["RS256"],
        audience=sandbox.intuit_client_id,
        issuer=document["issuer"],
    )
    assert claims["realmid"] == identity.realm_ids[1] == query["realmId"]


@pytest.mark.parametrize("knob", ["none", "4620816365000000"])
def test_knob_for_an_id_token_without_or_with_another_realmid(
    sandbox, seed_identity, auth_client, knobs, knob
):
    """For the app's tests: an ID token, correctly signed, that leaves the claim out or
    names another company than the one connected."""
    knobs(intuit_id_token_realmid=knob)
    identity = seed_identity()
    auth = auth_client()
    query = connect(sandbox, Browser(sandbox), auth, identity)
    assert query["realmId"] == identity.realm_ids[0]
    auth.get_bearer_token(query["code"], realm_id=query["realmId"])
    claims = jwt.decode(auth.id_token, options={"verify_signature": False})
    assert claims.get("realmid") == (None if knob == "none" else knob)


@pytest.mark.parametrize("endpoint", ["discovery", "jwks"])
def test_knob_for_an_identity_provider_down(sandbox, knobs, endpoint):
    """For the app's tests: the discovery document or the JWKS answers 503."""
    urls = {"discovery": sandbox.discovery_url, "jwks": f"{sandbox.url}/intuit/op/v1/jwks"}
    assert requests.get(urls[endpoint], timeout=10).status_code == 200
    knobs(intuit_endpoints_down=[endpoint])
    assert requests.get(urls[endpoint], timeout=10).status_code == 503
    other = next(name for name in urls if name != endpoint)
    assert requests.get(urls[other], timeout=10).status_code == 200

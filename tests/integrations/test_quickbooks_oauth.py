import base64
import json
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from django.utils import timezone
from jwt.algorithms import RSAAlgorithm

from integrations.quickbooks import oauth
from integrations.quickbooks.errors import (
    InvalidGrant,
    QuickBooksError,
    Throttled,
    TransientError,
    Unauthorized,
)
from support.query_string import query_of

IDP = "https://intuit.test"
DISCOVERY_URL = f"{IDP}/.well-known/openid_configuration"
TOKEN_URL = f"{IDP}/oauth2/v1/tokens/bearer"
REVOKE_URL = f"{IDP}/v2/oauth2/tokens/revoke"
USERINFO_URL = f"{IDP}/v1/openid_connect/userinfo"
JWKS_URL = f"{IDP}/op/v1/jwks"
ISSUER = f"{IDP}/op/v1"
CLIENT_ID = "app-client"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
DISCOVERY = {
    "issuer": ISSUER,
    "authorization_endpoint": f"{IDP}/connect/oauth2",
    "token_endpoint": TOKEN_URL,
    "revocation_endpoint": REVOKE_URL,
    "userinfo_endpoint": USERINFO_URL,
    "jwks_uri": JWKS_URL,
}


@pytest.fixture(autouse=True)
def intuit_settings(settings):
    oauth._discovery.clear()
    settings.INTUIT_ENVIRONMENT = DISCOVERY_URL
    settings.INTUIT_CLIENT_ID = CLIENT_ID
    settings.INTUIT_CLIENT_SECRET = "app-secret"
    settings.INTUIT_REDIRECT_URI = "https://app.test/auth/intuit/callback/"
    settings.PROVIDER_TIMEOUT = (2.0, 9.0)
    yield settings
    oauth._discovery.clear()


@pytest.fixture
def intuit(mocked):
    """The identity provider's discovery document and JWKS."""
    mocked.get(DISCOVERY_URL, json=DISCOVERY)
    jwk = RSAAlgorithm.to_jwk(KEY.public_key(), as_dict=True)
    mocked.get(JWKS_URL, json={"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]})
    mocked.assert_all_requests_are_fired = False
    return mocked


def id_token(key=KEY, **overrides) -> str:
    """An RS256 ID token whose header and payload avoid '-' and '_': intuit-oauth decodes
    them with plain base64 (the sandbox does the same dance)."""
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": [CLIENT_ID], "sub": "user-1", "iat": now, "exp": now + 600}
    kid = overrides.pop("kid", "k1")
    claims |= overrides
    for nonce in range(1000):
        token = jwt.encode(
            claims | {"nonce": str(nonce)}, key, algorithm="RS256", headers={"kid": kid}
        )
        if not any(c in "-_" for c in "".join(token.split(".")[:2])):
            return token
    raise AssertionError("no clean token found")


def token_answer(**overrides) -> dict:
    return {
        "access_token": "qb-access",
        "refresh_token": "qb-refresh",
        "token_type": "bearer",
        "expires_in": 3600,
        "x_refresh_token_expires_in": 8_726_400,
    } | overrides


def form(call) -> dict:
    return {k: v[0] for k, v in parse_qs(call.request.body).items()}


def basic(call) -> str:
    return base64.b64decode(call.request.headers["Authorization"].split()[1]).decode()


def test_authorization_url(intuit):
    url = oauth.authorization_url(state="state-from-secrets")

    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == DISCOVERY["authorization_endpoint"]
    assert query_of(url) == {
        "client_id": CLIENT_ID,
        "response_type": "code",
        "scope": "com.intuit.quickbooks.accounting openid profile email",
        "redirect_uri": "https://app.test/auth/intuit/callback/",
        "state": "state-from-secrets",
    }


def test_authorization_url_needs_a_state(intuit):
    with pytest.raises(ValueError):
        oauth.authorization_url(state="")


def test_discovery_document_is_fetched_once_per_environment(intuit, settings):
    oauth.authorization_url(state="a")
    oauth.authorization_url(state="b")
    assert [call.request.url for call in intuit.calls] == [DISCOVERY_URL]

    settings.INTUIT_ENVIRONMENT = f"{IDP}/other/openid_configuration"
    intuit.get(settings.INTUIT_ENVIRONMENT, json=DISCOVERY)
    oauth.authorization_url(state="c")
    assert len(intuit.calls) == 2


def test_failed_discovery_is_not_cached(mocked):
    mocked.get(DISCOVERY_URL, status=503)
    mocked.get(DISCOVERY_URL, json=DISCOVERY)

    with pytest.raises(TransientError):
        oauth.authorization_url(state="a")
    assert oauth.authorization_url(state="a").startswith(DISCOVERY["authorization_endpoint"])


def test_unreadable_discovery_document(mocked):
    mocked.get(DISCOVERY_URL, json={"issuer": ISSUER})

    with pytest.raises(QuickBooksError):
        oauth.authorization_url(state="a")


def test_exchange_code(intuit):
    token = id_token()
    intuit.post(TOKEN_URL, json=token_answer(id_token=token))

    before = timezone.now()
    signed_in = oauth.exchange_code(code="the-code", realm_id="4620816365")
    tokens = signed_in.tokens

    assert signed_in.claims["sub"] == "user-1" and signed_in.claims["iss"] == ISSUER
    assert (tokens.access_token, tokens.refresh_token, tokens.id_token, tokens.realm_id) == (
        "qb-access",
        "qb-refresh",
        token,
        "4620816365",
    )
    assert before + timedelta(seconds=3590) < tokens.access_expires_at
    assert tokens.access_expires_at <= timezone.now() + timedelta(seconds=3600)
    assert tokens.refresh_expires_at - tokens.access_expires_at > timedelta(days=99)
    call = next(c for c in intuit.calls if c.request.url == TOKEN_URL)
    assert form(call) == {
        "grant_type": "authorization_code",
        "code": "the-code",
        "redirect_uri": "https://app.test/auth/intuit/callback/",
    }
    assert basic(call) == f"{CLIENT_ID}:app-secret"
    # Every call has a timeout, the JWKS's included (intuit-oauth fetches it with none).
    for url in (TOKEN_URL, JWKS_URL, DISCOVERY_URL):
        assert all(
            c.request.req_kwargs["timeout"] == (2.0, 9.0)
            for c in intuit.calls
            if c.request.url == url
        ), url
    assert any(c.request.url == JWKS_URL for c in intuit.calls)
    assert "qb-access" not in repr(tokens) and "qb-refresh" not in repr(tokens)
    assert "user-1" not in repr(signed_in)


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param({"status": 503, "json": {}}, id="503"),
        pytest.param({"body": requests.ConnectionError("down")}, id="unreachable"),
        pytest.param({"body": requests.ReadTimeout("slow")}, id="timeout"),
    ],
)
def test_exchange_code_without_the_jwks_is_a_passing_error(mocked, answer):
    """Intuit's JWKS not answering: a TransientError (the "try again" page), never a
    token taken on trust."""
    mocked.get(DISCOVERY_URL, json=DISCOVERY)
    mocked.get(JWKS_URL, **answer)
    mocked.post(TOKEN_URL, json=token_answer(id_token=id_token()))

    with pytest.raises(TransientError):
        oauth.exchange_code(code="the-code", realm_id="1")


@pytest.mark.parametrize(
    "bad_token",
    [
        pytest.param(lambda: id_token(key=OTHER_KEY), id="wrong-signature"),
        pytest.param(lambda: id_token(aud=["someone-else"]), id="wrong-audience"),
        pytest.param(lambda: id_token(iss="https://evil.test"), id="wrong-issuer"),
        pytest.param(lambda: id_token(exp=int(time.time()) - 10), id="expired"),
        pytest.param(lambda: "not.a.jwt", id="garbage"),
        pytest.param(lambda: id_token(kid="k2"), id="unknown-key"),
        pytest.param(lambda: None, id="missing"),
    ],
)
def test_exchange_code_rejects_an_id_token_that_does_not_validate(intuit, bad_token):
    answer = token_answer(id_token=bad_token())
    intuit.post(TOKEN_URL, json={k: v for k, v in answer.items() if v is not None})

    with pytest.raises(QuickBooksError) as caught:
        oauth.exchange_code(code="the-code", realm_id="1")
    assert "qb-access" not in str(caught.value)


def test_exchange_code_invalid_grant(intuit):
    intuit.post(TOKEN_URL, status=400, json={"error": "invalid_grant"})

    with pytest.raises(InvalidGrant) as caught:
        oauth.exchange_code(code="secret-code-value", realm_id="1")
    assert "secret-code-value" not in str(caught.value)


def test_refresh(intuit):
    intuit.post(TOKEN_URL, json=token_answer(access_token="new-access", refresh_token="new-r"))

    tokens = oauth.refresh(refresh_token="old-refresh")

    assert (tokens.access_token, tokens.refresh_token, tokens.realm_id) == (
        "new-access",
        "new-r",
        None,
    )
    call = next(c for c in intuit.calls if c.request.url == TOKEN_URL)
    assert form(call) == {"grant_type": "refresh_token", "refresh_token": "old-refresh"}


def test_refresh_uses_documented_lifetimes_when_left_out(intuit):
    answer = token_answer()
    del answer["expires_in"], answer["x_refresh_token_expires_in"]
    intuit.post(TOKEN_URL, json=answer)

    tokens = oauth.refresh(refresh_token="r")

    now = timezone.now()
    assert now + timedelta(minutes=59) < tokens.access_expires_at <= now + timedelta(hours=1)
    assert tokens.refresh_expires_at > now + timedelta(days=99)


FIVE_YEARS = 5 * 365 * 24 * 3600


def test_both_token_requests_ask_for_the_grants_hard_expiry_and_read_it(intuit):
    """x_refresh_token_hard_expires_in, seconds left of the grant's five years, comes when
    the request's x-include-refresh-token-hard-expires-in header is "true" (intuit-oauth
    1.2.7; Intuit's developer blog, 2025-11-12)."""
    intuit.post(
        TOKEN_URL,
        json=token_answer(id_token=id_token(), x_refresh_token_hard_expires_in=FIVE_YEARS),
    )
    before = timezone.now()
    exchanged = oauth.exchange_code(code="the-code", realm_id="4620816365").tokens
    refreshed = oauth.refresh(refresh_token="r")
    for tokens in (exchanged, refreshed):
        assert tokens.hard_expires_at is not None
        assert before + timedelta(seconds=FIVE_YEARS - 5) < tokens.hard_expires_at
        assert tokens.hard_expires_at <= timezone.now() + timedelta(seconds=FIVE_YEARS)
    asked = [c for c in intuit.calls if c.request.url == TOKEN_URL]
    assert len(asked) == 2
    assert all(c.request.headers[oauth.HARD_EXPIRY_HEADER] == "true" for c in asked)


@pytest.mark.parametrize(
    ("value", "days_left"),
    [
        pytest.param(None, None, id="absent"),
        pytest.param(FIVE_YEARS, 5 * 365, id="seconds"),
        pytest.param(str(30 * 86400), 30, id="seconds as digits"),
        pytest.param(30 * 86400 + 0.5, 30, id="seconds with a fraction"),
        pytest.param("in five years", None, id="words"),
        pytest.param(True, None, id="a boolean"),
        pytest.param(-5, None, id="negative"),
        pytest.param(0, None, id="none left"),
        pytest.param(FIVE_YEARS * 2, None, id="more than a grant can have"),
        pytest.param(float("nan"), None, id="nan"),
        pytest.param(float("inf"), None, id="infinite"),
        pytest.param({"seconds": 5}, None, id="an object"),
    ],
)
def test_every_reading_of_the_hard_expiry(intuit, value, days_left):
    """Its absence is tolerated (an answer from before Intuit added the field); a value
    that cannot be seconds left, or an expiry past five years, is not believed."""
    answer = token_answer()
    if value is not None:
        answer[oauth.HARD_EXPIRY_FIELD] = value
    intuit.post(TOKEN_URL, json=answer)
    tokens = oauth.refresh(refresh_token="r")
    if days_left is None:
        assert tokens.hard_expires_at is None
    else:
        left = tokens.hard_expires_at - timezone.now()
        days = timedelta(days=days_left)
        assert days - timedelta(seconds=5) < left <= days + timedelta(seconds=1)


def test_a_hard_expiry_given_as_a_moment_is_read_as_one():
    """Should the field ever carry a moment rather than seconds left (epoch seconds or
    milliseconds, ISO 8601), it is read as that moment."""
    now = timezone.now()
    moment = now + timedelta(days=40)
    for value in (
        int(moment.timestamp()),
        int(moment.timestamp() * 1000),
        moment.isoformat(),
        moment.strftime("%Y-%m-%dT%H:%M:%S") + "Z",
    ):
        read = oauth.hard_expiry(value, now=now)
        assert read is not None and abs(read - moment) < timedelta(seconds=1), value
    for past in (int((now - timedelta(days=1)).timestamp()), "0001-01-01T00:00:00+05:00"):
        assert oauth.hard_expiry(past, now=now) is None


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ({"status": 400, "json": {"error": "invalid_grant"}}, InvalidGrant),
        ({"status": 400, "json": {"error": "invalid_request"}}, QuickBooksError),
        ({"status": 401, "json": {"error": "invalid_client"}}, Unauthorized),
        ({"status": 429, "body": ""}, Throttled),
        ({"status": 500, "body": "<html>"}, TransientError),
        ({"body": requests.ConnectionError("reset")}, TransientError),
        ({"body": requests.ReadTimeout("slow")}, TransientError),
        ({"json": {"token_type": "bearer"}}, QuickBooksError),
    ],
)
def test_refresh_errors(intuit, answer, error):
    intuit.post(TOKEN_URL, **answer)

    with pytest.raises(error) as caught:
        oauth.refresh(refresh_token="old-refresh")
    assert type(caught.value) is error
    assert "old-refresh" not in str(caught.value)


def test_revoke(intuit):
    intuit.post(REVOKE_URL, body="")

    oauth.revoke(token="to-revoke")

    call = next(c for c in intuit.calls if c.request.url == REVOKE_URL)
    assert json.loads(call.request.body) == {"token": "to-revoke"}
    assert basic(call) == f"{CLIENT_ID}:app-secret"


def test_revoke_of_a_dead_token(intuit):
    intuit.post(REVOKE_URL, status=400, json={"error": "invalid_grant"})

    with pytest.raises(InvalidGrant):
        oauth.revoke(token="to-revoke")


def test_user_info(intuit):
    intuit.get(USERINFO_URL, json={"sub": "user-1", "email": "owner@example.com"})

    assert oauth.user_info(access_token="qb-access") == {
        "sub": "user-1",
        "email": "owner@example.com",
    }
    call = next(c for c in intuit.calls if c.request.url == USERINFO_URL)
    assert call.request.headers["Authorization"] == "Bearer qb-access"


def test_user_info_rejected(intuit):
    intuit.get(USERINFO_URL, status=401, body="")

    with pytest.raises(Unauthorized):
        oauth.user_info(access_token="qb-access")


# The deployment's preflight (ccsync/ops/preflight.py; against the sandbox in
# tests/ops/test_preflight.py).


@pytest.mark.parametrize(
    ("environment", "url"),
    [
        ("production", "https://developer.intuit.com/.well-known/openid_configuration/"),
        ("Sandbox", "https://developer.intuit.com/.well-known/openid_sandbox_configuration/"),
        (DISCOVERY_URL, DISCOVERY_URL),
    ],
)
def test_discovery_url_as_intuit_oauth_resolves_it(settings, environment, url):
    settings.INTUIT_ENVIRONMENT = environment
    assert oauth.discovery_url() == url


def test_fetch_json_fetches_afresh_with_the_timeout(intuit):
    oauth.fetch_json(url=DISCOVERY_URL, what="discovery document")
    document = oauth.fetch_json(url=DISCOVERY_URL, what="discovery document")

    assert document == DISCOVERY
    assert [call.request.req_kwargs["timeout"] for call in intuit.calls] == [(2.0, 9.0)] * 2


@pytest.mark.parametrize(
    ("answer", "error", "message"),
    [
        ({"status": 503}, TransientError, "Intuit JWKS answered 503"),
        ({"status": 404}, QuickBooksError, "Intuit JWKS answered 404"),
        ({"body": requests.ConnectTimeout()}, TransientError, "Intuit JWKS: ConnectTimeout"),
        ({"body": "<html>"}, QuickBooksError, "Intuit JWKS: not a JSON object"),
    ],
)
def test_fetch_json_failures(mocked, answer, error, message):
    mocked.get(JWKS_URL, **answer)

    with pytest.raises(error) as raised:
        oauth.fetch_json(url=JWKS_URL, what="JWKS")
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("status", "body", "refusal"),
    [
        (400, {"error": "invalid_grant"}, "invalid_grant"),
        (401, {"error": "invalid_client"}, "invalid_client"),
        (400, {"error": "invalid_request"}, "invalid_request"),
        (403, None, "HTTP 403"),
    ],
)
def test_client_credentials_refusal_names_the_error(intuit, status, body, refusal):
    intuit.post(TOKEN_URL, status=status, json=body)

    assert oauth.client_credentials_refusal() == refusal
    (exchange,) = [call for call in intuit.calls if call.request.url == TOKEN_URL]
    sent = parse_qs(exchange.request.body)
    assert sent["grant_type"] == ["authorization_code"]
    assert sent["code"][0].startswith("preflight-")
    assert sent["redirect_uri"] == ["https://app.test/auth/intuit/callback/"]
    assert exchange.request.headers["Authorization"].startswith("Basic ")


@pytest.mark.parametrize(("status", "error"), [(503, TransientError), (429, Throttled)])
def test_client_credentials_refusal_when_intuit_cannot_say(intuit, status, error):
    intuit.post(TOKEN_URL, status=status, json={"error": "temporarily_unavailable"})

    with pytest.raises(error):
        oauth.client_credentials_refusal()


def test_client_credentials_refusal_never_takes_tokens(intuit):
    intuit.post(TOKEN_URL, json={"access_token": "a", "refresh_token": "r"})

    with pytest.raises(QuickBooksError, match="accepted an authorization code it never issued"):
        oauth.client_credentials_refusal()

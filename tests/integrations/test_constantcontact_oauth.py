import base64
import hashlib
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.utils import timezone

from integrations.constantcontact import oauth
from integrations.constantcontact.errors import (
    ConstantContactError,
    InvalidGrant,
    Throttled,
    TransientError,
)
from support.query_string import query_of

AUTHZ = "https://authz.test/oauth2/default/v1"


@pytest.fixture(autouse=True)
def cc_settings(settings, monkeypatch):
    monkeypatch.delenv("OAUTHLIB_INSECURE_TRANSPORT", raising=False)
    settings.CONSTANTCONTACT_CLIENT_ID = "cc-client"
    settings.CONSTANTCONTACT_CLIENT_SECRET = "cc-secret"
    settings.CONSTANTCONTACT_AUTHORIZE_URL = f"{AUTHZ}/authorize"
    settings.CONSTANTCONTACT_TOKEN_URL = f"{AUTHZ}/token"
    settings.CONSTANTCONTACT_REVOKE_URL = f"{AUTHZ}/revoke"
    settings.CONSTANTCONTACT_REDIRECT_URI = "https://app.test/auth/constantcontact/callback/"
    settings.PROVIDER_TIMEOUT = (2.0, 9.0)
    return settings


def form(call) -> dict:
    return {k: v[0] for k, v in parse_qs(call.request.body).items()}


def basic(call) -> str:
    return base64.b64decode(call.request.headers["Authorization"].split()[1]).decode()


def token_answer(**overrides) -> dict:
    return {
        "access_token": "cc-access",
        "refresh_token": "cc-refresh",
        "token_type": "Bearer",
        "expires_in": 86400,
        "scope": "contact_data offline_access account_read",
    } | overrides


def test_start_authorization_uses_pkce_s256():
    authorization = oauth.start_authorization()

    parts = urlsplit(authorization.url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{AUTHZ}/authorize"
    params = query_of(authorization.url)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(authorization.code_verifier.encode()).digest())
        .decode()
        .rstrip("=")
    )
    assert params == {
        "response_type": "code",
        "client_id": "cc-client",
        "redirect_uri": "https://app.test/auth/constantcontact/callback/",
        "scope": "contact_data offline_access account_read",
        "state": authorization.state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    assert len(authorization.code_verifier) == 64
    assert len(authorization.state) >= 40
    assert authorization.code_verifier not in repr(authorization)


def test_every_authorization_is_fresh():
    first, second = oauth.start_authorization(), oauth.start_authorization()

    assert first.state != second.state
    assert first.code_verifier != second.code_verifier


def test_exchange_code(mocked):
    mocked.post(f"{AUTHZ}/token", json=token_answer())

    before = timezone.now()
    tokens = oauth.exchange_code(code="the-code", code_verifier="v" * 64)

    assert (tokens.access_token, tokens.refresh_token) == ("cc-access", "cc-refresh")
    assert before + timedelta(hours=23, minutes=59) < tokens.expires_at
    assert tokens.expires_at <= timezone.now() + timedelta(hours=24)
    call = mocked.calls[0]
    assert form(call) == {
        "grant_type": "authorization_code",
        "code": "the-code",
        "code_verifier": "v" * 64,
        "redirect_uri": "https://app.test/auth/constantcontact/callback/",
    }
    assert basic(call) == "cc-client:cc-secret"
    assert call.request.req_kwargs["timeout"] == (2.0, 9.0)
    assert "cc-access" not in repr(tokens) and "cc-refresh" not in repr(tokens)


def test_exchange_code_without_refresh_token_is_refused(mocked):
    answer = token_answer()
    del answer["refresh_token"]
    mocked.post(f"{AUTHZ}/token", json=answer)

    with pytest.raises(ConstantContactError):
        oauth.exchange_code(code="the-code", code_verifier="v" * 64)


def test_exchange_code_invalid_grant(mocked):
    mocked.post(
        f"{AUTHZ}/token",
        status=400,
        json={"error": "invalid_grant", "error_description": "The authorization code is invalid"},
    )

    with pytest.raises(InvalidGrant) as caught:
        oauth.exchange_code(code="secret-code", code_verifier="v" * 64)
    assert "secret-code" not in str(caught.value)


def test_refresh(mocked):
    mocked.post(f"{AUTHZ}/token", json=token_answer(access_token="a2", refresh_token="r2"))

    tokens = oauth.refresh(refresh_token="r1")

    assert (tokens.access_token, tokens.refresh_token) == ("a2", "r2")
    assert form(mocked.calls[0]) == {"grant_type": "refresh_token", "refresh_token": "r1"}
    assert basic(mocked.calls[0]) == "cc-client:cc-secret"


def test_refresh_with_a_long_lived_token_keeps_it(mocked):
    answer = token_answer(access_token="a2")
    del answer["refresh_token"], answer["expires_in"]
    mocked.post(f"{AUTHZ}/token", json=answer)

    tokens = oauth.refresh(refresh_token="r1")

    assert tokens.refresh_token == "r1"
    assert tokens.expires_at > timezone.now() + timedelta(hours=23)


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ({"status": 400, "json": {"error": "invalid_grant"}}, InvalidGrant),
        ({"status": 401, "json": {"error": "invalid_client"}}, ConstantContactError),
        ({"status": 400, "json": {"error": "invalid_request"}}, ConstantContactError),
        ({"status": 429, "json": [{"error_key": "throttled"}]}, Throttled),
        ({"status": 500, "body": "<html>"}, TransientError),
        ({"status": 502, "body": ""}, TransientError),
        ({"body": requests.ConnectionError("reset")}, TransientError),
        ({"body": requests.ReadTimeout("slow")}, TransientError),
        ({"json": {"token_type": "Bearer"}}, ConstantContactError),
        ({"body": "<html>not json</html>"}, ConstantContactError),
    ],
)
def test_refresh_errors(mocked, answer, error):
    mocked.add("POST", f"{AUTHZ}/token", **answer)

    with pytest.raises(error) as caught:
        oauth.refresh(refresh_token="old-refresh")
    assert type(caught.value) is error
    assert "old-refresh" not in str(caught.value)


def test_plain_http_token_url_needs_the_explicit_opt_in(settings, mocked, monkeypatch):
    settings.CONSTANTCONTACT_TOKEN_URL = "http://127.0.0.1:8001/cc/oauth2/default/v1/token"

    with pytest.raises(ConstantContactError):
        oauth.refresh(refresh_token="r1")

    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    mocked.post(settings.CONSTANTCONTACT_TOKEN_URL, json=token_answer())
    assert oauth.refresh(refresh_token="r1").access_token == "cc-access"


def test_revoke(mocked):
    mocked.post(f"{AUTHZ}/revoke", body="")

    oauth.revoke(token="r1")

    assert form(mocked.calls[0]) == {"token": "r1", "token_type_hint": "refresh_token"}
    assert basic(mocked.calls[0]) == "cc-client:cc-secret"


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ({"status": 400, "json": {"error": "invalid_request"}}, ConstantContactError),
        ({"status": 404, "body": ""}, ConstantContactError),
        ({"status": 500, "body": ""}, TransientError),
        ({"body": requests.ConnectionError("reset")}, TransientError),
        ({"body": requests.exceptions.InvalidURL("bad")}, ConstantContactError),
    ],
)
def test_revoke_raises_only_constant_contact_errors(mocked, answer, error):
    mocked.add("POST", f"{AUTHZ}/revoke", **answer)

    with pytest.raises(error):
        oauth.revoke(token="r1")


# The deployment's preflight (ccsync/ops/preflight.py; against the sandbox in
# tests/ops/test_preflight.py).


@pytest.mark.parametrize(
    ("status", "error", "refusal"),
    [(400, "invalid_grant", "invalid_grant"), (401, "invalid_client", "invalid_client")],
)
def test_client_credentials_refusal_names_the_error(mocked, status, error, refusal):
    mocked.post(f"{AUTHZ}/token", status=status, json={"error": error, "error_description": "x"})

    assert oauth.client_credentials_refusal() == refusal
    (call,) = mocked.calls
    assert basic(call) == "cc-client:cc-secret"
    sent = form(call)
    assert sent["code"].startswith("preflight-") and len(sent["code_verifier"]) == 64
    assert sent["redirect_uri"] == "https://app.test/auth/constantcontact/callback/"


def test_client_credentials_refusal_when_constant_contact_cannot_say(mocked):
    mocked.post(f"{AUTHZ}/token", status=503, json={"error_key": "unavailable"})

    with pytest.raises(TransientError):
        oauth.client_credentials_refusal()


def test_client_credentials_refusal_never_takes_tokens(mocked):
    mocked.post(f"{AUTHZ}/token", json=token_answer())

    with pytest.raises(ConstantContactError, match="accepted an authorization code"):
        oauth.client_credentials_refusal()

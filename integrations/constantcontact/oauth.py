"""Constant Contact OAuth 2.0 (authorization code with PKCE S256), via requests-oauthlib.

Client authentication is HTTP Basic (client id and secret). Settings are read at call time.
Every function raises only ConstantContactError subclasses, InvalidGrant when a code or
refresh token is no longer any good.
"""

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import requests
from django.conf import settings
from django.utils import timezone
from oauthlib.oauth2 import InvalidGrantError, OAuth2Error, WebApplicationClient
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth2Session

from integrations.constantcontact.errors import (
    ConstantContactError,
    InvalidGrant,
    TransientError,
    error_for_status,
)
from integrations.http import CONNECTION_FAILURES, response_json

SCOPES = ["contact_data", "offline_access", "account_read"]
# Constant Contact's documented access token lifetime, used only if an answer omits it.
ACCESS_LIFETIME = timedelta(hours=24)
CODE_VERIFIER_LENGTH = 64  # RFC 7636 allows 43 to 128 characters


@dataclass(frozen=True)
class CCTokens:
    # repr=False: tokens stay out of logs and tracebacks.
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: datetime


@dataclass(frozen=True)
class Authorization:
    """Send the user to `url`; keep `state` and `code_verifier` server-side for the callback."""

    url: str
    state: str
    code_verifier: str = field(repr=False)


def _basic_auth() -> HTTPBasicAuth:
    return HTTPBasicAuth(settings.CONSTANTCONTACT_CLIENT_ID, settings.CONSTANTCONTACT_CLIENT_SECRET)


def _session(*, scope: list[str] | None = None) -> OAuth2Session:
    # Token requests go without `scope`, so oauthlib never objects to a changed grant.
    session = OAuth2Session(
        settings.CONSTANTCONTACT_CLIENT_ID,
        redirect_uri=settings.CONSTANTCONTACT_REDIRECT_URI,
        scope=scope,
    )
    # oauthlib reads any answer as a token answer; the status decides first.
    session.register_compliance_hook("access_token_response", _check_status)
    session.register_compliance_hook("refresh_token_response", _check_status)
    return session


def _check_status(response: requests.Response) -> requests.Response:
    # A 400/401 carries an OAuth error body that oauthlib maps itself (invalid_grant, ...).
    if response.status_code in (400, 401):
        return response
    error = error_for_status(response.status_code, response_json(response), action="token")
    if error is not None:
        raise error
    return response


@contextmanager
def _oauth(action: str) -> Iterator[None]:
    """Turn what requests-oauthlib raises into ConstantContactError subclasses."""
    try:
        yield
    except InvalidGrantError as exc:
        raise InvalidGrant(
            f"Constant Contact {action}: invalid_grant", status=exc.status_code, error_key=exc.error
        ) from None
    except OAuth2Error as exc:
        # Includes InsecureTransportError: token URLs must be HTTPS unless
        # OAUTHLIB_INSECURE_TRANSPORT is set (local sandbox only).
        raise ConstantContactError(
            f"Constant Contact {action}: {exc.error}", status=exc.status_code, error_key=exc.error
        ) from None
    except CONNECTION_FAILURES as exc:
        raise TransientError(f"Constant Contact {action}: {type(exc).__name__}") from None


def _tokens(token: dict) -> CCTokens:
    expires_in = token.get("expires_in")
    lifetime = timedelta(seconds=expires_in) if isinstance(expires_in, int) else ACCESS_LIFETIME
    return CCTokens(
        access_token=token["access_token"],
        refresh_token=token.get("refresh_token") or "",
        expires_at=timezone.now() + lifetime,
    )


def start_authorization() -> Authorization:
    """A fresh authorization: URL with PKCE S256 challenge, state and code verifier."""
    helper = WebApplicationClient(settings.CONSTANTCONTACT_CLIENT_ID)
    code_verifier = helper.create_code_verifier(CODE_VERIFIER_LENGTH)
    with _session(scope=SCOPES) as session:
        url, state = session.authorization_url(
            settings.CONSTANTCONTACT_AUTHORIZE_URL,
            state=secrets.token_urlsafe(32),
            code_challenge=helper.create_code_challenge(code_verifier, "S256"),
            code_challenge_method="S256",
        )
    return Authorization(url=url, state=state, code_verifier=code_verifier)


def exchange_code(*, code: str, code_verifier: str) -> CCTokens:
    with _oauth("code exchange"), _session() as session:
        token = session.fetch_token(
            settings.CONSTANTCONTACT_TOKEN_URL,
            code=code,
            code_verifier=code_verifier,
            auth=_basic_auth(),
            include_client_id=False,
            timeout=settings.PROVIDER_TIMEOUT,
        )
    if not token.get("refresh_token"):
        raise ConstantContactError("Constant Contact code exchange: no refresh token")
    return _tokens(token)


def client_credentials_refusal() -> str:
    """The OAuth error Constant Contact's token endpoint answers an authorization code it
    never issued with: "invalid_grant" when it accepted the app's client id and secret,
    "invalid_client" when it did not (it authenticates the client first, RFC 6749 5.2).
    For the deployment's preflight; TransientError when Constant Contact could not be
    asked."""
    verifier = WebApplicationClient("").create_code_verifier(CODE_VERIFIER_LENGTH)
    try:
        exchange_code(code=f"preflight-{secrets.token_urlsafe(16)}", code_verifier=verifier)
    except TransientError:
        raise
    except ConstantContactError as error:
        if error.error_key:
            return error.error_key
        raise
    raise ConstantContactError("Constant Contact accepted an authorization code it never issued")


def refresh(*, refresh_token: str) -> CCTokens:
    """New tokens. With rotating refresh tokens the old one stops working: store at once."""
    with _oauth("refresh"), _session() as session:
        token = session.refresh_token(
            settings.CONSTANTCONTACT_TOKEN_URL,
            refresh_token=refresh_token,
            auth=_basic_auth(),
            timeout=settings.PROVIDER_TIMEOUT,
        )
    return _tokens(token)


def revoke(*, token: str) -> None:
    """Best effort (the endpoint is unconfirmed): callers delete their copy regardless."""
    try:
        response = requests.post(
            settings.CONSTANTCONTACT_REVOKE_URL,
            data={"token": token, "token_type_hint": "refresh_token"},
            auth=_basic_auth(),
            headers={"Accept": "application/json"},
            timeout=settings.PROVIDER_TIMEOUT,
        )
    except CONNECTION_FAILURES as exc:
        raise TransientError(f"Constant Contact revoke: {type(exc).__name__}") from None
    except requests.RequestException as exc:
        raise ConstantContactError(f"Constant Contact revoke: {type(exc).__name__}") from None
    error = error_for_status(response.status_code, response_json(response), action="revoke")
    if error is not None:
        raise error

"""Intuit OAuth 2.0 and OpenID Connect, through intuit-oauth's AuthClient.

Settings are read at call time. Every function raises only QuickBooksError subclasses
(InvalidGrant when a code or refresh token is no longer any good).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import jwt
import requests
from django.conf import settings
from django.utils import timezone
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError

from integrations.http import CONNECTION_FAILURES, response_json
from integrations.quickbooks.errors import (
    InvalidGrant,
    QuickBooksError,
    Throttled,
    TransientError,
    Unauthorized,
)

SCOPES = [Scopes.ACCOUNTING, Scopes.OPENID, Scopes.PROFILE, Scopes.EMAIL]
# Intuit's documented lifetimes, used only if an answer leaves them out.
ACCESS_LIFETIME = timedelta(hours=1)
REFRESH_LIFETIME = timedelta(days=100)


@dataclass(frozen=True)
class QuickBooksTokens:
    # repr=False: tokens stay out of logs and tracebacks.
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    access_expires_at: datetime
    refresh_expires_at: datetime
    id_token: str | None = field(default=None, repr=False)
    realm_id: str | None = None


# Discovery document answers by URL, for the life of the process.
_discovery: dict[str, requests.Response] = {}


class _AuthClient(AuthClient):
    """AuthClient configured from settings, with timeouts and a cached discovery document.

    AuthClient.__init__ downloads the discovery document through `self.get` (its only GET
    through the session) on every construction. The document only changes with
    INTUIT_ENVIRONMENT, so the first good answer per URL is kept and replayed.
    """

    def __init__(self) -> None:
        super().__init__(
            client_id=settings.INTUIT_CLIENT_ID,
            client_secret=settings.INTUIT_CLIENT_SECRET,
            redirect_uri=settings.INTUIT_REDIRECT_URI,
            environment=settings.INTUIT_ENVIRONMENT,
        )

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        response = _discovery.get(url)
        if response is None:
            response = super().get(url, **kwargs)
            if response.status_code == 200:
                _discovery[url] = response
        return response

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        # AuthClient passes no timeout at all.
        kwargs.setdefault("timeout", settings.PROVIDER_TIMEOUT)
        return super().request(method, url, *args, **kwargs)


def _error(exc: AuthClientError, action: str) -> QuickBooksError:
    body = response_json(exc.response)
    code = body.get("error") if isinstance(body, dict) else None
    code = code if isinstance(code, str) else ""
    status = exc.status_code
    message = f"Intuit {action} answered {status} {code}".rstrip()
    if status == 400 and code == "invalid_grant":
        return InvalidGrant(message, status=status)
    if status == 401:
        return Unauthorized(message, status=status)
    if status == 429:
        return Throttled(message, status=status)
    if status >= 500:
        return TransientError(message, status=status)
    return QuickBooksError(message, status=status)


@contextmanager
def _intuit(action: str) -> Iterator[None]:
    """Turn whatever AuthClient raises into QuickBooksError subclasses."""
    try:
        yield
    except AuthClientError as exc:
        raise _error(exc, action) from None
    except CONNECTION_FAILURES as exc:
        raise TransientError(f"Intuit {action}: {type(exc).__name__}") from None
    except (ValueError, KeyError, IndexError, TypeError, jwt.PyJWTError) as exc:
        # A discovery document, token answer or ID token AuthClient could not read.
        raise QuickBooksError(
            f"Intuit {action}: unreadable answer ({type(exc).__name__})"
        ) from None


def _tokens(client: _AuthClient, *, realm_id: str | None) -> QuickBooksTokens:
    if not client.access_token or not client.refresh_token:
        raise QuickBooksError("Intuit token answer without tokens")
    now = timezone.now()
    access_lifetime = timedelta(seconds=int(client.expires_in)) if client.expires_in else None
    refresh_seconds = client.x_refresh_token_expires_in
    refresh_lifetime = timedelta(seconds=int(refresh_seconds)) if refresh_seconds else None
    return QuickBooksTokens(
        access_token=client.access_token,
        refresh_token=client.refresh_token,
        access_expires_at=now + (access_lifetime or ACCESS_LIFETIME),
        refresh_expires_at=now + (refresh_lifetime or REFRESH_LIFETIME),
        id_token=client.id_token,
        realm_id=realm_id,
    )


def authorization_url(*, state: str) -> str:
    """Where to send the user: accounting plus OpenID (Intuit single sign-on)."""
    if not state:
        raise ValueError("a state is required (make it with secrets)")
    with _intuit("authorize"), _AuthClient() as client:
        return client.get_authorization_url(SCOPES, state_token=state)


def exchange_code(*, code: str, realm_id: str) -> QuickBooksTokens:
    """Tokens for the code of a callback. The ID token is validated by AuthClient (RS256
    against the JWKS); AuthClient silently drops one that fails, so its absence is an error."""
    with _intuit("code exchange"), _AuthClient() as client:
        client.get_bearer_token(code, realm_id=realm_id)
        if not client.id_token:
            raise QuickBooksError("Intuit's ID token is missing or did not validate")
        return _tokens(client, realm_id=realm_id)


def refresh(*, refresh_token: str) -> QuickBooksTokens:
    """New tokens; store the new refresh token at once, the old one stops working."""
    with _intuit("refresh"), _AuthClient() as client:
        client.refresh(refresh_token=refresh_token)
        return _tokens(client, realm_id=None)


def revoke(*, token: str) -> None:
    """Revoke a refresh (or access) token: disconnects the app from the company."""
    with _intuit("revoke"), _AuthClient() as client:
        client.revoke(token=token)


def user_info(*, access_token: str) -> dict:
    """The OpenID user info (sub, email, givenName, ...) of the signed-in Intuit user."""
    with _intuit("user info"), _AuthClient() as client:
        info = client.get_user_info(access_token=access_token).json()
    if not isinstance(info, dict):
        raise QuickBooksError("Intuit user info: unexpected answer shape")
    return info


def id_token_claims(*, id_token: str) -> dict:
    """The claims of an ID token that exchange_code already validated."""
    try:
        return jwt.decode(id_token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise QuickBooksError("unreadable ID token") from None

"""Intuit OAuth 2.0 and OpenID Connect, through intuit-oauth's AuthClient.

Settings are read at call time. Every function raises only QuickBooksError subclasses
(InvalidGrant when a code or refresh token is no longer any good, TransientError when
Intuit, its discovery document or its JWKS did not answer). Every request has a timeout:
the ID token is validated here, since intuit-oauth fetches the JWKS without one.
"""

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import jwt
import requests
from django.conf import settings
from django.utils import timezone
from intuitlib.client import AuthClient
from intuitlib.config import DISCOVERY_URL
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError
from intuitlib.utils import get_auth_header, set_attributes

from integrations.http import CONNECTION_FAILURES, response_json
from integrations.quickbooks.errors import (
    InvalidGrant,
    QuickBooksError,
    Throttled,
    TransientError,
    Unauthorized,
)

# Signing in (Launch, the Disconnect URL) asks only who the person is; installing asks
# for the company's data as well.
SIGN_IN_SCOPES = [Scopes.OPENID, Scopes.PROFILE, Scopes.EMAIL]
SCOPES = [Scopes.ACCOUNTING, *SIGN_IN_SCOPES]
# Intuit's documented lifetimes, used only if an answer leaves them out.
ACCESS_LIFETIME = timedelta(hours=1)
REFRESH_LIFETIME = timedelta(days=100)
# A grant's refresh tokens stop working five years after its consent, however often they
# roll (Intuit's developer blog, 2025-11-12). The answer says when if asked by this header
# (intuit-oauth 1.2.7, Intuit's Java and .NET SDKs); sent here so any version asks.
HARD_EXPIRY_HEADER = "x-include-refresh-token-hard-expires-in"
HARD_EXPIRY_FIELD = "x_refresh_token_hard_expires_in"
HARD_LIFETIME = timedelta(days=5 * 366)  # with a leap day to spare: more is not believed


@dataclass(frozen=True)
class QuickBooksTokens:
    # repr=False: tokens stay out of logs and tracebacks.
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    access_expires_at: datetime
    refresh_expires_at: datetime
    id_token: str | None = field(default=None, repr=False)
    realm_id: str | None = None
    # When the grant ends for good (reconnecting gives a new one); None when not said.
    hard_expires_at: datetime | None = None


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
        if method == "POST" and url == self.token_endpoint:
            kwargs["headers"] = {**(kwargs.get("headers") or {}), HARD_EXPIRY_HEADER: "true"}
        return super().request(method, url, *args, **kwargs)

    def exchange(self, code: str) -> str | None:
        """get_bearer_token without its ID token check (whose JWKS fetch has no timeout):
        sets the tokens and returns the ID token, not yet validated."""
        response = self.request(
            "POST",
            self.token_endpoint,
            headers={
                "Accept": "application/json",
                "Content-Type": "application/x-www-form-urlencoded",
                "Authorization": get_auth_header(self.client_id, self.client_secret),
            },
            data=urlencode(
                {
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": self.redirect_uri,
                }
            ),
        )
        if response.status_code != 200:
            raise AuthClientError(response)
        answer = response.json()
        set_attributes(self, {k: v for k, v in answer.items() if k != "id_token"})
        return answer.get("id_token")

    def id_token_claims(self, id_token: str) -> dict[str, Any]:
        """The claims of an ID token signed by Intuit (RS256, a key of its JWKS) for this app."""
        kid = jwt.get_unverified_header(id_token).get("kid")
        response = self.request("GET", self.jwks_uri, headers={"Accept": "application/json"})
        if response.status_code != 200:
            raise AuthClientError(response)
        key = jwt.PyJWKSet.from_dict(response.json())[str(kid)]
        return jwt.decode(
            id_token,
            key.key,
            algorithms=["RS256"],
            audience=self.client_id,
            issuer=self.issuer_uri,
            options={"require": ["exp", "iat", "sub"]},
        )


def _error_code(response: requests.Response) -> str:
    """The OAuth error code ("invalid_grant", ...) of an error answer, or ""."""
    body = response_json(response)
    code = body.get("error") if isinstance(body, dict) else None
    return code if isinstance(code, str) else ""


def _error(exc: AuthClientError, action: str) -> QuickBooksError:
    code = _error_code(exc.response)
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
        hard_expires_at=hard_expiry(getattr(client, HARD_EXPIRY_FIELD, None), now=now),
    )


def hard_expiry(value: Any, *, now: datetime) -> datetime | None:
    """When the grant ends, from the answer's x_refresh_token_hard_expires_in: seconds left,
    as its name and Intuit's SDKs say (a number or digits). Read as a moment when it can only
    be one (epoch seconds or milliseconds, ISO 8601). None when absent, or when no reading
    falls within the five years a grant can have left."""
    moment: datetime | None = None
    if isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            value = float(text)
        except ValueError:
            try:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                return None
            moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if moment is None:
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            return None
        try:
            if value >= 10**12:  # epoch milliseconds
                moment = datetime.fromtimestamp(value / 1000, tz=UTC)
            elif value >= 10**9:  # epoch seconds: more than 31 years cannot be left
                moment = datetime.fromtimestamp(value, tz=UTC)
            else:
                moment = now + timedelta(seconds=value)
        except (OverflowError, OSError, ValueError):
            return None
    return moment if now < moment <= now + HARD_LIFETIME else None


def authorization_url(*, state: str, accounting: bool = True) -> str:
    """Where to send the user: OpenID (Intuit single sign-on), plus accounting to install."""
    if not state:
        raise ValueError("a state is required (make it with secrets)")
    with _intuit("authorize"), _AuthClient() as client:
        return client.get_authorization_url(
            SCOPES if accounting else SIGN_IN_SCOPES, state_token=state
        )


@dataclass(frozen=True)
class SignedIn:
    """A code exchanged: the tokens and the claims of the validated ID token."""

    tokens: QuickBooksTokens
    claims: dict[str, Any] = field(repr=False)


def exchange_code(*, code: str, realm_id: str | None) -> SignedIn:
    """Tokens for the code of a callback, and the claims of its ID token, validated against
    Intuit's JWKS; an answer without a valid ID token is an error."""
    with _intuit("code exchange"), _AuthClient() as client:
        id_token = client.exchange(code)
        if not id_token:
            raise QuickBooksError("Intuit's answer holds no ID token")
        claims = client.id_token_claims(id_token)
        client.id_token = id_token
        return SignedIn(tokens=_tokens(client, realm_id=realm_id), claims=claims)


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


# The deployment's preflight (ccsync/ops/preflight.py) asks these of Intuit itself.

# intuit-oauth's names for Intuit's own environments (intuitlib.utils.get_discovery_doc);
# any other value of INTUIT_ENVIRONMENT is the URL of a discovery document.
_NAMED_ENVIRONMENTS = {
    "production": "production",
    "prod": "production",
    "sandbox": "sandbox",
    "sand": "sandbox",
}


def discovery_url() -> str:
    """The discovery document INTUIT_ENVIRONMENT names, as intuit-oauth resolves it."""
    environment = settings.INTUIT_ENVIRONMENT
    named = _NAMED_ENVIRONMENTS.get(environment.lower())
    return DISCOVERY_URL[named] if named else environment


def fetch_json(*, url: str, what: str) -> dict[str, Any]:
    """A JSON object Intuit serves (the discovery document, the JWKS), fetched now, not
    the copy a process keeps: TransientError when Intuit does not answer or answers 5xx."""
    try:
        response = requests.get(
            url, headers={"Accept": "application/json"}, timeout=settings.PROVIDER_TIMEOUT
        )
    except CONNECTION_FAILURES as exc:
        raise TransientError(f"Intuit {what}: {type(exc).__name__}") from None
    except requests.RequestException as exc:  # not a URL requests can fetch
        raise QuickBooksError(f"Intuit {what}: {type(exc).__name__}") from None
    if response.status_code != 200:
        failure = TransientError if response.status_code >= 500 else QuickBooksError
        raise failure(f"Intuit {what} answered {response.status_code}", status=response.status_code)
    body = response_json(response)
    if not isinstance(body, dict):
        raise QuickBooksError(f"Intuit {what}: not a JSON object")
    return body


def client_credentials_refusal() -> str:
    """The OAuth error Intuit's token endpoint answers an authorization code it never
    issued with: "invalid_grant" when it accepted the app's client id and secret,
    "invalid_client" when it did not (it authenticates the client first, RFC 6749 5.2).
    TransientError when Intuit could not be asked."""
    with _intuit("credentials check"), _AuthClient() as client:
        try:
            client.exchange(f"preflight-{secrets.token_urlsafe(16)}")
        except AuthClientError as exc:
            if exc.status_code == 429 or exc.status_code >= 500:
                raise
            return _error_code(exc.response) or f"HTTP {exc.status_code}"
    raise QuickBooksError("Intuit accepted an authorization code it never issued")

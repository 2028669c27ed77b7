"""Constant Contact's authorization server: codes with PKCE, rotating refresh tokens, revoke."""

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction

from sandbox.common import basic_credentials
from sandbox.constantcontact.models import Account, AuthorizationCode, Grant, Token
from sandbox.control import clock, knobs

SCOPES = ("contact_data", "campaign_data", "account_read", "account_update", "offline_access")
CALLBACK_PATH = "/auth/constantcontact/callback/"


class OAuthError(Exception):
    def __init__(self, error: str, description: str, *, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str | None
    expires_in: int
    scope: str

    def as_json(self) -> dict:
        answer = {
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "access_token": self.access_token,
            "scope": self.scope,
        }
        if self.refresh_token:
            answer["refresh_token"] = self.refresh_token
        return answer


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def client_is_known(client_id: str) -> bool:
    return client_id == settings.SANDBOX_CC_CLIENT_ID


def authenticate_client(*, authorization: str) -> None:
    """Checks an HTTP Basic `client_id:client_secret` header; invalid_client unless ours."""
    client_id, client_secret = basic_credentials(authorization) or ("", "")
    known = hmac.compare_digest(client_id, settings.SANDBOX_CC_CLIENT_ID)
    right = hmac.compare_digest(client_secret, settings.SANDBOX_CC_CLIENT_SECRET)
    if not (known and right):
        raise OAuthError("invalid_client", "Invalid value for 'client_id' parameter.", status=401)


def redirect_uri_is_registered(redirect_uri: str) -> bool:
    """The app's callback; on a loopback host any port is accepted (RFC 8252), so tests can
    run the app wherever they like."""
    if redirect_uri == settings.SANDBOX_APP_BASE_URL + CALLBACK_PATH:
        return True
    parts = urlsplit(redirect_uri)
    return (
        parts.scheme == "http"
        and parts.hostname in ("127.0.0.1", "localhost")
        and parts.path == CALLBACK_PATH
        and not parts.query
        and not parts.fragment
    )


def check_scope(scope: str) -> str:
    requested = scope.split()
    if not requested or any(item not in SCOPES for item in requested):
        raise OAuthError("invalid_scope", "One or more scopes are not configured.")
    return " ".join(dict.fromkeys(requested))


def issue_code(
    *, account: Account, client_id: str, scope: str, redirect_uri: str, code_challenge: str
) -> str:
    code = secrets.token_urlsafe(32)
    grant = Grant.objects.create(account=account, client_id=client_id, scope=scope)
    AuthorizationCode.objects.create(
        code_hash=_hash(code),
        grant=grant,
        redirect_uri=redirect_uri,
        code_challenge=code_challenge,
        expires_at=clock.now() + timedelta(seconds=knobs.get("cc_code_ttl")),
    )
    return code


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def exchange_code(*, code: str, redirect_uri: str, code_verifier: str) -> IssuedTokens:
    # Failures raise after the transaction, so that spending or revoking stays recorded.
    with transaction.atomic():
        found = (
            AuthorizationCode.objects.select_for_update()
            .select_related("grant")
            .filter(code_hash=_hash(code))
            .first()
        )
        error = _code_error(found, redirect_uri=redirect_uri, code_verifier=code_verifier)
        if error is None:
            assert found is not None  # _code_error accepts only a code that exists
            return _issue(found.grant)
    raise error


def _code_error(
    found: AuthorizationCode | None, *, redirect_uri: str, code_verifier: str
) -> OAuthError | None:
    invalid = OAuthError("invalid_grant", "The authorization code is invalid or has expired.")
    if found is None or found.grant.revoked_at is not None:
        return invalid
    now = clock.now()
    if found.used_at is not None:
        # A replayed code may have been stolen: end everything it gave out.
        Grant.objects.filter(pk=found.grant_id).update(revoked_at=now)
        return invalid
    found.used_at = now
    found.save(update_fields=["used_at"])
    if found.expires_at <= now:
        return invalid
    if found.redirect_uri != redirect_uri:
        return OAuthError(
            "invalid_grant",
            "The 'redirect_uri' does not match the redirection URI used in the authorization "
            "request.",
        )
    if not code_verifier or not hmac.compare_digest(s256(code_verifier), found.code_challenge):
        return OAuthError("invalid_grant", "PKCE verification failed.")
    return None


def refresh(*, refresh_token: str) -> IssuedTokens:
    with transaction.atomic():
        found = (
            Token.objects.select_for_update()
            .select_related("grant")
            .filter(token_hash=_hash(refresh_token), kind=Token.REFRESH)
            .first()
        )
        now = clock.now()
        if (
            found is None
            or found.grant.revoked_at is not None
            or found.used_at is not None
            or found.expires_at <= now
        ):
            raise OAuthError("invalid_grant", "The refresh token is invalid or expired.")
        return _issue(found.grant)


def _issue(grant: Grant) -> IssuedTokens:
    """A new token set; the grant's older refresh tokens stop working (rotation)."""
    now = clock.now()
    values = knobs.current()
    Token.objects.filter(grant=grant, kind=Token.REFRESH, used_at__isnull=True).update(used_at=now)
    access = secrets.token_urlsafe(32)
    Token.objects.create(
        token_hash=_hash(access),
        kind=Token.ACCESS,
        grant=grant,
        issued_at=now,
        expires_at=now + timedelta(seconds=values["cc_access_token_ttl"]),
    )
    refresh_token = None
    if "offline_access" in grant.scope.split():
        refresh_token = secrets.token_urlsafe(32)
        Token.objects.create(
            token_hash=_hash(refresh_token),
            kind=Token.REFRESH,
            grant=grant,
            issued_at=now,
            expires_at=now + timedelta(seconds=values["cc_refresh_token_ttl"]),
        )
    return IssuedTokens(
        access_token=access,
        refresh_token=refresh_token,
        expires_in=values["cc_access_token_ttl"],
        scope=grant.scope,
    )


def revoke(*, token: str) -> None:
    """Revoke the grant the token belongs to (unknown tokens are fine, RFC 7009)."""
    found = Token.objects.select_related("grant").filter(token_hash=_hash(token)).first()
    if found is not None and found.grant.revoked_at is None:
        Grant.objects.filter(pk=found.grant_id).update(revoked_at=clock.now())


def grant_for_access_token(*, token: str) -> Grant | None:
    """The live grant a valid, unexpired access token belongs to."""
    found = (
        Token.objects.select_related("grant__account")
        .filter(token_hash=_hash(token), kind=Token.ACCESS)
        .first()
    )
    if found is None or found.expires_at <= clock.now() or found.grant.revoked_at is not None:
        return None
    return found.grant

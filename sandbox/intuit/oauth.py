"""Intuit's OAuth 2.0 / OpenID Connect server, for the sandbox: codes, rotating refresh
tokens, revocation, userinfo claims and the discovery document."""

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from sandbox.common import basic_credentials
from sandbox.control import knobs
from sandbox.intuit import idtokens, services
from sandbox.intuit.models import (
    App,
    AuthorizationCode,
    Company,
    Connection,
    Grant,
    IntuitUser,
    Token,
)

ACCOUNTING_SCOPE = "com.intuit.quickbooks.accounting"
OPENID_SCOPES = {"openid", "profile", "email", "phone", "address", "intuit_name"}
KNOWN_SCOPES = OPENID_SCOPES | {ACCOUNTING_SCOPE, "com.intuit.quickbooks.payment"}
# Intuit's refresh tokens roll for 100 days but never outlive five years (the knob
# intuit_refresh_token_hard_lifetime).


class OAuthError(Exception):
    """An OAuth error answer: `error` is the RFC 6749 code."""

    def __init__(self, error: str, *, status: int = 400, description: str = "") -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.description = description


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def authenticate_client(*, authorization: str) -> App:
    """The app of an HTTP Basic `client_id:client_secret` header, else invalid_client."""
    credentials = basic_credentials(authorization)
    if credentials is None:
        raise OAuthError("invalid_client", status=401)
    client_id, secret = credentials
    app = services.app_for_client(client_id=client_id)
    if app is None or not hmac.compare_digest(secret.encode(), app.client_secret.encode()):
        raise OAuthError("invalid_client", status=401)
    return app


# Authorization


def check_authorization_request(
    *, client_id: str, redirect_uri: str, response_type: str, scope: str
) -> App:
    """The app asking, if the request is sound.

    Raises OAuthError: `invalid_client` / `invalid_redirect_uri` must not redirect (the
    redirect URI is not trusted); the others go back to the redirect URI.
    """
    app = services.app_for_client(client_id=client_id)
    if app is None:
        raise OAuthError("invalid_client", description="Unknown client_id.")
    if redirect_uri not in app.redirect_uris:
        raise OAuthError(
            "invalid_redirect_uri", description="redirect_uri is not registered for this app."
        )
    if response_type != "code":
        raise OAuthError("unsupported_response_type")
    scopes = set(scope.split())
    if not scopes or not scopes <= KNOWN_SCOPES:
        raise OAuthError("invalid_scope")
    return app


def issue_code(
    *,
    app: App,
    user: IntuitUser,
    company: Company | None,
    scope: str,
    redirect_uri: str,
    auth_time: datetime,
) -> str:
    """A code for the consent just given; `company` only with the accounting scope (a
    sign-in with OpenID scopes alone connects no company)."""
    if (company is None) != (ACCOUNTING_SCOPE not in scope.split()):
        raise ValueError("a company is connected exactly when the accounting scope is asked")
    if company is not None and not user.companies.filter(pk=company.pk).exists():
        raise PermissionError("the user is not a member of this company")
    connection = Connection.objects.get_or_create(app=app, company=company)[0] if company else None
    code = f"AB11{secrets.token_urlsafe(32)}"
    AuthorizationCode.objects.create(
        digest=_digest(code),
        app=app,
        connection=connection,
        user=user,
        scope=scope,
        redirect_uri=redirect_uri,
        auth_time=auth_time,
        expires_at=timezone.now() + timedelta(seconds=knobs.get("intuit_code_ttl")),
    )
    return code


# Tokens


def exchange_code(
    *, app: App, code: str, redirect_uri: str, include_hard_expiry: bool = False
) -> dict[str, Any]:
    now = timezone.now()
    with transaction.atomic():
        grant_code = (
            AuthorizationCode.objects.select_related("app", "connection__company", "user")
            .filter(digest=_digest(code), app=app)
            .first()
        )
        if (
            grant_code is None
            or grant_code.expires_at <= now
            or grant_code.redirect_uri != redirect_uri
            # Single use: only the first exchange marks it.
            or not AuthorizationCode.objects.filter(pk=grant_code.pk, used_at=None).update(
                used_at=now
            )
        ):
            raise OAuthError("invalid_grant")
        grant = Grant.objects.create(
            app=app,
            connection=grant_code.connection,
            user=grant_code.user,
            scope=grant_code.scope,
            auth_time=grant_code.auth_time,
            created_at=now,
            hard_expires_at=now
            + timedelta(seconds=knobs.get("intuit_refresh_token_hard_lifetime")),
        )
        answer = _issue_tokens(grant=grant, now=now, include_hard_expiry=include_hard_expiry)
    if "openid" in grant.scopes:
        answer["id_token"] = _id_token(grant=grant, now=now)
    return answer


def refresh(*, app: App, refresh_token: str, include_hard_expiry: bool = False) -> dict[str, Any]:
    """New access and refresh tokens; the refresh token given works no more (rotation)."""
    now = timezone.now()
    with transaction.atomic():
        token = _live_token(token=refresh_token, kind=Token.REFRESH, now=now)
        if (
            token is None
            or token.grant.app_id != app.pk
            or not Token.objects.filter(pk=token.pk, rotated_at=None).update(rotated_at=now)
        ):
            raise OAuthError("invalid_grant")
        return _issue_tokens(grant=token.grant, now=now, include_hard_expiry=include_hard_expiry)


def _issue_tokens(*, grant: Grant, now: datetime, include_hard_expiry: bool) -> dict[str, Any]:
    access, refresh_token = secrets.token_urlsafe(48), f"AB11{secrets.token_urlsafe(36)}"
    values = knobs.current()
    access_ttl = values["intuit_access_token_ttl"]
    hard_left = int((grant.hard_expires_at - now).total_seconds())
    refresh_ttl = min(values["intuit_refresh_token_ttl"], hard_left)
    Token.objects.bulk_create(
        [
            Token(
                grant=grant,
                kind=Token.ACCESS,
                digest=_digest(access),
                expires_at=now + timedelta(seconds=access_ttl),
            ),
            Token(
                grant=grant,
                kind=Token.REFRESH,
                digest=_digest(refresh_token),
                expires_at=now + timedelta(seconds=refresh_ttl),
            ),
        ]
    )
    answer = {
        "token_type": "bearer",
        "access_token": access,
        "expires_in": access_ttl,
        "refresh_token": refresh_token,
        "x_refresh_token_expires_in": refresh_ttl,
    }
    policy = values["intuit_refresh_token_hard_expiry"]
    if policy == "always" or (policy == "requested" and include_hard_expiry):
        answer["x_refresh_token_hard_expires_in"] = hard_left
    return answer


def _id_token(*, grant: Grant, now: datetime) -> str:
    app, user = grant.app, grant.user
    claims: dict[str, Any] = {
        "iss": issuer(),
        "aud": [app.client_id],
        "sub": user.sub,
        "exp": int(now.timestamp()) + 3600,
        "iat": int(now.timestamp()),
        "auth_time": int(grant.auth_time.timestamp()),
    }
    realm_id = _claimed_realm(grant)
    if realm_id:
        claims["realmid"] = realm_id
    if "email" in grant.scopes:
        claims["email"] = user.email
    return idtokens.sign(claims)


def _claimed_realm(grant: Grant) -> str:
    """The realmid claim: the company connected, unless the knob intuit_id_token_realmid
    says "none" (left out) or names another realm (a token that lies, for tests)."""
    knob = knobs.get("intuit_id_token_realmid")
    if knob == "none":
        return ""
    if knob:
        return knob
    return grant.connection.company.realm_id if grant.connection else ""


def _live_token(*, token: str, kind: str, now: datetime) -> Token | None:
    return (
        Token.objects.select_related("grant__app", "grant__connection__company", "grant__user")
        .filter(digest=_digest(token), kind=kind, expires_at__gt=now, grant__revoked_at=None)
        .exclude(kind=Token.REFRESH, rotated_at__isnull=False)
        .first()
    )


def revoke(*, app: App, token: str) -> None:
    """Disconnects the company the token belongs to from the app: every grant ends (a
    sign-in's token ends its own grant only).

    Unknown or foreign tokens change nothing (and are not reported, as RFC 7009 says).
    """
    found = (
        Token.objects.select_related("grant__connection")
        .filter(digest=_digest(token), grant__app=app)
        .first()
    )
    if found is None:
        return
    if found.grant.connection is None:
        Grant.objects.filter(pk=found.grant_id).update(revoked_at=timezone.now())
    else:
        services.revoke_connection(connection=found.grant.connection)


def user_info(*, access_token: str) -> dict[str, Any] | None:
    """The userinfo claims an OpenID access token may read, else None."""
    token = _live_token(token=access_token, kind=Token.ACCESS, now=timezone.now())
    if token is None or "openid" not in token.grant.scopes:
        return None
    user, scopes = token.grant.user, token.grant.scopes
    claims: dict[str, Any] = {"sub": user.sub}
    if "email" in scopes:
        claims.update(email=user.email, emailVerified=True)
    if scopes & {"profile", "intuit_name"}:
        claims.update(givenName=user.given_name, familyName=user.family_name)
    return claims


def realm_for_access_token(*, token: str) -> str | None:
    """The realm a valid, accounting-scoped access token opens, else None."""
    found = _live_token(token=token, kind=Token.ACCESS, now=timezone.now())
    if found is None or found.grant.connection is None:
        return None
    return found.grant.connection.company.realm_id


# Discovery


def issuer() -> str:
    return f"{settings.SANDBOX_PUBLIC_URL}/intuit/op/v1"


def discovery_document() -> dict[str, Any]:
    base = f"{settings.SANDBOX_PUBLIC_URL}/intuit"
    return {
        "issuer": issuer(),
        "authorization_endpoint": f"{base}/connect/oauth2",
        "token_endpoint": f"{base}/oauth2/v1/tokens/bearer",
        "userinfo_endpoint": f"{base}/v1/openid_connect/userinfo",
        "revocation_endpoint": f"{base}/v2/oauth2/tokens/revoke",
        "jwks_uri": f"{base}/op/v1/jwks",
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": sorted(KNOWN_SCOPES),
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        "claims_supported": [
            "aud",
            "exp",
            "iat",
            "iss",
            "realmid",
            "sub",
            "auth_time",
            "email",
            "emailVerified",
            "givenName",
            "familyName",
        ],
    }

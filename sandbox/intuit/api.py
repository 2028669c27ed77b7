"""Intuit's OAuth 2.0 and OpenID Connect endpoints: discovery, JWKS, token, revoke and
userinfo (the authorize pages a person clicks are in pages.py)."""

import json
import secrets
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from sandbox.control import knobs
from sandbox.intuit import idtokens, oauth
from sandbox.intuit.oauth import OAuthError


def _json(data: dict[str, Any], *, status: int = 200) -> JsonResponse:
    answer = JsonResponse(data, status=status)
    # Token answers must never be cached; intuit_tid is Intuit's request id for support.
    answer["Cache-Control"] = "no-store"
    answer["Pragma"] = "no-cache"
    answer["intuit_tid"] = secrets.token_hex(16)
    return answer


def _oauth_error(error: OAuthError) -> JsonResponse:
    body = {"error": error.error}
    if error.description:
        body["error_description"] = error.description
    answer = _json(body, status=error.status)
    if error.status == 401:
        # RFC 6749 5.2: a client that authenticated with HTTP Basic is told the scheme.
        answer["WWW-Authenticate"] = 'Basic realm="Intuit"'
    return answer


def _down(endpoint: str) -> JsonResponse | None:
    """The knob intuit_endpoints_down's 503 for `endpoint`, if it names it."""
    if endpoint in knobs.get("intuit_endpoints_down"):
        return JsonResponse({"error": "service_unavailable"}, status=503)
    return None


@require_GET
def discovery(request: HttpRequest) -> JsonResponse:
    return _down("discovery") or JsonResponse(oauth.discovery_document())


@require_GET
def jwks(request: HttpRequest) -> JsonResponse:
    return _down("jwks") or JsonResponse(idtokens.jwks())


@csrf_exempt
@require_POST
def token(request: HttpRequest) -> JsonResponse:
    hard_expiry = request.headers.get("x-include-refresh-token-hard-expires-in", "") == "true"
    try:
        app = oauth.authenticate_client(authorization=request.headers.get("Authorization", ""))
        grant_type = request.POST.get("grant_type", "")
        if grant_type == "authorization_code":
            answer = oauth.exchange_code(
                app=app,
                code=_required(request, "code"),
                redirect_uri=_required(request, "redirect_uri"),
                include_hard_expiry=hard_expiry,
            )
        elif grant_type == "refresh_token":
            answer = oauth.refresh(
                app=app,
                refresh_token=_required(request, "refresh_token"),
                include_hard_expiry=hard_expiry,
            )
        else:
            raise OAuthError("unsupported_grant_type")
    except OAuthError as error:
        return _oauth_error(error)
    return _json(answer)


def _required(request: HttpRequest, name: str) -> str:
    value = request.POST.get(name, "")
    if not value:
        raise OAuthError("invalid_request", description=f"{name} is required.")
    return value


@csrf_exempt
@require_POST
def revoke(request: HttpRequest) -> HttpResponse:
    try:
        app = oauth.authenticate_client(authorization=request.headers.get("Authorization", ""))
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            body = {}
        token_value = body.get("token") if isinstance(body, dict) else None
        if not isinstance(token_value, str) or not token_value:
            raise OAuthError("invalid_request", description="token is required.")
    except OAuthError as error:
        return _oauth_error(error)
    oauth.revoke(app=app, token=token_value)
    # An empty 200, known token or not (RFC 7009).
    answer = HttpResponse(status=200)
    answer["Cache-Control"] = "no-store"
    return answer


@require_GET
def userinfo(request: HttpRequest) -> JsonResponse:
    scheme, _, access_token = request.headers.get("Authorization", "").partition(" ")
    claims = oauth.user_info(access_token=access_token) if scheme.lower() == "bearer" else None
    if claims is None:
        answer = _json({"error": "invalid_token"}, status=401)
        answer["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return answer
    return _json(claims)

"""Intuit's OAuth 2.0 and OpenID Connect endpoints, and the authorize pages."""

import json
import secrets
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sandbox.intuit import idtokens, services, session
from sandbox.intuit.services import OAuthError

AUTHORIZE_PARAMS = ("client_id", "redirect_uri", "response_type", "scope", "state")
SCOPE_WORDS = {
    services.ACCOUNTING_SCOPE: "Your QuickBooks company data (customers, lists and transactions)",
    "com.intuit.quickbooks.payment": "Your QuickBooks Payments data",
    "openid": "Your Intuit account identifier",
    "profile": "Your name",
    "email": "Your email address",
    "phone": "Your phone number",
    "address": "Your address",
    "intuit_name": "Your name",
}


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
    return _json(body, status=error.status)


@require_GET
def discovery(request: HttpRequest) -> JsonResponse:
    return JsonResponse(services.discovery_document())


@require_GET
def jwks(request: HttpRequest) -> JsonResponse:
    return JsonResponse(idtokens.jwks())


def _back_to_app(redirect_uri: str, **params: str) -> HttpResponseRedirect:
    parts = urlsplit(redirect_uri)
    query = urlencode([*parse_qsl(parts.query), *((k, v) for k, v in params.items() if v)])
    return HttpResponseRedirect(urlunsplit(parts._replace(query=query)))


@never_cache
@require_http_methods(["GET", "POST"])
def authorize(request: HttpRequest) -> HttpResponse:
    """Sign in (unless already), choose a company (if several), then Allow or Cancel."""
    params = {name: request.GET.get(name, "") for name in AUTHORIZE_PARAMS}
    try:
        app = services.check_authorization_request(
            client_id=params["client_id"],
            redirect_uri=params["redirect_uri"],
            response_type=params["response_type"],
            scope=params["scope"],
        )
    except OAuthError as error:
        if error.error in ("invalid_client", "invalid_redirect_uri"):
            # The redirect URI is not to be trusted: tell the person, not the app.
            return render(request, "intuit/authorize_error.html", {"error": error}, status=400)
        return _back_to_app(params["redirect_uri"], error=error.error, state=params["state"])

    action = request.POST.get("action", "") if request.method == "POST" else ""
    user = session.signed_in_user(request)
    if user is None:
        if action != "sign_in":
            return render(request, "intuit/sign_in.html", {"app": app})
        user = services.authenticate(
            email=request.POST.get("email", ""), password=request.POST.get("password", "")
        )
        if user is None:
            return render(request, "intuit/sign_in.html", {"app": app, "failed": True}, status=401)
        session.sign_in(request, user)
        action = ""

    if action == "cancel":
        return _back_to_app(params["redirect_uri"], error="access_denied", state=params["state"])
    companies = list(user.companies.order_by("name", "pk"))
    chosen = None
    if action in ("choose", "allow"):
        chosen = next((c for c in companies if c.realm_id == request.POST.get("realm_id")), None)
    elif len(companies) == 1:
        chosen = companies[0]
    if chosen is None:
        current = session.signed_in_company(request)
        return render(
            request,
            "intuit/choose_company.html",
            {"app": app, "companies": companies, "current": current},
        )
    if action != "allow":
        scopes = [SCOPE_WORDS[scope] for scope in params["scope"].split()]
        return render(
            request,
            "intuit/consent.html",
            {"app": app, "company": chosen, "scopes": sorted(set(scopes))},
        )
    code = services.issue_code(
        app=app,
        user=user,
        company=chosen,
        scope=params["scope"],
        redirect_uri=params["redirect_uri"],
        auth_time=session.auth_time(request),
    )
    return _back_to_app(
        params["redirect_uri"], code=code, state=params["state"], realmId=chosen.realm_id
    )


@csrf_exempt
@require_POST
def token(request: HttpRequest) -> JsonResponse:
    hard_expiry = request.headers.get("x-include-refresh-token-hard-expires-in", "") == "true"
    try:
        app = services.authenticate_client(authorization=request.headers.get("Authorization", ""))
        grant_type = request.POST.get("grant_type", "")
        if grant_type == "authorization_code":
            answer = services.exchange_code(
                app=app,
                code=_required(request, "code"),
                redirect_uri=_required(request, "redirect_uri"),
                include_hard_expiry=hard_expiry,
            )
        elif grant_type == "refresh_token":
            answer = services.refresh(
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
        app = services.authenticate_client(authorization=request.headers.get("Authorization", ""))
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            body = {}
        token_value = body.get("token") if isinstance(body, dict) else None
        if not isinstance(token_value, str) or not token_value:
            raise OAuthError("invalid_request", description="token is required.")
    except OAuthError as error:
        return _oauth_error(error)
    services.revoke(app=app, token=token_value)
    # An empty 200, known token or not (RFC 7009).
    answer = HttpResponse(status=200)
    answer["Cache-Control"] = "no-store"
    return answer


@require_GET
def userinfo(request: HttpRequest) -> JsonResponse:
    scheme, _, access_token = request.headers.get("Authorization", "").partition(" ")
    claims = services.user_info(access_token=access_token) if scheme.lower() == "bearer" else None
    if claims is None:
        answer = _json({"error": "invalid_token"}, status=401)
        answer["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return answer
    return _json(claims)

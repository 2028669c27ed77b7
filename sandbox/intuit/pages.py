"""The pages a person clicks at Intuit: the authorize pages (sign in, choose a company,
consent) and QuickBooks Online's sign-in and company switcher, Apps tab and My Apps."""

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sandbox.intuit import oauth, services, session
from sandbox.intuit.models import App, Company, IntuitUser
from sandbox.intuit.oauth import OAuthError
from sandbox.intuit.session import signed_in_company

AUTHORIZE_PARAMS = ("client_id", "redirect_uri", "response_type", "scope", "state")
SCOPE_WORDS = {
    oauth.ACCOUNTING_SCOPE: "Your QuickBooks company data (customers, lists and transactions)",
    "com.intuit.quickbooks.payment": "Your QuickBooks Payments data",
    "openid": "Your Intuit account identifier",
    "profile": "Your name",
    "email": "Your email address",
    "phone": "Your phone number",
    "address": "Your address",
    "intuit_name": "Your name",
}

# --- Authorize ---------------------------------------------------------------------------


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
        app = oauth.check_authorization_request(
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
    return _choose_and_consent(request, app=app, user=user, action=action, params=params)


def _choose_and_consent(
    request: HttpRequest, *, app: App, user: IntuitUser, action: str, params: dict[str, str]
) -> HttpResponse:
    """The company to connect (asked for if there are several), then the consent page;
    its Allow sends the code back to the app. A sign-in with OpenID scopes alone connects
    no company: none is asked for, and no realmId goes back."""
    companies = list(user.companies.order_by("name", "pk"))
    chosen = None
    if oauth.ACCOUNTING_SCOPE not in params["scope"].split():
        return _consent(request, app=app, user=user, company=None, action=action, params=params)
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
    return _consent(request, app=app, user=user, company=chosen, action=action, params=params)


def _consent(
    request: HttpRequest,
    *,
    app: App,
    user: IntuitUser,
    company: Company | None,
    action: str,
    params: dict[str, str],
) -> HttpResponse:
    if action != "allow":
        scopes = [SCOPE_WORDS[scope] for scope in params["scope"].split()]
        return render(
            request,
            "intuit/consent.html",
            {"app": app, "company": company, "scopes": sorted(set(scopes))},
        )
    code = oauth.issue_code(
        app=app,
        user=user,
        company=company,
        scope=params["scope"],
        redirect_uri=params["redirect_uri"],
        auth_time=session.auth_time(request),
    )
    return _back_to_app(
        params["redirect_uri"],
        code=code,
        state=params["state"],
        realmId=company.realm_id if company else "",
    )


# --- QuickBooks Online: sign-in, company switcher, Apps tab and My Apps ------------------


def _next_page(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/qbo/"
    # Only pages of the sandbox itself: never an open redirect.
    if not target.startswith("/") or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ):
        return "/qbo/"
    return target


@never_cache
@require_http_methods(["GET", "POST"])
def home(request: HttpRequest) -> HttpResponse:
    """Sign in; then choose or switch the company to work in."""
    next_page = _next_page(request)
    user = session.signed_in_user(request)
    if user is None:
        if request.method == "GET":
            return render(request, "intuit/sign_in.html", {"next": next_page})
        user = services.authenticate(
            email=request.POST.get("email", ""), password=request.POST.get("password", "")
        )
        if user is None:
            context = {"next": next_page, "failed": True}
            return render(request, "intuit/sign_in.html", context, status=401)
        session.sign_in(request, user)
        if signed_in_company(request) is None:
            return redirect(f"/qbo/?{urlencode({'next': next_page})}")
        return redirect(next_page)
    if request.method == "POST":
        company = user.companies.filter(realm_id=request.POST.get("realm_id", "")).first()
        if company is not None:
            session.choose_company(request, company)
            return redirect(next_page)
    return render(
        request,
        "quickbooks/home.html",
        {
            "user": user,
            "companies": user.companies.order_by("name", "pk"),
            "current": signed_in_company(request),
            "next": next_page,
        },
    )


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    session.sign_out(request)
    return redirect("/qbo/")


@require_GET
@session.login_required
def apps(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    found = services.search_apps(query=query) if query else None
    return render(request, "appstore/apps.html", {"query": query, "apps": found})


@require_GET
@session.login_required
def app_page(request: HttpRequest, slug: str) -> HttpResponse:
    services.registered_app()
    app = get_object_or_404(App, slug=slug)
    connected = app in services.connected_apps(company=signed_in_company(request))
    return render(request, "appstore/app.html", {"app": app, "connected": connected})


@never_cache
@require_GET
@session.login_required
def my_apps(request: HttpRequest) -> HttpResponse:
    connected = services.connected_apps(company=signed_in_company(request))
    return render(request, "appstore/myapps.html", {"apps": connected})


@never_cache
@require_http_methods(["GET", "POST"])
@session.login_required
def disconnect(request: HttpRequest, slug: str) -> HttpResponse:
    """Intuit's confirmation page; its Disconnect button ends the app's access (Intuit
    revokes the tokens itself) and sends the browser to the app's Disconnect URL as
    registered: no realmId or other parameter is added."""
    company = signed_in_company(request)
    app = next((a for a in services.connected_apps(company=company) if a.slug == slug), None)
    if app is None or company is None:  # no company chosen: no app connected either
        return redirect("/qbo/apps/myapps/")
    if request.method == "GET":
        return render(request, "appstore/disconnect.html", {"app": app})
    services.disconnect(app=app, company=company)
    return HttpResponseRedirect(app.disconnect_url)

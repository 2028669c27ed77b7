"""QuickBooks Online pages: sign-in and company switcher, the Apps tab and My Apps."""

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sandbox.intuit import services, session
from sandbox.intuit.models import App
from sandbox.intuit.session import qbo_login_required, signed_in_company


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
        "qbo/home.html",
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
@qbo_login_required
def apps(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    found = services.search_apps(query=query) if query else None
    return render(request, "qbo/apps.html", {"query": query, "apps": found})


@require_GET
@qbo_login_required
def app_page(request: HttpRequest, slug: str) -> HttpResponse:
    services.registered_app()
    app = get_object_or_404(App, slug=slug)
    connected = app in services.connected_apps(company=signed_in_company(request))
    return render(request, "qbo/app.html", {"app": app, "connected": connected})


@never_cache
@require_GET
@qbo_login_required
def my_apps(request: HttpRequest) -> HttpResponse:
    connected = services.connected_apps(company=signed_in_company(request))
    return render(request, "qbo/myapps.html", {"apps": connected})


@never_cache
@require_http_methods(["GET", "POST"])
@qbo_login_required
def disconnect(request: HttpRequest, slug: str) -> HttpResponse:
    """Intuit's confirmation page; its Disconnect button ends the app's access."""
    company = signed_in_company(request)
    app = next((a for a in services.connected_apps(company=company) if a.slug == slug), None)
    if app is None:
        return redirect("/qbo/apps/myapps/")
    if request.method == "GET":
        return render(request, "qbo/disconnect.html", {"app": app})
    services.disconnect(app=app, company=company)
    separator = "&" if "?" in app.disconnect_url else "?"
    return HttpResponseRedirect(
        f"{app.disconnect_url}{separator}{urlencode({'realmId': company.realm_id})}"
    )

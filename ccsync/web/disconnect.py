"""Disconnecting: QuickBooks' Disconnect URL and the app's own Disconnect button.

Intuit revokes the app's tokens itself when someone disconnects it from My Apps (any admin
of the company, not always who installed), then sends the browser to the Disconnect URL
with nothing that says which company. So a GET changes nothing: it says why, then signs the
person in with Intuit (OpenID alone), and the callback disconnects exactly those of their
companies that Intuit has revoked. Either way the result has its own address
(/disconnect/done/<signed list of the companies disconnected>): refreshing it, or coming
back later, shows the companies as they stand then.
"""

from django.conf import settings
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from ccsync.sync import lifecycle
from ccsync.web.access import TenantRequest, tenant_required
from tenants.models import Tenant

DONE_SALT = "ccsync.web.disconnect.done"


@require_http_methods(["GET", "POST"])
def disconnect(request: HttpRequest) -> HttpResponseBase:
    """QuickBooks' Disconnect URL (GET): one line says why Intuit's sign-in comes next
    (install.disconnect_sign_in). Our own Disconnect button's form (POST)."""
    if request.method == "POST":
        return tenant_required(_disconnect_now)(request)
    return render(request, "disconnect/sign_in.html")


@require_GET
@tenant_required
def disconnect_confirm(request: TenantRequest) -> HttpResponse:
    """Our own Disconnect button: a confirmation page whose form POSTs to /disconnect/."""
    return render(request, "disconnect/confirm.html", {"tenant": request.tenant})


def _disconnect_now(request: TenantRequest) -> HttpResponse:
    if request.tenant.is_connected:
        lifecycle.disconnect(tenant=request.tenant, reason="Disconnected from the app's pages.")
    return done(companies=[request.tenant])


def done(*, companies: list[Tenant]) -> HttpResponse:
    """To the result's own address, naming the companies disconnected (none: Intuit has not
    said any was); after a POST, a refresh does not send it again."""
    token = signing.dumps(sorted(company.pk for company in companies), salt=DONE_SALT)
    return redirect(reverse("disconnect_done", args=[token]), permanent=False)


@require_GET
def disconnect_done(request: HttpRequest, token: str) -> HttpResponse:
    """The result of a disconnect, as it stands whenever it is opened: the user guide's page
    ("Next" to Constant Contact) for the companies disconnected, or, when Intuit has said
    none was, what happens next. The signed token names companies only by their ids."""
    try:
        ids = signing.loads(token, salt=DONE_SALT)
    except signing.BadSignature:
        raise Http404("no such disconnect") from None
    if not isinstance(ids, list) or not all(isinstance(pk, int) for pk in ids):
        raise Http404("no such disconnect")
    companies = list(Tenant.objects.filter(pk__in=ids).order_by("company_name", "pk"))
    if not companies:
        return render(request, "disconnect/pending.html")
    return render(
        request,
        "disconnect/disconnected.html",
        {
            "companies": companies,
            "disconnected": [company for company in companies if not company.is_connected],
            "next_url": settings.CONSTANTCONTACT_ACCOUNT_URL,
        },
    )

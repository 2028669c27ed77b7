"""Disconnecting: QuickBooks' Disconnect URL and the app's own Disconnect button.

Intuit revokes the app's tokens itself when someone disconnects it from My Apps, then
sends the browser to the Disconnect URL with nothing that says which company. So a GET
changes nothing: it signs the person in with Intuit (OpenID alone), and the callback
disconnects exactly those of their companies that Intuit has revoked.
"""

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from ccsync.sync import lifecycle
from ccsync.web import install as quickbooks
from ccsync.web.access import TenantRequest, tenant_required


@require_http_methods(["GET", "POST"])
def disconnect(request: HttpRequest) -> HttpResponseBase:
    """QuickBooks' Disconnect URL (GET), and our own Disconnect button's form (POST)."""
    if request.method == "POST":
        return tenant_required(_disconnect_now)(request)
    return quickbooks.sign_in(request, intent=quickbooks.Intent.DISCONNECT)


@require_GET
@tenant_required
def disconnect_confirm(request: TenantRequest) -> HttpResponse:
    """Our own Disconnect button: a confirmation page whose form POSTs to /disconnect/."""
    return render(request, "disconnect/confirm.html", {"tenant": request.tenant})


def _disconnect_now(request: TenantRequest) -> HttpResponse:
    if request.tenant.is_connected:
        lifecycle.disconnect(tenant=request.tenant, reason="Disconnected from the app's pages.")
    return quickbooks.disconnected_page(request)

"""Disconnecting: QuickBooks' Disconnect URL and the app's own Disconnect button."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from ccsync.sync import lifecycle
from tenants import services
from tenants.access import current_tenant, error_page, tenant_required
from tenants.models import Tenant


@require_http_methods(["GET", "POST"])
def disconnect(request: HttpRequest) -> HttpResponse:
    """QuickBooks' Disconnect URL. A GET changes nothing unless Intuit confirms the disconnect."""
    if request.method == "POST":
        return tenant_required(_disconnect_now)(request)
    tenant = current_tenant(request) if request.user.is_authenticated else None
    member = tenant is not None
    if tenant is None and request.GET.get("realmId", "").isdigit():
        # Safe for anyone to trigger: only Intuit's own answer about the tokens acts.
        tenant = Tenant.objects.filter(realm_id=request.GET["realmId"]).first()
    if tenant is None or not tenant.is_connected:
        return _disconnected(request)
    if services.quickbooks_disconnect_confirmed(tenant=tenant):
        lifecycle.disconnect(tenant=tenant, reason="Disconnected in QuickBooks (My Apps).")
        return _disconnected(request)
    if member:
        return render(request, "tenants/disconnect_confirm.html", {"tenant": tenant})
    return error_page(
        request,
        title="The app is still connected",
        message=(
            "QuickBooks still shows Constant Contact for QuickBooks Online as connected. "
            "To disconnect, open My Apps in QuickBooks and click Disconnect."
        ),
        status=200,
        action_url=reverse("tenants:launch"),
        action_label="Open the app",
    )


@require_GET
@tenant_required
def disconnect_confirm(request: HttpRequest) -> HttpResponse:
    """Our own Disconnect button: a confirmation page whose form POSTs to /disconnect/."""
    return render(request, "tenants/disconnect_confirm.html", {"tenant": request.tenant})


def _disconnect_now(request: HttpRequest) -> HttpResponse:
    if request.tenant.is_connected:
        lifecycle.disconnect(tenant=request.tenant, reason="Disconnected from the app's pages.")
    return _disconnected(request)


def _disconnected(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "tenants/disconnected.html",
        {"next_url": settings.CONSTANTCONTACT_ACCOUNT_URL},
    )

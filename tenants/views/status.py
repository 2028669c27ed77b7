"""The home page and the status page (My Apps → Launch lands here)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from ccsync.sync.selectors import tenant_sync_status
from tenants import selectors
from tenants.access import TenantRequest, current_tenant, tenant_required


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and current_tenant(request) is not None:
        return redirect("tenants:status")
    return render(request, "tenants/home.html")


@require_GET
@tenant_required
def status(request: TenantRequest) -> HttpResponse:
    tenant = request.tenant
    return render(
        request,
        "tenants/status.html",
        {
            "tenant": tenant,
            "quickbooks": selectors.quickbooks_connection(tenant=tenant),
            "constantcontact": selectors.constantcontact_connection(tenant=tenant),
            "current_list": selectors.current_list(tenant=tenant),
            "earlier_lists": selectors.earlier_lists(tenant=tenant),
            "installing": selectors.needs_first_sync(tenant=tenant),
            "sync_status": tenant_sync_status(tenant=tenant),
        },
    )

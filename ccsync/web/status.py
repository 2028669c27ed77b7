"""The home page, the status page (My Apps → Launch lands here), its live JSON and its buttons
(Pause, Resume, Sync now)."""

from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from ccsync.sync import services
from ccsync.sync.selectors import tenant_sync_status
from ccsync.web.access import TenantRequest, current_tenant, tenant_required
from ccsync.web.templatetags.moments import ago_and_moment
from tenants import selectors
from tenants.models import Tenant


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and current_tenant(request) is not None:
        return redirect("status")
    return render(request, "install/home.html")


@require_GET
@tenant_required
def status(request: TenantRequest) -> HttpResponse:
    tenant = request.tenant
    return render(
        request,
        "status/status.html",
        {
            "tenant": tenant,
            "quickbooks": selectors.quickbooks_connection(tenant=tenant),
            "constantcontact": selectors.constantcontact_connection(tenant=tenant),
            "current_list": selectors.current_list(tenant=tenant),
            "earlier_lists": selectors.earlier_lists(tenant=tenant),
            "installing": selectors.needs_first_sync(tenant=tenant),
            "sync_status": panel_status(tenant=tenant),
        },
    )


@require_GET
@tenant_required
def status_json(request: TenantRequest) -> JsonResponse:
    return JsonResponse(panel_status(tenant=request.tenant), encoder=DjangoJSONEncoder)


def panel_status(*, tenant: Tenant) -> dict[str, Any]:
    """The sync panel's figures, with its times in the pages' words ("3 minutes ago (7 Dec
    2026, 14:05 UTC)"): the page shows them and its live updates (panel.js) replace them
    with the same words, from the JSON."""
    status = tenant_sync_status(tenant=tenant)
    last_change, sales = status["last_change_at"], status["sales"]
    if last_change:
        last_change_words = ago_and_moment(last_change)
    elif status["first_sync_done"]:
        last_change_words = "No change since the first sync"
    else:
        last_change_words = "None yet"
    return {
        **status,
        "times": {
            "last_change": last_change_words,
            "sales_read": ago_and_moment(sales["refreshed_at"]) if sales else "",
        },
    }


def _back(request: HttpRequest) -> HttpResponse:
    return redirect(reverse("status"))


@require_POST
@tenant_required
def pause(request: TenantRequest) -> HttpResponse:
    services.pause(tenant=request.tenant)
    return _back(request)


@require_POST
@tenant_required
def resume(request: TenantRequest) -> HttpResponse:
    services.resume(tenant=request.tenant)
    return _back(request)


@require_POST
@tenant_required
def sync_now(request: TenantRequest) -> HttpResponse:
    services.sync_now(tenant=request.tenant)
    return _back(request)

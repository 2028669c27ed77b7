"""The session's own controls: an accountant's company switcher and Sign out."""

from django.contrib.auth import logout
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from ccsync.web.access import TENANT_SESSION_KEY, safe_next
from ccsync.web.forms import SwitchTenantForm
from tenants import selectors


@require_POST
def switch_tenant(request: HttpRequest) -> HttpResponse:
    """An accountant's company switcher: only companies the person is a member of."""
    form = SwitchTenantForm(request.POST)
    tenant = (
        selectors.tenant_for(user=request.user, tenant_id=form.cleaned_data["tenant_id"])
        if form.is_valid()
        else None
    )
    if tenant is None:
        raise Http404("No such company")
    request.session[TENANT_SESSION_KEY] = tenant.pk
    return redirect(safe_next(request, request.POST.get("next")) or reverse("status"))


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("home")

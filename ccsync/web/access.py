"""Who may see a page and for which company: the request-level helpers every view uses.

Every page works on the signed-in person's current tenant, taken from the session and
checked against their memberships; no URL, form field or query parameter names a tenant.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from ccsync.base.logs import bind
from tenants import selectors
from tenants.models import Tenant, User

TENANT_SESSION_KEY = "tenant_id"

View = Callable[..., HttpResponseBase]


class TenantRequest(HttpRequest):
    """What a view under tenant_required is given: a signed-in person and their checked
    tenant. Only a type: the decorator sets `tenant` on the request Django made."""

    user: User
    tenant: Tenant


def error_page(
    request: HttpRequest,
    *,
    title: str,
    message: str,
    status: int = 400,
    action_url: str = "",
    action_label: str = "",
) -> HttpResponse:
    return render(
        request,
        "error.html",
        {
            "title": title,
            "message": message,
            "action_url": action_url,
            "action_label": action_label,
        },
        status=status,
    )


def provider_unavailable(request: HttpRequest, *, provider: str, retry_url: str) -> HttpResponse:
    """The "try again" page when a provider (or its sign-in) does not answer."""
    return error_page(
        request,
        title=f"{provider} is not answering",
        message=f"{provider} did not answer just now. Please try again in a minute.",
        status=503,
        action_url=retry_url,
        action_label="Try again",
    )


def safe_next(request: HttpRequest, value: str | None) -> str:
    """`value` if it is a path on this site ("/..."), else empty: never an open redirect,
    and never a word redirect() would take for a view's name."""
    if (
        value
        and value.startswith("/")
        and not value.startswith(("//", "/\\"))
        and url_has_allowed_host_and_scheme(
            value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return value
    return ""


def current_tenant(request: HttpRequest) -> Tenant | None:
    """The tenant chosen in this session, if the person is still a member of it."""
    chosen = request.session.get(TENANT_SESSION_KEY)
    tenant = selectors.tenant_for(user=request.user, tenant_id=chosen) if chosen else None
    if tenant is None:
        tenant = selectors.tenants_for(user=request.user).first()
        if tenant is not None:
            request.session[TENANT_SESSION_KEY] = tenant.pk
    return tenant


def tenant_required(view: View) -> View:
    """Signs the person in through Intuit if needed and sets request.tenant."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        tenant = current_tenant(request)
        if tenant is None:
            return error_page(
                request,
                title="No QuickBooks company yet",
                message="Install the app from the QuickBooks Apps tab to connect a company.",
                status=403,
                action_url=reverse("connect"),
                action_label="Connect QuickBooks",
            )
        tenant_request = cast(TenantRequest, request)
        tenant_request.tenant = tenant
        bind(tenant=tenant.pk)  # until the end of the request (RequestContextMiddleware)
        return view(tenant_request, *args, **kwargs)

    return wrapper

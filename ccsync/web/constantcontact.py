"""Constant Contact authorization (PKCE, S256): the Connect button and the callback.

The flow itself is ccsync.web.oauth; this is its Constant Contact adapter.
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET

from ccsync.sync import lifecycle
from ccsync.web import oauth
from ccsync.web.access import TENANT_SESSION_KEY, TenantRequest, error_page, tenant_required
from integrations.constantcontact import errors as cc_errors
from integrations.constantcontact import oauth as cc_oauth
from tenants import selectors, services
from tenants.models import Tenant

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Grant:
    tenant: Tenant
    tokens: cc_oauth.CCTokens
    account: dict


class ConstantContactAdapter(oauth.OAuthAdapter[Grant]):
    flow_key = "oauth_constantcontact"
    pkce = True
    invalid_grant = cc_errors.InvalidGrant
    failures = (cc_errors.ConstantContactError,)

    def authorization(self, values: Mapping[str, Any]) -> oauth.Authorization:
        started = cc_oauth.start_authorization()
        return oauth.Authorization(
            url=started.url, state=started.state, code_verifier=started.code_verifier
        )

    def restart_url(self, request: HttpRequest) -> str:
        return reverse("constantcontact_connect")

    def denied(self, request: HttpRequest) -> HttpResponse:
        retry_url = self.restart_url(request)
        return render(request, "constantcontact/denied.html", {"retry_url": retry_url})

    def provider_error(self, request: HttpRequest) -> HttpResponse:
        return self.denied(request)

    def exchange(self, request: HttpRequest, callback: oauth.Callback) -> Grant:
        # Only for the company the flow was started for, and only if still the person's.
        tenant = selectors.tenant_for(user=request.user, tenant_id=callback.values.get("tenant_id"))
        if tenant is None or not callback.code:
            raise oauth.StaleFlow
        tokens = cc_oauth.exchange_code(code=callback.code, code_verifier=callback.code_verifier)
        tokens, account = services.read_constantcontact_account(tenant=tenant, tokens=tokens)
        return Grant(tenant=tenant, tokens=tokens, account=account)

    def failed(
        self, request: HttpRequest, callback: oauth.Callback, error: Exception
    ) -> HttpResponse:
        logger.warning(
            "constant contact authorization failed: tenant=%s cause=%s",
            callback.values.get("tenant_id"),
            type(error).__name__,
        )
        return error_page(
            request,
            title="Constant Contact could not be connected",
            message="Constant Contact did not confirm the connection. Nothing was saved.",
            status=502,
            action_url=self.restart_url(request),
            action_label="Try again",
        )

    def succeed(self, request: HttpRequest, callback: oauth.Callback, grant: Grant) -> HttpResponse:
        connection = lifecycle.connect_constantcontact(
            tenant=grant.tenant, tokens=grant.tokens, account=grant.account
        )
        request.session[TENANT_SESSION_KEY] = grant.tenant.pk
        messages.success(
            request, f"Connected to the Constant Contact account “{connection.account_name}”."
        )
        return redirect("settings")


CONSTANTCONTACT = ConstantContactAdapter()


@require_GET
@tenant_required
def constantcontact_connect(request: TenantRequest) -> HttpResponse:
    """Sends the person to Constant Contact's login and Allow page (PKCE, S256)."""
    if not request.tenant.is_connected:
        return redirect("status")
    return oauth.authorize(request, CONSTANTCONTACT, tenant_id=request.tenant.pk)


@sensitive_variables()
@require_GET
def constantcontact_callback(request: HttpRequest) -> HttpResponse:
    return oauth.callback(request, CONSTANTCONTACT)

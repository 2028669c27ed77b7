"""Intuit sign-in and QuickBooks consent: Get App Now (/connect/), Launch and the callback.

The flow itself is tenants.views.oauth; this is its QuickBooks adapter.
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET

from ccsync.sync import lifecycle
from integrations.quickbooks import errors as qb_errors
from integrations.quickbooks import oauth as qb_oauth
from tenants import selectors, services
from tenants.access import TENANT_SESSION_KEY, current_tenant, error_page, safe_next
from tenants.views import oauth

logger = logging.getLogger(__name__)


class Intent(StrEnum):
    """Why the person signs in with Intuit; kept by the flow for the callback."""

    CONNECT = "connect"  # Get App Now, Reconnect: installs the company, then the next step
    LAUNCH = "launch"  # My Apps → Launch and our sign-in page: back to the page asked for


class UnknownCompany(Exception):
    """The callback does not say which QuickBooks company to connect."""


@dataclass(frozen=True)
class SignIn:
    realm_id: str
    tokens: qb_oauth.QuickBooksTokens
    identity: services.IntuitIdentity


class QuickBooksAdapter(oauth.OAuthAdapter[SignIn]):
    flow_key = "oauth_intuit"
    invalid_grant = qb_errors.InvalidGrant
    failures = (UnknownCompany, qb_errors.QuickBooksError, services.InstallError)

    def authorization(self, values: Mapping[str, Any]) -> oauth.Authorization:
        # The scopes would follow values["intent"]; for now every intent asks for accounting
        # as well as OpenID.
        state = oauth.new_state()
        return oauth.Authorization(url=qb_oauth.authorization_url(state=state), state=state)

    def restart_url(self) -> str:
        return reverse("tenants:connect")

    def denied(self, request: HttpRequest) -> HttpResponse:
        return self._not_connected(
            request,
            "You chose not to connect Constant Contact for QuickBooks Online to your "
            "QuickBooks company. Nothing was saved.",
        )

    def provider_error(self, request: HttpRequest) -> HttpResponse:
        return self._not_connected(
            request, "Intuit could not start the connection. Nothing was saved."
        )

    def exchange(self, request: HttpRequest, callback: oauth.Callback) -> SignIn:
        realm_id = request.GET.get("realmId", "")
        if not callback.code or not realm_id.isdigit():
            raise UnknownCompany
        tokens = qb_oauth.exchange_code(code=callback.code, realm_id=realm_id)
        identity = services.intuit_identity(tokens=tokens, realm_id=realm_id)
        return SignIn(realm_id=realm_id, tokens=tokens, identity=identity)

    def failed(
        self, request: HttpRequest, callback: oauth.Callback, error: Exception
    ) -> HttpResponse:
        if isinstance(error, UnknownCompany):
            return self._refused(
                request,
                title="Unknown QuickBooks company",
                message="QuickBooks did not say which company to connect. Nothing was saved.",
            )
        logger.warning(
            "intuit sign-in refused: realm=%s cause=%s",
            request.GET.get("realmId", ""),
            type(error).__name__,
        )
        return self._refused(
            request,
            title="QuickBooks could not be connected",
            message=f"{error} Nothing was saved."
            if isinstance(error, services.InstallError)
            else "Intuit did not confirm the sign-in. Nothing was saved.",
        )

    def succeed(
        self, request: HttpRequest, callback: oauth.Callback, grant: SignIn
    ) -> HttpResponse:
        tenant, user = lifecycle.install(
            realm_id=grant.realm_id, tokens=grant.tokens, identity=grant.identity
        )
        services.refresh_company_name(tenant=tenant)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        request.session[TENANT_SESSION_KEY] = tenant.pk
        if callback.values.get("intent") == Intent.LAUNCH:
            return redirect(callback.values.get("next") or reverse("tenants:status"))
        cc = selectors.constantcontact_connection(tenant=tenant)
        if cc is None or not cc.is_connected:
            return redirect("tenants:constantcontact_connect")
        if selectors.needs_first_sync(tenant=tenant):
            return redirect("tenants:settings")
        return redirect("tenants:status")

    def _not_connected(self, request: HttpRequest, message: str) -> HttpResponse:
        return self._refused(request, title="QuickBooks was not connected", message=message)

    def _refused(self, request: HttpRequest, *, title: str, message: str) -> HttpResponse:
        return error_page(
            request,
            title=title,
            message=message,
            action_url=self.restart_url(),
            action_label="Try again",
        )


QUICKBOOKS = QuickBooksAdapter()


def sign_in(request: HttpRequest, *, intent: Intent, next_url: str = "") -> HttpResponse:
    """Sends the person to Intuit's sign-in (and consent) page."""
    return oauth.authorize(request, QUICKBOOKS, intent=intent, next=next_url)


@require_GET
def connect(request: HttpRequest) -> HttpResponse:
    """Get App Now: Intuit sign-in and consent (OpenID + accounting)."""
    return sign_in(request, intent=Intent.CONNECT)


@require_GET
def launch(request: HttpRequest) -> HttpResponse:
    """QuickBooks' My Apps → Launch (and our sign-in page): lands on the status page."""
    next_url = safe_next(request, request.GET.get("next"))
    realm_id = request.GET.get("realmId", "")
    if request.user.is_authenticated:
        mine = selectors.tenants_for(user=request.user)
        wanted = mine.filter(realm_id=realm_id).first() if realm_id else None
        if wanted is not None:
            request.session[TENANT_SESSION_KEY] = wanted.pk
        # A company this person has not signed in to yet: Intuit says whether they may.
        if (wanted is not None or not realm_id) and current_tenant(request) is not None:
            return redirect(next_url or reverse("tenants:status"))
    return sign_in(request, intent=Intent.LAUNCH, next_url=next_url)


@sensitive_variables()  # tokens and codes stay out of error reports
@require_GET
def intuit_callback(request: HttpRequest) -> HttpResponse:
    return oauth.callback(request, QUICKBOOKS)

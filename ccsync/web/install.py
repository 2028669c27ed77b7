"""Intuit sign-in and QuickBooks consent: Get App Now (/connect/), Launch, the Disconnect
URL's sign-in, and the callback.

The flow itself is ccsync.web.oauth; this is its QuickBooks adapter. Only Get App Now
(and reconnecting) asks for the accounting scope and installs; Launch and the Disconnect
URL sign the person in with OpenID alone.
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET

from ccsync.sync import lifecycle
from ccsync.web import oauth
from ccsync.web.access import (
    TENANT_SESSION_KEY,
    current_tenant,
    error_page,
    provider_unavailable,
    safe_next,
)
from integrations.quickbooks import errors as qb_errors
from integrations.quickbooks import oauth as qb_oauth
from tenants import selectors, services
from tenants.models import User

logger = logging.getLogger(__name__)


class Intent(StrEnum):
    """Why the person signs in with Intuit; kept by the flow for the callback."""

    CONNECT = "connect"  # Get App Now, Reconnect: installs the company, then the next step
    LAUNCH = "launch"  # My Apps → Launch and our sign-in page: back to the page asked for
    DISCONNECT = "disconnect"  # the Disconnect URL: which of their companies Intuit revoked


# Where each intent starts again.
RESTART: dict[str, str] = {
    Intent.CONNECT: "connect",
    Intent.LAUNCH: "launch",
    Intent.DISCONNECT: "disconnect",
}
UNAVAILABLE = (qb_errors.TransientError, qb_errors.Throttled)


class UnknownCompany(Exception):
    """The callback does not say which QuickBooks company to connect."""


@dataclass(frozen=True)
class SignIn:
    tokens: qb_oauth.QuickBooksTokens
    identity: services.IntuitIdentity
    company: services.ConfirmedCompany | None  # only for an install


class QuickBooksAdapter(oauth.OAuthAdapter[SignIn]):
    flow_key = "oauth_intuit"
    invalid_grant = qb_errors.InvalidGrant
    failures = (UnknownCompany, qb_errors.QuickBooksError, services.InstallError)

    def authorization(self, values: Mapping[str, Any]) -> oauth.Authorization:
        state = oauth.new_state()
        accounting = values.get("intent") == Intent.CONNECT
        url = qb_oauth.authorization_url(state=state, accounting=accounting)
        return oauth.Authorization(url=url, state=state)

    def restart_url(self) -> str:
        return reverse("connect")

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

    @sensitive_variables()
    def exchange(self, request: HttpRequest, callback: oauth.Callback) -> SignIn:
        if callback.values.get("intent") != Intent.CONNECT:
            if not callback.code:
                raise oauth.StaleFlow
            signed_in = qb_oauth.exchange_code(code=callback.code, realm_id=None)
            identity = services.intuit_identity(signed_in=signed_in, realm_id=None)
            return SignIn(tokens=signed_in.tokens, identity=identity, company=None)
        realm_id = request.GET.get("realmId", "")
        if not callback.code or not realm_id.isdigit():
            raise UnknownCompany
        signed_in = qb_oauth.exchange_code(code=callback.code, realm_id=realm_id)
        identity = services.intuit_identity(signed_in=signed_in, realm_id=realm_id)
        # Nothing is written before the new tokens are seen to open this very company.
        company = services.confirm_company(realm_id=realm_id, tokens=signed_in.tokens)
        return SignIn(tokens=signed_in.tokens, identity=identity, company=company)

    def failed(
        self, request: HttpRequest, callback: oauth.Callback, error: Exception
    ) -> HttpResponse:
        restart = reverse(RESTART.get(callback.values.get("intent", ""), "connect"))
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
        if isinstance(error, UNAVAILABLE):
            return provider_unavailable(request, provider="Intuit", retry_url=restart)
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
        if grant.company is None:
            user = services.sign_in(identity=grant.identity)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            if callback.values.get("intent") == Intent.DISCONNECT:
                return disconnect_revoked(request, user=user)
            return _launched(request, callback.values)
        tenant, user = lifecycle.install(
            company=grant.company, tokens=grant.tokens, identity=grant.identity
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        request.session[TENANT_SESSION_KEY] = tenant.pk
        cc = selectors.constantcontact_connection(tenant=tenant)
        if cc is None or not cc.is_connected:
            return redirect("constantcontact_connect")
        if selectors.needs_first_sync(tenant=tenant):
            return redirect("settings")
        return redirect("status")

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


def _launched(request: HttpRequest, values: Mapping[str, Any]) -> HttpResponse:
    """After Launch's sign-in: the company launched if it is one of theirs. Any other is
    theirs only once Intuit says so: Get App Now, with the company's consent."""
    mine = selectors.tenants_for(user=request.user)
    realm_id = str(values.get("realm_id") or "")
    wanted = mine.filter(realm_id=realm_id).first() if realm_id else mine.first()
    if wanted is None:
        return redirect("connect")
    request.session[TENANT_SESSION_KEY] = wanted.pk
    return redirect(str(values.get("next") or "") or reverse("status"))


def disconnect_revoked(request: HttpRequest, *, user: User) -> HttpResponse:
    """The Disconnect URL, once Intuit said who this is: each of their companies Intuit
    has revoked is disconnected; Intuit's word, not the URL or the session, says which."""
    if lifecycle.disconnect_revoked(user=user):
        return disconnected_page(request)
    return error_page(
        request,
        title="The app is still connected",
        message=(
            "QuickBooks still shows Constant Contact for QuickBooks Online as connected. "
            "To disconnect, open My Apps in QuickBooks and click Disconnect."
        ),
        status=200,
        action_url=reverse("launch"),
        action_label="Open the app",
    )


def disconnected_page(request: HttpRequest) -> HttpResponse:
    """The user guide's page after a disconnect: Next goes to Constant Contact."""
    return render(
        request,
        "disconnect/disconnected.html",
        {"next_url": settings.CONSTANTCONTACT_ACCOUNT_URL},
    )


def sign_in(
    request: HttpRequest, *, intent: Intent, next_url: str = "", realm_id: str = ""
) -> HttpResponse:
    """Sends the person to Intuit's sign-in (and, to install, consent) page."""
    try:
        return oauth.authorize(request, QUICKBOOKS, intent=intent, next=next_url, realm_id=realm_id)
    except qb_errors.QuickBooksError as error:
        # Its discovery document did not come (or made no sense): nothing to send them to.
        logger.warning("intuit sign-in not started: cause=%s", type(error).__name__)
        return provider_unavailable(request, provider="Intuit", retry_url=request.get_full_path())


@require_GET
def connect(request: HttpRequest) -> HttpResponse:
    """Get App Now: Intuit sign-in and consent (OpenID + accounting)."""
    return sign_in(request, intent=Intent.CONNECT)


@require_GET
def launch(request: HttpRequest) -> HttpResponse:
    """QuickBooks' My Apps → Launch (and our sign-in page): lands on the status page.
    Signs in with OpenID alone: the company's data was consented to at install."""
    next_url = safe_next(request, request.GET.get("next"))
    realm_id = request.GET.get("realmId", "")
    realm_id = realm_id if realm_id.isdigit() else ""
    if request.user.is_authenticated:
        mine = selectors.tenants_for(user=request.user)
        wanted = mine.filter(realm_id=realm_id).first() if realm_id else None
        if wanted is not None:
            request.session[TENANT_SESSION_KEY] = wanted.pk
        # A company this person has not signed in to yet: Intuit says whether they may.
        if (wanted is not None or not realm_id) and current_tenant(request) is not None:
            return redirect(next_url or reverse("status"))
    return sign_in(request, intent=Intent.LAUNCH, next_url=next_url, realm_id=realm_id)


@sensitive_variables()  # tokens and codes stay out of error reports
@require_GET
def intuit_callback(request: HttpRequest) -> HttpResponse:
    return oauth.callback(request, QUICKBOOKS)

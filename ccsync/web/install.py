"""Intuit sign-in and QuickBooks consent: Get App Now (/connect/), the Reconnect URL, Launch,
the Disconnect URL's sign-in, and the callback.

The flow itself is ccsync.web.oauth; this is its QuickBooks adapter. Only Get App Now
(and reconnecting) asks for the accounting scope and installs; Launch and the Disconnect
URL sign the person in with OpenID alone.
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET

from ccsync.sync import lifecycle
from ccsync.web import disconnect, oauth
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


# Where each intent starts again: a disconnect never restarts as an install.
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
        intent = Intent(values.get("intent", Intent.CONNECT))
        # The intent leads the state, so that even a callback whose flow is gone (used,
        # expired, another browser) restarts where it began (_intent).
        state = f"{intent}.{oauth.new_state()}"
        url = qb_oauth.authorization_url(state=state, accounting=intent == Intent.CONNECT)
        return oauth.Authorization(url=url, state=state)

    def restart_url(self, request: HttpRequest) -> str:
        return reverse(RESTART[_intent(request)])

    def denied(self, request: HttpRequest) -> HttpResponse:
        if _intent(request) != Intent.CONNECT:
            return self._refused(
                request,
                title="You did not sign in with Intuit",
                message="Nothing was changed.",
            )
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
        restart = self.restart_url(request)
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
            action_url=self.restart_url(request),
            action_label="Try again",
        )


QUICKBOOKS = QuickBooksAdapter()


def _intent(request: HttpRequest) -> Intent:
    """The intent the callback's state names (Get App Now's when it names none)."""
    prefix = request.GET.get("state", "").partition(".")[0]
    return Intent(prefix) if prefix in RESTART else Intent.CONNECT


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
    has revoked is disconnected; Intuit's word, not the URL or the session, says which.
    None yet (another admin disconnected, or Intuit's revoke is not visible yet): the
    neutral page, and the app notices at its next call to QuickBooks."""
    return disconnect.done(companies=lifecycle.disconnect_revoked(user=user))


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
def reconnect(request: HttpRequest) -> HttpResponse:
    """The Reconnect URL (an app setting Intuit requires since January 2026; the expiry
    banner and email link here too): the page from which a company reconnects the app.
    Someone not signed in goes straight to Get App Now's Intuit sign-in and consent, which
    reconnects the company they choose; whoever is signed in sees where each connection
    stands, with a button for QuickBooks and one for Constant Contact when it is not
    connected. Reconnecting keeps the company's tenant, list, history and contacts."""
    tenant = current_tenant(request) if request.user.is_authenticated else None
    if tenant is None:
        return sign_in(request, intent=Intent.CONNECT)
    return render(
        request,
        "install/reconnect.html",
        {
            "tenant": tenant,
            "quickbooks": selectors.quickbooks_connection(tenant=tenant),
            "constantcontact": selectors.constantcontact_connection(tenant=tenant),
            "expires_at": selectors.quickbooks_expiring(tenant=tenant),
        },
    )


@require_GET
def disconnect_sign_in(request: HttpRequest) -> HttpResponse:
    """The Disconnect URL's "Sign in with Intuit": Intuit says who this is (OpenID alone),
    then the callback disconnects what Intuit has revoked (disconnect_revoked)."""
    return sign_in(request, intent=Intent.DISCONNECT)


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

"""The install journey's pages: thin views over tenants.services and tenants.selectors.

Every page works on the signed-in person's current tenant, taken from the session and
checked against their memberships; no URL, form field or query parameter names a tenant.
"""

import logging
import secrets
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ccsync.ops.logs import bind
from ccsync.sync.selectors import tenant_sync_status
from integrations.constantcontact import errors as cc_errors
from integrations.constantcontact import oauth as cc_oauth
from integrations.quickbooks import errors as qb_errors
from integrations.quickbooks import oauth as intuit_oauth
from tenants import selectors, services
from tenants.forms import ListChoiceForm, NewListForm, SwitchTenantForm
from tenants.models import Tenant
from tenants.tokens import ConnectionUnavailable

logger = logging.getLogger(__name__)

TENANT_SESSION_KEY = "tenant_id"
INTUIT_FLOW_KEY = "oauth_intuit"
CC_FLOW_KEY = "oauth_constantcontact"
# An authorization started longer ago than this is not accepted back.
FLOW_MAX_AGE_SECONDS = 15 * 60

View = Callable[..., HttpResponse]


# --- helpers ---------------------------------------------------------------------------


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
        "tenants/error.html",
        {
            "title": title,
            "message": message,
            "action_url": action_url,
            "action_label": action_label,
        },
        status=status,
    )


def safe_next(request: HttpRequest, value: str | None) -> str:
    """`value` if it is a path on this site, else empty: never an open redirect."""
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
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
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        tenant = current_tenant(request)
        if tenant is None:
            return error_page(
                request,
                title="No QuickBooks company yet",
                message="Install the app from the QuickBooks Apps tab to connect a company.",
                status=403,
                action_url=reverse("tenants:connect"),
                action_label="Connect QuickBooks",
            )
        request.tenant = tenant
        bind(tenant=tenant.pk)  # until the end of the request (RequestContextMiddleware)
        return view(request, *args, **kwargs)

    return wrapper


def _start_flow(request: HttpRequest, key: str, **values: Any) -> None:
    request.session[key] = {**values, "created": time.time()}


def _finish_flow(request: HttpRequest, key: str) -> dict[str, Any] | None:
    """The flow started in this session if the callback's state matches it; used once."""
    flow = request.session.pop(key, None)
    state = request.GET.get("state", "")
    if not isinstance(flow, dict) or not state:
        return None
    if time.time() - float(flow.get("created", 0)) > FLOW_MAX_AGE_SECONDS:
        return None
    # As bytes: compare_digest refuses str with non-ASCII characters (a forged state may
    # hold any).
    if not secrets.compare_digest(str(flow.get("state", "")).encode(), state.encode()):
        return None
    return flow


def _stale_flow(request: HttpRequest, *, restart_url: str) -> HttpResponse:
    return error_page(
        request,
        title="This sign-in link has expired",
        message=(
            "The authorization did not come back from the page that started it, or it was "
            "already used. Nothing was saved. Please start again."
        ),
        action_url=restart_url,
        action_label="Start again",
    )


def _constantcontact_trouble(request: HttpRequest, error: Exception) -> HttpResponse:
    """The page for a Constant Contact failure while reading or creating lists."""
    if isinstance(error, cc_errors.InvalidGrant | cc_errors.Unauthorized | ConnectionUnavailable):
        return error_page(
            request,
            title="Reconnect Constant Contact",
            message="Constant Contact no longer accepts the app's authorization.",
            status=409,
            action_url=reverse("tenants:constantcontact_connect"),
            action_label="Reconnect Constant Contact",
        )
    logger.warning(
        "constant contact unavailable: tenant=%s cause=%s", request.tenant.pk, type(error).__name__
    )
    return error_page(
        request,
        title="Constant Contact is not answering",
        message="Constant Contact did not answer just now. Please try again in a minute.",
        status=503,
        action_url=reverse("tenants:settings"),
        action_label="Try again",
    )


# --- pages ------------------------------------------------------------------------------


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and current_tenant(request) is not None:
        return redirect("tenants:status")
    return render(request, "tenants/home.html")


@require_GET
def connect(request: HttpRequest) -> HttpResponse:
    """Get App Now: Intuit sign-in and consent (OpenID + accounting)."""
    return _start_intuit(request, intent="connect", next_url="")


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
    return _start_intuit(request, intent="launch", next_url=next_url)


def _start_intuit(request: HttpRequest, *, intent: str, next_url: str) -> HttpResponse:
    state = secrets.token_urlsafe(32)
    _start_flow(request, INTUIT_FLOW_KEY, state=state, intent=intent, next=next_url)
    return redirect(intuit_oauth.authorization_url(state=state))


def _intuit_refused(request: HttpRequest, *, title: str, message: str) -> HttpResponse:
    return error_page(
        request,
        title=title,
        message=message,
        action_url=reverse("tenants:connect"),
        action_label="Try again",
    )


@sensitive_variables()  # tokens and codes stay out of error reports
@require_GET
def intuit_callback(request: HttpRequest) -> HttpResponse:
    flow = _finish_flow(request, INTUIT_FLOW_KEY)
    restart = reverse("tenants:connect")
    if request.GET.get("error"):
        denied = request.GET["error"] == "access_denied"
        return _intuit_refused(
            request,
            title="QuickBooks was not connected",
            message=(
                "You chose not to connect Constant Contact for QuickBooks Online to your "
                "QuickBooks company. Nothing was saved."
                if denied
                else "Intuit could not start the connection. Nothing was saved."
            ),
        )
    if flow is None:
        return _stale_flow(request, restart_url=restart)
    code = request.GET.get("code", "")
    realm_id = request.GET.get("realmId", "")
    if not code or not realm_id.isdigit():
        return _intuit_refused(
            request,
            title="Unknown QuickBooks company",
            message="QuickBooks did not say which company to connect. Nothing was saved.",
        )
    try:
        tokens = intuit_oauth.exchange_code(code=code, realm_id=realm_id)
        identity = services.intuit_identity(tokens=tokens, realm_id=realm_id)
    except qb_errors.InvalidGrant:
        return _stale_flow(request, restart_url=restart)
    except (qb_errors.QuickBooksError, services.InstallError) as error:
        logger.warning("intuit sign-in refused: realm=%s cause=%s", realm_id, type(error).__name__)
        known = isinstance(error, services.InstallError)
        return _intuit_refused(
            request,
            title="QuickBooks could not be connected",
            message=f"{error} Nothing was saved."
            if known
            else "Intuit did not confirm the sign-in. Nothing was saved.",
        )
    tenant, user = services.install(realm_id=realm_id, tokens=tokens, identity=identity)
    services.refresh_company_name(tenant=tenant)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session[TENANT_SESSION_KEY] = tenant.pk
    if flow.get("intent") == "launch":
        return redirect(flow.get("next") or reverse("tenants:status"))
    cc = selectors.constantcontact_connection(tenant=tenant)
    if cc is None or not cc.is_connected:
        return redirect("tenants:constantcontact_connect")
    if selectors.needs_first_sync(tenant=tenant):
        return redirect("tenants:settings")
    return redirect("tenants:status")


@require_GET
@tenant_required
def constantcontact_connect(request: HttpRequest) -> HttpResponse:
    """Sends the person to Constant Contact's login and Allow page (PKCE, S256)."""
    if not request.tenant.is_connected:
        return redirect("tenants:status")
    authorization = cc_oauth.start_authorization()
    # The verifier stays in the server-side session; only its S256 challenge leaves.
    _start_flow(
        request,
        CC_FLOW_KEY,
        state=authorization.state,
        code_verifier=authorization.code_verifier,
        tenant_id=request.tenant.pk,
    )
    return redirect(authorization.url)


@sensitive_variables()
@require_GET
def constantcontact_callback(request: HttpRequest) -> HttpResponse:
    flow = _finish_flow(request, CC_FLOW_KEY)
    retry = reverse("tenants:constantcontact_connect")
    if request.GET.get("error"):
        return render(request, "tenants/constantcontact_denied.html", {"retry_url": retry})
    tenant = (
        selectors.tenant_for(user=request.user, tenant_id=flow.get("tenant_id")) if flow else None
    )
    if flow is None or tenant is None or not request.GET.get("code"):
        return _stale_flow(request, restart_url=retry)
    try:
        tokens = cc_oauth.exchange_code(
            code=request.GET["code"], code_verifier=str(flow["code_verifier"])
        )
        tokens, account = services.read_constantcontact_account(tenant=tenant, tokens=tokens)
    except cc_errors.InvalidGrant:
        return _stale_flow(request, restart_url=retry)
    except cc_errors.ConstantContactError as error:
        logger.warning(
            "constant contact authorization failed: tenant=%s cause=%s",
            tenant.pk,
            type(error).__name__,
        )
        return error_page(
            request,
            title="Constant Contact could not be connected",
            message="Constant Contact did not confirm the connection. Nothing was saved.",
            status=502,
            action_url=retry,
            action_label="Try again",
        )
    connection = services.connect_constantcontact(tenant=tenant, tokens=tokens, account=account)
    request.session[TENANT_SESSION_KEY] = tenant.pk
    messages.success(
        request, f"Connected to the Constant Contact account “{connection.account_name}”."
    )
    return redirect("tenants:settings")


def _settings_page(
    request: HttpRequest,
    *,
    lists: list[dict[str, str]],
    form: ListChoiceForm | None = None,
    new_list_form: NewListForm | None = None,
    status: int = 200,
) -> HttpResponse:
    tenant = request.tenant
    current = selectors.current_list(tenant=tenant)
    if form is None:
        wanted = request.GET.get("list") or (current.list_id if current else "")
        form = ListChoiceForm(lists=lists, initial={"list_id": wanted})
    return render(
        request,
        "tenants/settings.html",
        {
            "tenant": tenant,
            "form": form,
            "new_list_form": new_list_form or NewListForm(),
            "current_list": current,
            "constantcontact": selectors.constantcontact_connection(tenant=tenant),
            "installing": selectors.needs_first_sync(tenant=tenant),
        },
        status=status,
    )


def _constantcontact_ready(request: HttpRequest) -> HttpResponse | None:
    """A redirect when the tenant cannot pick a list yet, else None."""
    if not request.tenant.is_connected:
        return redirect("tenants:status")
    cc = selectors.constantcontact_connection(tenant=request.tenant)
    if cc is None or cc.state == cc.State.DISCONNECTED:
        return redirect("tenants:constantcontact_connect")
    if cc.is_broken:
        return redirect("tenants:status")
    return None


@require_http_methods(["GET", "POST"])
@tenant_required
def settings_view(request: HttpRequest) -> HttpResponse:
    """Set Up and Connect: pick the list; the POST is the Connect button."""
    not_ready = _constantcontact_ready(request)
    if not_ready is not None:
        return not_ready
    try:
        lists = selectors.constantcontact_lists(
            tenant=request.tenant, refresh=bool(request.GET.get("refresh"))
        )
    except (cc_errors.ConstantContactError, ConnectionUnavailable) as error:
        return _constantcontact_trouble(request, error)
    if request.method == "GET":
        return _settings_page(request, lists=lists)
    form = ListChoiceForm(request.POST, lists=lists)
    if not form.is_valid():
        return _settings_page(request, lists=lists, form=form, status=400)
    choice = services.choose_list(
        tenant=request.tenant,
        list_id=form.cleaned_data["list_id"],
        list_name=form.list_name,
        user=request.user,
    )
    if choice.first_sync_started:
        return render(request, "tenants/success.html", {"selection": choice.selection})
    messages.success(request, f"New contacts now go to the list “{choice.selection.list_name}”.")
    return redirect("tenants:status")


@require_POST
@tenant_required
def create_list(request: HttpRequest) -> HttpResponse:
    """Creates a Constant Contact list from the Settings page and selects it."""
    not_ready = _constantcontact_ready(request)
    if not_ready is not None:
        return not_ready
    new_list_form = NewListForm(request.POST)
    try:
        if new_list_form.is_valid():
            name = new_list_form.cleaned_data["name"]
            try:
                created = services.create_constantcontact_list(tenant=request.tenant, name=name)
            except cc_errors.Conflict:
                new_list_form.add_error(
                    "name",
                    f"Your Constant Contact account already has a list named “{name}”. "
                    "Choose it from the dropdown, or pick another name.",
                )
            else:
                messages.success(request, f"The list “{created['name']}” was created.")
                return redirect(f"{reverse('tenants:settings')}?list={created['list_id']}")
        lists = selectors.constantcontact_lists(tenant=request.tenant)
    except (cc_errors.ConstantContactError, ConnectionUnavailable) as error:
        return _constantcontact_trouble(request, error)
    return _settings_page(request, lists=lists, new_list_form=new_list_form, status=400)


@require_GET
@tenant_required
def status(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant
    return render(
        request,
        "tenants/status.html",
        {
            "tenant": tenant,
            "intuit": selectors.intuit_connection(tenant=tenant),
            "constantcontact": selectors.constantcontact_connection(tenant=tenant),
            "current_list": selectors.current_list(tenant=tenant),
            "list_history": selectors.list_history(tenant=tenant)[:10],
            "installing": selectors.needs_first_sync(tenant=tenant),
            "sync_status": tenant_sync_status(tenant=tenant),
        },
    )


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
        return render(request, "tenants/disconnected.html", _disconnected_context())
    if services.intuit_disconnect_confirmed(tenant=tenant):
        services.disconnect(tenant=tenant, reason="Disconnected in QuickBooks (My Apps).")
        return render(request, "tenants/disconnected.html", _disconnected_context())
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
        services.disconnect(tenant=request.tenant, reason="Disconnected from the app's pages.")
    return render(request, "tenants/disconnected.html", _disconnected_context())


def _disconnected_context() -> dict[str, str]:
    return {"next_url": settings.CONSTANTCONTACT_ACCOUNT_URL}


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
    return redirect(safe_next(request, request.POST.get("next")) or reverse("tenants:status"))


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("tenants:home")

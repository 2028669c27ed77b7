"""Set Up and Connect (My Apps → Settings): choose the Constant Contact list, or create one."""

import logging

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from ccsync.sync import lifecycle, sales_selectors
from ccsync.web.access import TenantRequest, error_page, provider_unavailable, tenant_required
from ccsync.web.forms import ListChoiceForm, NewListForm, SalesDataForm
from integrations.constantcontact import errors as cc_errors
from tenants import selectors, services
from tenants.models import Tenant
from tenants.sales_facts import BY_KEY, DEFAULT_TAG
from tenants.tokens import ConnectionUnavailable

logger = logging.getLogger(__name__)


@require_http_methods(["GET", "POST"])
@tenant_required
def settings_view(request: TenantRequest) -> HttpResponse:
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
    sales_form = SalesDataForm(request.POST)
    if not (form.is_valid() and sales_form.is_valid()):
        return _settings_page(request, lists=lists, form=form, sales_form=sales_form, status=400)
    before = selectors.current_list(tenant=request.tenant)
    # Before the list: the first sync the list starts takes the sales data along.
    sales = lifecycle.choose_sales_data(tenant=request.tenant, **sales_form.cleaned_data)
    choice = lifecycle.choose_list(
        tenant=request.tenant,
        list_id=form.cleaned_data["list_id"],
        list_name=form.list_name,
        user=request.user,
    )
    if choice.first:
        return render(request, "settings/success.html", {"selection": choice.selection})
    said = [_sales_message(sales)] if sales.more or sales.less or sales.new_tag else []
    if before is None or before.list_id != choice.selection.list_id:
        said.insert(0, f"New contacts now go to the list “{choice.selection.list_name}”.")
    messages.success(request, " ".join(said) or "Your settings are saved; nothing changed.")
    return redirect("status")


def _sales_message(change: services.SalesDataChange) -> str:
    if not change.choice.enabled:
        return "Sales data is no longer sent. Your contacts keep the values they have."
    said = []
    if change.more or change.new_tag:
        said.append("Every synced contact gets the sales data you chose, starting now.")
    if change.less:
        said.append("The facts you unticked are no longer sent; your contacts keep them.")
    return " ".join(said)


@require_POST
@tenant_required
def create_list(request: TenantRequest) -> HttpResponse:
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
                return redirect(f"{reverse('settings')}?list={created['list_id']}")
        lists = selectors.constantcontact_lists(tenant=request.tenant)
    except (cc_errors.ConstantContactError, ConnectionUnavailable) as error:
        return _constantcontact_trouble(request, error)
    return _settings_page(request, lists=lists, new_list_form=new_list_form, status=400)


def _settings_page(
    request: TenantRequest,
    *,
    lists: list[dict[str, str]],
    form: ListChoiceForm | None = None,
    new_list_form: NewListForm | None = None,
    sales_form: SalesDataForm | None = None,
    status: int = 200,
) -> HttpResponse:
    tenant = request.tenant
    current = selectors.current_list(tenant=tenant)
    if form is None:
        wanted = request.GET.get("list") or (current.list_id if current else "")
        form = ListChoiceForm(lists=lists, initial={"list_id": wanted})
    return render(
        request,
        "settings/settings.html",
        {
            "tenant": tenant,
            "form": form,
            "new_list_form": new_list_form or NewListForm(),
            "sales_form": sales_form or _sales_form(tenant),
            "sales_problems": sales_selectors.sales_problems(tenant=tenant),
            "current_list": current,
            "constantcontact": selectors.constantcontact_connection(tenant=tenant),
            "installing": selectors.needs_first_sync(tenant=tenant),
        },
        status=status,
    )


def _sales_form(tenant: Tenant) -> SalesDataForm:
    """The section as saved; all facts and the usual tag offered when never chosen."""
    saved = selectors.sales_data(tenant=tenant)
    if saved is None:
        return SalesDataForm(initial={"facts": list(BY_KEY), "tag_name": DEFAULT_TAG})
    return SalesDataForm(
        initial={
            "enabled": saved.enabled,
            "facts": saved.facts,
            "tag_enabled": saved.tag_enabled,
            "tag_name": saved.tag_name or DEFAULT_TAG,
        }
    )


def _constantcontact_ready(request: TenantRequest) -> HttpResponse | None:
    """A redirect when the tenant cannot pick a list yet, else None."""
    if not request.tenant.is_connected:
        return redirect("status")
    cc = selectors.constantcontact_connection(tenant=request.tenant)
    if cc is None or cc.state == cc.State.DISCONNECTED:
        return redirect("constantcontact_connect")
    if cc.is_broken:
        return redirect("status")
    return None


def _constantcontact_trouble(request: TenantRequest, error: Exception) -> HttpResponse:
    """The page for a Constant Contact failure while reading or creating lists."""
    if isinstance(error, cc_errors.InvalidGrant | cc_errors.Unauthorized | ConnectionUnavailable):
        return error_page(
            request,
            title="Reconnect Constant Contact",
            message="Constant Contact no longer accepts the app's authorization.",
            status=409,
            action_url=reverse("constantcontact_connect"),
            action_label="Reconnect Constant Contact",
        )
    logger.warning(
        "constant contact unavailable: tenant=%s cause=%s", request.tenant.pk, type(error).__name__
    )
    return provider_unavailable(request, provider="Constant Contact", retry_url=reverse("settings"))

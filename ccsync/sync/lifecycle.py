"""A company's life with the app, as the pages drive it: installed, Constant Contact
connected, a list chosen, disconnected. Each step is the tenants' own write (who is
connected, the tokens) followed by what the sync does about it, in one place:
- the first list chosen after an install starts the first sync;
- a connection mended after it broke resumes the sync it stopped;
- a disconnect cancels every run (nothing is removed from Constant Contact);
- a company whose grant Intuit ended (My Apps' Disconnect) is disconnected the same way.
"""

import logging

from django.db import transaction
from django.views.decorators.debug import sensitive_variables

from ccsync.sync import sales, sales_state, services, tagging
from integrations.constantcontact import oauth as cc_oauth
from integrations.quickbooks import oauth as qb_oauth
from tenants import selectors as tenant_selectors
from tenants import services as tenant_services
from tenants.models import ConstantContactConnection, Tenant, User

logger = logging.getLogger(__name__)


@sensitive_variables()
def install(
    *,
    company: tenant_services.ConfirmedCompany,
    tokens: qb_oauth.QuickBooksTokens,
    identity: tenant_services.IntuitIdentity,
) -> tuple[Tenant, User]:
    """Get App Now (and reconnecting QuickBooks): the tenant, the person, the connection."""
    installed = tenant_services.install(company=company, tokens=tokens, identity=identity)
    if installed.reconnected:
        _resume(tenant=installed.tenant)
    return installed.tenant, installed.user


@sensitive_variables()
def connect_constantcontact(
    *, tenant: Tenant, tokens: cc_oauth.CCTokens, account: dict
) -> ConstantContactConnection:
    connected = tenant_services.connect_constantcontact(
        tenant=tenant, tokens=tokens, account=account
    )
    if connected.reconnected:
        _resume(tenant=tenant)
    return connected.connection


@transaction.atomic
def choose_list(
    *, tenant: Tenant, list_id: str, list_name: str, user: User | None
) -> tenant_services.ListChoice:
    """Settings' Connect button: the list new contacts go to; the first choice of an
    install starts the first sync once the choice is saved."""
    choice = tenant_services.choose_list(
        tenant=tenant, list_id=list_id, list_name=list_name, user=user
    )
    if choice.first:
        services.start_first_sync(tenant=tenant)
    return choice


@transaction.atomic
def choose_sales_data(
    *, tenant: Tenant, enabled: bool, facts: list[str], tag_enabled: bool, tag_name: str
) -> tenant_services.SalesDataChange:
    """Settings' sales data section. Facts turned off leave what is sent at once (nothing
    is sent for it: Constant Contact keeps the values); facts turned on, or a new tag, are
    given to every synced contact by a full check, in bulk imports (before the first sync
    is done, the first sync takes them along). A tag of another name is set up anew. The
    problems of steps turned off are gone (nothing would clear them)."""
    change = tenant_services.choose_sales_data(
        tenant=tenant, enabled=enabled, facts=facts, tag_enabled=tag_enabled, tag_name=tag_name
    )
    sales_state.choice_saved(tenant=tenant, enabled=enabled, tag_enabled=tag_enabled)
    if change.less:
        sales.stop_sending(tenant=tenant)
    if change.tag_renamed:
        sales_state.tag_renamed(tenant=tenant)
    if change.new_tag:
        tagging.start_over(tenant=tenant)
    if (change.more or change.new_tag) and not tenant_selectors.needs_first_sync(tenant=tenant):
        transaction.on_commit(lambda: services.sync_now(tenant=tenant))
    return change


def disconnect(*, tenant: Tenant, reason: str, quickbooks_revoked: bool = False) -> None:
    """Both grants revoked and forgotten, every run cancelled; the tenant's data is kept
    for the grace period (ccsync.datacare.retention)."""
    with transaction.atomic():
        tenant_services.disconnect(
            tenant=tenant, reason=reason, quickbooks_revoked=quickbooks_revoked
        )
        services.stop_syncs(tenant=tenant)


def quickbooks_revoked(*, tenant: Tenant) -> bool:
    """Intuit refused the app's grant for good (a refresh answered invalid_grant, or a
    call 401 after one): the company is disconnected like any other, with the same grace
    period for its data. Whether it was: a connection installed again since is left alone.
    """
    tenant = Tenant.objects.get(pk=tenant.pk)
    connection = tenant_selectors.quickbooks_connection(tenant=tenant)
    if not tenant.is_connected or connection is None or connection.is_connected:
        return False
    disconnect(tenant=tenant, reason="Disconnected in QuickBooks.", quickbooks_revoked=True)
    logger.info("quickbooks revoked the app: tenant=%s", tenant.pk)
    return True


def disconnect_revoked(*, user: User) -> list[Tenant]:
    """The Disconnect URL: of the person's companies, those whose grant Intuit has ended
    (asked of Intuit, company by company) are disconnected; the others stay."""
    revoked = [
        tenant
        for tenant in tenant_selectors.tenants_for(user=user)
        if tenant_services.quickbooks_revoked_by_intuit(tenant=tenant)
    ]
    return [tenant for tenant in revoked if quickbooks_revoked(tenant=tenant)]


def _resume(*, tenant: Tenant) -> None:
    """A broken connection was just reconnected: the sync it stopped starts again (the
    first sync if it never finished, else a full check for what changed meanwhile)."""
    quickbooks = tenant_selectors.quickbooks_connection(tenant=tenant)
    cc = tenant_selectors.constantcontact_connection(tenant=tenant)
    both = all(c is not None and c.is_connected for c in (quickbooks, cc))
    if both and not tenant_selectors.needs_first_sync(tenant=tenant):
        services.sync_now(tenant=tenant)

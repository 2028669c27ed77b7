"""Writes: installing, connecting Constant Contact, choosing the list, disconnecting."""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from integrations.constantcontact import errors as cc_errors
from integrations.constantcontact import oauth as cc_oauth
from integrations.quickbooks import errors as qb_errors
from integrations.quickbooks import oauth as qb_oauth
from tenants import selectors
from tenants.clients import (
    constantcontact_client,
    quickbooks_client,
    quickbooks_company_client,
)
from tenants.models import (
    Connection,
    ConstantContactConnection,
    ListSelection,
    Membership,
    QuickBooksConnection,
    SalesData,
    Tenant,
    User,
)
from tenants.sales_facts import BY_KEY
from tenants.tokens import (
    ConnectionUnavailable,
    FreshConstantContactTokens,
    FreshQuickBooksTokens,
    store_constantcontact_tokens,
    store_quickbooks_tokens,
)

logger = logging.getLogger(__name__)


class InstallError(Exception):
    """An Intuit answer we cannot install from; the message is fit for the user."""


@dataclass(frozen=True)
class IntuitIdentity:
    sub: str
    email: str
    given_name: str
    family_name: str


@dataclass(frozen=True)
class ConfirmedCompany:
    """A company that the new tokens were seen to open (CompanyInfo)."""

    realm_id: str
    name: str


class Installed(NamedTuple):
    tenant: Tenant
    user: User
    reconnected: bool  # its QuickBooks connection was broken: the sync may resume


class ConstantContactConnected(NamedTuple):
    connection: ConstantContactConnection
    reconnected: bool  # it was broken: the sync may resume


@sensitive_variables()
def intuit_identity(*, signed_in: qb_oauth.SignedIn, realm_id: str | None) -> IntuitIdentity:
    """Who signed in, from the validated ID token and userinfo.

    For an install (`realm_id` given, the callback's realmId) the signed ID token must name
    that very company: without its `realmid` claim nothing is installed.
    """
    claims = signed_in.claims
    if realm_id is not None:
        claimed_realm = claims.get("realmid")
        if claimed_realm is None:
            raise InstallError("Intuit did not confirm which QuickBooks company you chose.")
        if str(claimed_realm) != realm_id:
            raise InstallError("Intuit signed you in to a different QuickBooks company.")
    info = qb_oauth.user_info(access_token=signed_in.tokens.access_token)
    sub = str(claims.get("sub") or "")
    if not sub or str(info.get("sub") or "") != sub:
        raise InstallError("Intuit did not confirm who signed in.")
    return IntuitIdentity(
        sub=sub,
        email=str(info.get("email") or claims.get("email") or ""),
        given_name=str(info.get("givenName") or ""),
        family_name=str(info.get("familyName") or ""),
    )


@sensitive_variables()
def confirm_company(*, realm_id: str, tokens: qb_oauth.QuickBooksTokens) -> ConfirmedCompany:
    """The company the new tokens open, read (CompanyInfo) before anything is saved.

    Tokens that do not open `realm_id` install nothing; Intuit not answering is raised as
    it is (TransientError), for the "try again" page.
    """
    client = quickbooks_company_client(realm_id=realm_id, tokens=FreshQuickBooksTokens(tokens))
    try:
        info = client.company_info()
    except (qb_errors.TransientError, qb_errors.Throttled):
        raise
    except qb_errors.QuickBooksError as error:
        logger.warning("company not confirmed: realm=%s cause=%s", realm_id, type(error).__name__)
        raise InstallError("QuickBooks did not confirm the company you chose.") from None
    return ConfirmedCompany(realm_id=realm_id, name=str(info.get("CompanyName") or "")[:255])


@sensitive_variables()
@transaction.atomic
def install(
    *, company: ConfirmedCompany, tokens: qb_oauth.QuickBooksTokens, identity: IntuitIdentity
) -> Installed:
    """Creates or finds the tenant and the person, and stores the QuickBooks connection.

    Installing again after a disconnect reuses the tenant and starts a new install.
    """
    now = timezone.now()
    tenant, created = Tenant.objects.select_for_update().get_or_create(realm_id=company.realm_id)
    if not created and not tenant.is_connected:
        tenant.state = Tenant.State.CONNECTED
        tenant.installed_at = now
        tenant.disconnected_at = None
        tenant.save(update_fields=["state", "installed_at", "disconnected_at"])
    if company.name and company.name != tenant.company_name:
        # People with several companies pick by it.
        tenant.company_name = company.name
        tenant.save(update_fields=["company_name"])

    user = sign_in(identity=identity)
    Membership.objects.update_or_create(
        user=user, tenant=tenant, defaults={"last_signed_in_at": now}
    )

    connection = QuickBooksConnection.objects.filter(tenant=tenant).first() or QuickBooksConnection(
        tenant=tenant
    )
    mended = connection.is_broken
    store_quickbooks_tokens(connection, tokens, new_grant=True)
    connection.expiry_warned_for = None
    connection.state = QuickBooksConnection.State.CONNECTED
    connection.reason = ""
    connection.connected_at = now
    connection.save()
    logger.info("tenant installed: tenant=%s new=%s", tenant.pk, created)
    return Installed(tenant, user, reconnected=mended)


def sign_in(*, identity: IntuitIdentity) -> User:
    """The person Intuit signed in, found or created; name and email as Intuit has them."""
    user, _ = User.objects.get_or_create(
        intuit_sub=identity.sub, defaults={"username": f"intuit-{identity.sub}"[:150]}
    )
    user.email = identity.email
    user.first_name = identity.given_name[:150]
    user.last_name = identity.family_name[:150]
    user.save(update_fields=["email", "first_name", "last_name"])
    return user


@sensitive_variables()
def read_constantcontact_account(
    *, tenant: Tenant, tokens: cc_oauth.CCTokens
) -> tuple[cc_oauth.CCTokens, dict]:
    """The account the new tokens open (GET /account/summary), and the tokens after any renew."""
    source = FreshConstantContactTokens(tokens)
    summary = constantcontact_client(tenant=tenant, tokens=source).account_summary()
    return source.tokens, summary


@sensitive_variables()
@transaction.atomic
def connect_constantcontact(
    *, tenant: Tenant, tokens: cc_oauth.CCTokens, account: dict[str, Any]
) -> ConstantContactConnected:
    connection = ConstantContactConnection.objects.select_for_update().filter(
        tenant=tenant
    ).first() or ConstantContactConnection(tenant=tenant)
    mended = connection.is_broken
    store_constantcontact_tokens(connection, tokens)
    connection.account_id = str(account.get("encoded_account_id") or "")[:64]
    connection.account_name = str(
        account.get("organization_name") or connection.account_id or "Constant Contact account"
    )[:255]
    connection.state = ConstantContactConnection.State.CONNECTED
    connection.reason = ""
    connection.connected_at = timezone.now()
    connection.save()
    selectors.forget_constantcontact_lists(tenant=tenant)
    logger.info("constant contact connected: tenant=%s", tenant.pk)
    return ConstantContactConnected(connection, reconnected=mended)


def create_constantcontact_list(*, tenant: Tenant, name: str) -> dict[str, str]:
    """Creates a list in the tenant's Constant Contact account (409 raises Conflict)."""
    created = constantcontact_client(tenant=tenant).create_list(name=name)
    selectors.forget_constantcontact_lists(tenant=tenant)
    logger.info("constant contact list created: tenant=%s", tenant.pk)
    return {"list_id": str(created["list_id"]), "name": str(created.get("name") or name)}


@dataclass(frozen=True)
class ListChoice:
    selection: ListSelection
    first: bool  # the first choice of this install: Connect starts the first sync


@transaction.atomic
def choose_list(*, tenant: Tenant, list_id: str, list_name: str, user: User | None) -> ListChoice:
    """Saves the list new contacts go to.

    Older choices stay: the sync engine adds an updated contact to the current list, and
    nothing is ever removed from an earlier one.
    """
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    first = selectors.needs_first_sync(tenant=tenant)
    current = selectors.current_list(tenant=tenant)
    if current is not None and current.list_id == list_id and not first:
        return ListChoice(selection=current, first=False)
    selection = ListSelection.objects.create(
        tenant=tenant, list_id=list_id, list_name=list_name[:255], chosen_by=user
    )
    logger.info("list chosen: tenant=%s first=%s", tenant.pk, first)
    return ListChoice(selection=selection, first=first)


def quickbooks_revoked_by_intuit(*, tenant: Tenant) -> bool:
    """Whether Intuit has ended the app's grant for this company: CompanyInfo refused even
    after a refresh (the refresh answering invalid_grant, or 401 with new tokens).

    A connection already refused that way (broken) counts; Intuit not answering does not.
    """
    connection = selectors.quickbooks_connection(tenant=tenant)
    if connection is None or not tenant.is_connected:
        return False
    if connection.is_broken:
        return True
    try:
        quickbooks_client(tenant=tenant).company_info()
    except (qb_errors.InvalidGrant, qb_errors.Unauthorized, ConnectionUnavailable):
        return True
    except qb_errors.QuickBooksError as error:
        # No answer either way: keep everything until Intuit answers.
        logger.warning(
            "disconnect check failed: tenant=%s cause=%s", tenant.pk, type(error).__name__
        )
    return False


def disconnect(*, tenant: Tenant, reason: str, quickbooks_revoked: bool = False) -> None:
    """Revokes both sides' tokens best-effort and forgets them (QuickBooks' not when
    Intuit has revoked them already).

    The tenant stays, disconnected (its webhooks are ignored from now on); nothing is
    removed from Constant Contact. Its stored customer data is deleted once
    DATA_RETENTION_AFTER_DISCONNECT_DAYS have passed since the first disconnect, unless
    the company installs again before (ccsync.datacare.retention).
    """
    with transaction.atomic():
        tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
        qb = QuickBooksConnection.objects.select_for_update().filter(tenant=tenant).first()
        cc = ConstantContactConnection.objects.select_for_update().filter(tenant=tenant).first()
        if qb is not None and not quickbooks_revoked:
            _revoke(
                tenant=tenant,
                provider="quickbooks",
                revoke=qb_oauth.revoke,
                errors=qb_errors.QuickBooksError,
                connection=qb,
            )
        if cc is not None:
            _revoke(
                tenant=tenant,
                provider="constantcontact",
                revoke=cc_oauth.revoke,
                errors=cc_errors.ConstantContactError,
                connection=cc,
            )
        for connection in (qb, cc):
            if connection is not None:
                connection.forget_tokens()
                connection.state = connection.State.DISCONNECTED
                connection.reason = reason
                connection.save()
        if tenant.is_connected or tenant.disconnected_at is None:
            # The grace period runs from the first disconnect: a repeat does not extend it.
            tenant.disconnected_at = timezone.now()
        tenant.state = Tenant.State.DISCONNECTED
        tenant.save(update_fields=["state", "disconnected_at"])
    selectors.forget_constantcontact_lists(tenant=tenant)
    logger.info("tenant disconnected: tenant=%s", tenant.pk)


@sensitive_variables()
def _revoke(
    *,
    tenant: Tenant,
    provider: str,
    revoke: Callable[..., None],
    errors: type[Exception],
    connection: Connection,
) -> None:
    tokens = [t for t in (connection.refresh_token, connection.access_token) if t]
    for token in tokens:
        try:
            revoke(token=token)
        except (errors, OSError) as error:
            # Best effort: our copy is deleted either way.
            logger.warning(
                "token revoke failed: tenant=%s provider=%s cause=%s",
                tenant.pk,
                provider,
                type(error).__name__,
            )


class SalesDataChange(NamedTuple):
    choice: SalesData
    more: bool  # something is to be sent that was not: every synced contact gets it
    less: bool  # a fact (or all) no longer sent
    new_tag: bool  # the tag to give contacts is another one, or newly chosen
    tag_renamed: bool  # another name: the tag is set up anew in Constant Contact


def choose_sales_data(
    *, tenant: Tenant, enabled: bool, facts: list[str], tag_enabled: bool, tag_name: str
) -> SalesDataChange:
    """Settings' sales data section, saved: what changed, for the sync to act on."""
    choice, _ = SalesData.objects.select_for_update().get_or_create(tenant=tenant)
    before = set(choice.facts) if choice.enabled else set()
    after = set(facts) if enabled else set()
    tag_before = choice.tag_name if choice.enabled and choice.tag_enabled else ""
    tag_after = tag_name if enabled and tag_enabled else ""
    more, new_tag = bool(after - before), bool(tag_after) and tag_after != tag_before
    renamed = tag_name != choice.tag_name
    choice.enabled, choice.facts = enabled, [key for key in facts if key in BY_KEY]
    choice.tag_enabled, choice.tag_name = tag_enabled, tag_name
    if more or new_tag:  # owed to every synced contact: a full check (ccsync.sync.sales)
        choice.changed_at = timezone.now()
    choice.save()
    return SalesDataChange(
        choice=choice,
        more=more,
        less=bool(before - after),
        new_tag=new_tag,
        tag_renamed=renamed,
    )

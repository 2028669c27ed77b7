"""Token sources for the provider clients, backed by a tenant's stored connection.

Both providers rotate refresh tokens: a refresh token works once. Refreshing therefore runs
under a row lock, re-reads the row once it holds the lock (another worker may have
refreshed already) and stores the new tokens before anyone uses them.
"""

import logging
from abc import ABC, abstractmethod
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from ccsync.base import jobs
from integrations.constantcontact import errors as cc_errors
from integrations.constantcontact import oauth as cc_oauth
from integrations.quickbooks import errors as qb_errors
from integrations.quickbooks import oauth as qb_oauth
from tenants.models import (
    Connection,
    ConnectionModel,
    ConstantContactConnection,
    QuickBooksConnection,
    Tenant,
)

logger = logging.getLogger(__name__)

# Refresh this long before the access token expires, so a request never starts with a
# token about to die.
REFRESH_MARGIN = timedelta(minutes=5)
# Constant Contact refresh tokens expire after 180 days unused; it does not say when.
CC_REFRESH_TOKEN_LIFETIME = timedelta(days=180)
# Beat refreshes access tokens expiring within this, every 10 minutes.
REFRESH_AHEAD = timedelta(minutes=20)
# A company is asked to reconnect QuickBooks this long before Intuit ends its grant.
EXPIRY_WARNING = timedelta(days=30)


class ConnectionUnavailable(Exception):
    """The connection is broken or disconnected: nothing to sync with until reconnected."""

    def __init__(self, connection: Connection) -> None:
        name = connection._meta.verbose_name
        super().__init__(f"{name} of tenant {connection.tenant_id} is {connection.state}")


def store_quickbooks_tokens(
    connection: QuickBooksConnection, tokens: qb_oauth.QuickBooksTokens, *, new_grant: bool
) -> None:
    """A new grant (an install, a reconnect) replaces the grant's expiry, said or not; a
    refresh of the same grant keeps the one known when its answer leaves it out."""
    connection.access_token = tokens.access_token
    connection.refresh_token = tokens.refresh_token
    connection.access_expires_at = tokens.access_expires_at
    connection.refresh_expires_at = tokens.refresh_expires_at
    if new_grant or tokens.hard_expires_at is not None:
        connection.hard_expires_at = tokens.hard_expires_at


def store_constantcontact_tokens(
    connection: ConstantContactConnection, tokens: cc_oauth.CCTokens
) -> None:
    connection.access_token = tokens.access_token
    connection.refresh_token = tokens.refresh_token
    connection.access_expires_at = tokens.expires_at
    connection.refresh_expires_at = timezone.now() + CC_REFRESH_TOKEN_LIFETIME


def mark_broken(connection: Connection, *, reason: str) -> None:
    """Saves the connection as broken: the user sees a banner and a reconnect button, and
    the company's people get an email."""
    connection.state = Connection.State.BROKEN
    connection.reason = reason
    connection.save(update_fields=["state", "reason", "updated_at"])
    logger.warning(
        "connection broken: tenant=%s provider=%s cause=%s",
        connection.tenant_id,
        connection._meta.model_name,
        reason,
    )
    jobs.enqueue(
        "tenants.email_connection_broken", connection.tenant_id, connection._meta.model_name
    )


def quickbooks_refused(connection: Connection, *, reason: str) -> None:
    """Intuit refused the grant itself (invalid_grant, or 401 after a refresh): it was
    revoked (My Apps' Disconnect) or has expired. Broken at once, so nothing uses it;
    then the company is disconnected (sync.quickbooks_revoked)."""
    mark_broken(connection, reason=reason)
    jobs.enqueue("sync.quickbooks_revoked", connection.tenant_id)


class ConnectionTokenSource(ABC):
    """integrations.tokens.TokenSource over one tenant's stored connection."""

    model: ConnectionModel
    invalid_grant: type[Exception]
    broken_reason: str

    def __init__(self, *, tenant: Tenant) -> None:
        self.tenant_id = tenant.pk

    @sensitive_variables()
    def access_token(self) -> str:
        connection = self.model.objects.get(tenant_id=self.tenant_id)
        self._check(connection)
        if not _expiring(connection):
            return connection.access_token
        return self._refresh(rejected=connection.access_token)

    def renew(self, *, rejected: str) -> str:
        return self._refresh(rejected=rejected)

    @sensitive_variables()
    def _refresh(self, *, rejected: str) -> str:
        with transaction.atomic():
            connection = self.model.objects.select_for_update().get(tenant_id=self.tenant_id)
            self._check(connection)
            current = connection.access_token
            if current != rejected and not _expiring(connection):
                return current  # another worker refreshed while we waited for the lock
            try:
                tokens = self._call_refresh(connection.refresh_token)
            except self.invalid_grant as error:
                failure = error
                self._refused(connection)
            else:
                self._store(connection, tokens)
                connection.refreshed_at = timezone.now()
                connection.save()
                return connection.access_token
        raise failure  # after the commit, so the broken state is kept

    def _check(self, connection: Connection) -> None:
        if not connection.is_connected:
            raise ConnectionUnavailable(connection)

    def _refused(self, connection: Connection) -> None:
        mark_broken(connection, reason=self.broken_reason)

    @abstractmethod
    def _call_refresh(self, refresh_token: str) -> Any: ...

    @abstractmethod
    def _store(self, connection: Any, tokens: Any) -> None: ...


class QuickBooksTokenSource(ConnectionTokenSource):
    model = QuickBooksConnection
    invalid_grant = qb_errors.InvalidGrant
    broken_reason = "QuickBooks no longer accepts the app's authorization. Reconnect QuickBooks."

    def _call_refresh(self, refresh_token: str) -> qb_oauth.QuickBooksTokens:
        return qb_oauth.refresh(refresh_token=refresh_token)

    def _refused(self, connection: Connection) -> None:
        quickbooks_refused(connection, reason=self.broken_reason)

    def _store(self, connection: QuickBooksConnection, tokens: qb_oauth.QuickBooksTokens) -> None:
        store_quickbooks_tokens(connection, tokens, new_grant=False)


class ConstantContactTokenSource(ConnectionTokenSource):
    model = ConstantContactConnection
    invalid_grant = cc_errors.InvalidGrant
    broken_reason = (
        "Constant Contact no longer accepts the app's authorization. Reconnect Constant Contact."
    )

    def _call_refresh(self, refresh_token: str) -> cc_oauth.CCTokens:
        return cc_oauth.refresh(refresh_token=refresh_token)

    def _store(self, connection: ConstantContactConnection, tokens: cc_oauth.CCTokens) -> None:
        store_constantcontact_tokens(connection, tokens)


class FreshConstantContactTokens:
    """Tokens just obtained and not yet saved (reading the account before saving anything)."""

    def __init__(self, tokens: cc_oauth.CCTokens) -> None:
        self.tokens = tokens

    def access_token(self) -> str:
        return self.tokens.access_token

    def renew(self, *, rejected: str) -> str:
        self.tokens = cc_oauth.refresh(refresh_token=self.tokens.refresh_token)
        return self.tokens.access_token


class FreshQuickBooksTokens:
    """Tokens just obtained and not yet saved (confirming the company before saving anything).

    Minutes-old tokens refused are tokens that do not open the company: no refresh.
    """

    def __init__(self, tokens: qb_oauth.QuickBooksTokens) -> None:
        self.tokens = tokens

    def access_token(self) -> str:
        return self.tokens.access_token

    def renew(self, *, rejected: str) -> str:
        raise qb_errors.Unauthorized("QuickBooks refused the new tokens", status=401)


def _expiring(connection: Connection) -> bool:
    expires_at = connection.access_expires_at
    return expires_at is None or expires_at - timezone.now() <= REFRESH_MARGIN


def refresh_expiring_tokens() -> None:
    """Refresh access tokens before they expire (and keep Intuit's refresh token rolling)."""
    soon = timezone.now() + REFRESH_AHEAD
    sources: tuple[tuple[ConnectionModel, type[ConnectionTokenSource]], ...] = (
        (QuickBooksConnection, QuickBooksTokenSource),
        (ConstantContactConnection, ConstantContactTokenSource),
    )
    for model, source in sources:
        expiring = model.objects.filter(
            state=model.State.CONNECTED,
            tenant__state=Tenant.State.CONNECTED,
            access_expires_at__lt=soon,
        ).select_related("tenant")
        for connection in expiring:
            try:
                source(tenant=connection.tenant).renew(rejected=connection.access_token)
            except (
                ConnectionUnavailable,
                qb_errors.QuickBooksError,
                cc_errors.ConstantContactError,
            ):
                # Broken grants are recorded by the token source; passing errors retry later.
                logger.warning("token refresh failed: tenant=%s", connection.tenant_id)


def warn_of_expiring_grants() -> int:
    """Each company whose QuickBooks grant ends within EXPIRY_WARNING gets its warning (a
    banner shows meanwhile; tenants.email_quickbooks_expiring emails its people), once per
    grant: the expiry warned of is claimed by a conditional update, so beat's runs, even
    two at once, send one. Returns how many companies were warned."""
    due = (
        QuickBooksConnection.objects.filter(
            state=QuickBooksConnection.State.CONNECTED,
            tenant__state=Tenant.State.CONNECTED,
            hard_expires_at__lte=timezone.now() + EXPIRY_WARNING,
        )
        .exclude(expiry_warned_for=F("hard_expires_at"))
        .values_list("pk", "tenant_id", "hard_expires_at")
    )
    warned = 0
    for pk, tenant_id, expires_at in due:
        claimed = (
            QuickBooksConnection.objects.filter(pk=pk, hard_expires_at=expires_at)
            .exclude(expiry_warned_for=expires_at)
            .update(expiry_warned_for=expires_at)
        )
        if claimed:
            warned += 1
            logger.info("quickbooks grant expiring: tenant=%s on=%s", tenant_id, expires_at)
            jobs.enqueue("tenants.email_quickbooks_expiring", tenant_id)
    return warned

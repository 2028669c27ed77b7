"""A provider refused the app during a run or a check of beat's: its connection is marked
broken (the reconnect banner, the email), as a refused token refresh does."""

from ccsync.sync.errors import broken_message
from integrations.constantcontact import errors as cc_errors
from integrations.quickbooks import errors as qb_errors
from tenants import selectors as tenant_selectors
from tenants.models import Connection, Tenant
from tenants.tokens import ConnectionUnavailable, mark_broken, quickbooks_refused


def connection_refused(*, tenant: Tenant, error: Exception) -> str:
    """A provider refused the app (one of errors.BROKEN): its connection is marked broken.
    Returns the message."""
    message = broken_message(error)
    no_record_yet = not isinstance(
        error, ConnectionUnavailable | qb_errors.InvalidGrant | cc_errors.InvalidGrant
    )  # the token source records those itself
    if no_record_yet:
        connection: Connection | None = (
            tenant_selectors.quickbooks_connection(tenant=tenant)
            if isinstance(error, qb_errors.QuickBooksError)
            else tenant_selectors.constantcontact_connection(tenant=tenant)
        )
        if connection is not None and connection.is_connected:
            # QuickBooks refusing new tokens too (401 after a refresh): Intuit ended the grant.
            refused = (
                quickbooks_refused if isinstance(error, qb_errors.Unauthorized) else mark_broken
            )
            refused(connection, reason=message)
    return message

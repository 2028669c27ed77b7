"""Provider clients for a tenant, wired to its stored, self-refreshing tokens.

Without a `before_request` hook of the caller's, every call waits its turn in the app's
shared rate limiter: Constant Contact's 4 requests a second count the web pages' calls too.
Every answer is counted for the metrics, and a 429 throttled from Constant Contact all the
same slows every process of the app for a moment (the limiter's hold), not just the caller.
"""

from ccsync.base import counters
from integrations.constantcontact import errors as cc_errors
from integrations.constantcontact.client import ConstantContactClient
from integrations.http import BeforeRequest, ProviderError
from integrations.limiter import get_limiter
from integrations.quickbooks.client import QuickBooksClient
from integrations.tokens import TokenSource
from tenants.models import Tenant
from tenants.tokens import ConstantContactTokenSource, QuickBooksTokenSource


def _answered(
    provider: str, endpoint: str, status: int | None, error: ProviderError | None
) -> None:
    counters.provider_answered(provider, endpoint, status)
    # Only the app-wide throttle holds every company back: an account's full queue of bulk
    # activities is that account's alone (the run that met it waits).
    if isinstance(error, cc_errors.Throttled):
        get_limiter().constantcontact_throttled()


def quickbooks_client(
    *, tenant: Tenant, before_request: BeforeRequest | None = None
) -> QuickBooksClient:
    return quickbooks_company_client(
        realm_id=tenant.realm_id,
        tokens=QuickBooksTokenSource(tenant=tenant),
        before_request=before_request,
    )


def quickbooks_company_client(
    *, realm_id: str, tokens: TokenSource, before_request: BeforeRequest | None = None
) -> QuickBooksClient:
    """A client for `realm_id` with the given tokens (new ones, read before they are saved)."""
    return QuickBooksClient(
        realm_id=realm_id,
        tokens=tokens,
        before_request=before_request or get_limiter().quickbooks_hook(realm_id=realm_id),
        after_response=_answered,
    )


def constantcontact_client(
    *,
    tenant: Tenant,
    before_request: BeforeRequest | None = None,
    tokens: TokenSource | None = None,
) -> ConstantContactClient:
    """`tokens` replaces the stored ones (new tokens, read before they are saved)."""
    return ConstantContactClient(
        tokens=tokens or ConstantContactTokenSource(tenant=tenant),
        before_request=before_request or get_limiter().constantcontact_hook(tenant=str(tenant.pk)),
        after_response=_answered,
    )

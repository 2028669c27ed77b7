"""Provider clients for a tenant, wired to its stored, self-refreshing tokens.

Without a `before_request` hook of the caller's, every call waits its turn in the app's
shared rate limiter: Constant Contact's 4 requests a second count the web pages' calls too.
"""

import time
from collections.abc import Callable
from types import GeneratorType
from typing import Any, cast

from ccsync.sync.limiter import get_limiter
from integrations.constantcontact import errors as cc_errors
from integrations.constantcontact.client import ConstantContactClient
from integrations.quickbooks.client import QuickBooksClient
from integrations.tokens import TokenSource
from tenants.models import Tenant
from tenants.tokens import ConstantContactTokenSource, IntuitTokenSource

BeforeRequest = Callable[[str], None]
THROTTLE_BACKOFF = (1.0, 2.0, 4.0)


class _Patient:
    """A Constant Contact client that waits and tries again after a 429 throttled (it comes
    without a Retry-After, and our limiter's window and theirs never line up exactly);
    anything else, and a throttle that lasts, goes to the caller."""

    def __init__(self, client: ConstantContactClient) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._client, name)

        def patiently(*args: Any, **kwargs: Any) -> Any:
            for delay in (*THROTTLE_BACKOFF, None):
                try:
                    result = method(*args, **kwargs)
                    return list(result) if isinstance(result, GeneratorType) else result
                except cc_errors.Throttled:
                    if delay is None:
                        raise
                    time.sleep(delay)
            raise AssertionError("unreachable")

        return patiently


def quickbooks_client(
    *, tenant: Tenant, before_request: BeforeRequest | None = None
) -> QuickBooksClient:
    return QuickBooksClient(
        realm_id=tenant.realm_id,
        tokens=IntuitTokenSource(tenant=tenant),
        before_request=before_request or get_limiter().quickbooks_hook(realm_id=tenant.realm_id),
    )


def constantcontact_client(
    *,
    tenant: Tenant,
    before_request: BeforeRequest | None = None,
    tokens: TokenSource | None = None,
) -> ConstantContactClient:
    """`tokens` replaces the stored ones (new tokens, read before they are saved)."""
    client = ConstantContactClient(
        tokens=tokens or ConstantContactTokenSource(tenant=tenant),
        before_request=before_request or get_limiter().constantcontact_hook(tenant=str(tenant.pk)),
    )
    return cast(ConstantContactClient, _Patient(client))

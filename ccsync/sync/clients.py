"""A tenant's two provider clients as the sync uses them: behind the shared limiter (4
Constant Contact calls a second for the whole app, QuickBooks' per-company limits), each
call counted for the run that makes it."""

from collections import Counter
from collections.abc import Callable

from integrations.constantcontact.client import ConstantContactClient
from integrations.limiter import get_limiter
from integrations.quickbooks.client import QuickBooksClient
from tenants.clients import constantcontact_client, quickbooks_client
from tenants.models import Tenant


def _counting(provider: str, acquire: Callable[[str], None], calls: Counter[str]):
    def before_request(endpoint: str) -> None:
        acquire(endpoint)
        calls[provider] += 1

    return before_request


def clients_for(
    *, tenant: Tenant, calls: Counter[str]
) -> tuple[QuickBooksClient, ConstantContactClient]:
    """Both clients of a tenant, behind the shared limiter, counting their calls."""
    limiter = get_limiter()
    qb_hook = limiter.quickbooks_hook(realm_id=tenant.realm_id)
    cc_hook = limiter.constantcontact_hook(tenant=str(tenant.pk))
    return (
        quickbooks_client(tenant=tenant, before_request=_counting("quickbooks", qb_hook, calls)),
        constantcontact_client(
            tenant=tenant, before_request=_counting("constantcontact", cc_hook, calls)
        ),
    )

"""A tenant's sync bookkeeping that outlives runs (TenantSync): its row, made on demand."""

from typing import Any

from django.db.models import Q

from ccsync.sync.models import TenantSync
from tenants.models import Tenant


def sync_state(*, tenant: Tenant) -> TenantSync:
    state, _ = TenantSync.objects.get_or_create(tenant=tenant)
    return state


def update_tenant_sync(*, tenant_id: int, where: Q, **values: Any) -> int:
    """A conditional UPDATE of the tenant's sync state, its row made first if it has none.

    One query on the webhook path's usual case, where get_or_create would cost two."""
    updated = TenantSync.objects.filter(where, tenant_id=tenant_id).update(**values)
    if updated or TenantSync.objects.filter(tenant_id=tenant_id).exists():
        return updated
    TenantSync.objects.get_or_create(tenant_id=tenant_id)
    return TenantSync.objects.filter(where, tenant_id=tenant_id).update(**values)

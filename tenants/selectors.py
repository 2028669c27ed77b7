"""Reads about tenants, scoped to the people allowed to see them."""

from datetime import datetime

from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db.models import QuerySet
from django.utils import timezone

from tenants.clients import constantcontact_client
from tenants.models import (
    ConstantContactConnection,
    ListSelection,
    QuickBooksConnection,
    SalesData,
    Tenant,
    User,
)
from tenants.tokens import EXPIRY_WARNING

# Constant Contact allows 10,000 calls a day for the whole app: list reads are cached and
# the Settings page's refresh button asks again.
LISTS_CACHE_SECONDS = 300


def tenants_for(*, user: User | AnonymousUser) -> QuerySet[Tenant]:
    if not user.is_authenticated:
        return Tenant.objects.none()
    return Tenant.objects.filter(membership__user=user)


def tenant_for(*, user: User | AnonymousUser, tenant_id: object) -> Tenant | None:
    """The tenant with this id if the user is a member of it, else None."""
    try:
        pk = int(str(tenant_id))
    except ValueError:
        return None
    return tenants_for(user=user).filter(pk=pk).first()


def quickbooks_connection(*, tenant: Tenant) -> QuickBooksConnection | None:
    return QuickBooksConnection.objects.filter(tenant=tenant).first()


def constantcontact_connection(*, tenant: Tenant) -> ConstantContactConnection | None:
    return ConstantContactConnection.objects.filter(tenant=tenant).first()


def quickbooks_expiring(*, tenant: Tenant) -> datetime | None:
    """When Intuit ends the company's QuickBooks grant, if that is within EXPIRY_WARNING
    and the company is connected: the reconnect banner's date."""
    if not tenant.is_connected:
        return None
    return (
        QuickBooksConnection.objects.filter(
            tenant=tenant,
            state=QuickBooksConnection.State.CONNECTED,
            hard_expires_at__lte=timezone.now() + EXPIRY_WARNING,
        )
        .values_list("hard_expires_at", flat=True)
        .first()
    )


def current_list(*, tenant: Tenant) -> ListSelection | None:
    """The list new contacts go to: the newest choice."""
    return ListSelection.objects.filter(tenant=tenant).order_by("-chosen_at", "-id").first()


def earlier_lists(*, tenant: Tenant, limit: int = 10) -> list[ListSelection]:
    """The lists synced to before, newest choice first, each once; never the current list
    (it may have been chosen before too: A, then B, then A again)."""
    current = current_list(tenant=tenant)
    seen = {current.list_id} if current else set()
    earlier = []
    for selection in ListSelection.objects.filter(tenant=tenant).order_by("-chosen_at", "-id"):
        if selection.list_id not in seen:
            seen.add(selection.list_id)
            earlier.append(selection)
            if len(earlier) == limit:
                break
    return earlier


def needs_first_sync(*, tenant: Tenant) -> bool:
    """No list has been chosen since this install began: Connect starts the first sync."""
    return not ListSelection.objects.filter(
        tenant=tenant, chosen_at__gte=tenant.installed_at
    ).exists()


def _lists_cache_key(tenant: Tenant) -> str:
    return f"cc-lists:{tenant.pk}"


def constantcontact_lists(*, tenant: Tenant, refresh: bool = False) -> list[dict[str, str]]:
    """Every list of the tenant's Constant Contact account as {list_id, name}, by name."""
    key = _lists_cache_key(tenant)
    lists = None if refresh else cache.get(key)
    if lists is None:
        lists = sorted(
            (
                {"list_id": str(item["list_id"]), "name": str(item.get("name", ""))}
                for item in constantcontact_client(tenant=tenant).all_lists()
            ),
            key=lambda item: item["name"].casefold(),
        )
        cache.set(key, lists, LISTS_CACHE_SECONDS)
    return lists


def forget_constantcontact_lists(*, tenant: Tenant) -> None:
    cache.delete(_lists_cache_key(tenant))


def sales_data(*, tenant: Tenant) -> SalesData | None:
    return SalesData.objects.filter(tenant=tenant).first()

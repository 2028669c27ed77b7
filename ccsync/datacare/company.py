"""Everything held about one QuickBooks company (a realm id): exported, or erased.

A data-subject or partner request names the company; the tenant is the root of all we hold
about it (every stored row hangs off it), plus the people who act for it and the admin's
log of changes to it.
"""

import logging
from dataclasses import dataclass
from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from ccsync.datacare import describe_counts
from ccsync.sync import lifecycle
from ccsync.sync.models import CustomerRecord, Run, TenantSync, UnsubscribedAddress, WebhookEvent
from tenants import selectors
from tenants.models import (
    ConnectionModel,
    ConstantContactConnection,
    ListSelection,
    Membership,
    QuickBooksConnection,
    Tenant,
    User,
)

logger = logging.getLogger(__name__)

# Named fields only, so that nothing added later leaks by default: a connection is exported
# by its state and expiry, never a token (encrypted or not); a person never by password.
CONNECTION_FIELDS = (
    "state",
    "reason",
    "connected_at",
    "refreshed_at",
    "access_expires_at",
    "refresh_expires_at",
    "updated_at",
)
CONSTANTCONTACT_FIELDS = (*CONNECTION_FIELDS, "account_id", "account_name")
PERSON_FIELDS = (
    "id",
    "username",
    "email",
    "first_name",
    "last_name",
    "intuit_sub",
    "date_joined",
    "last_login",
)
ERASED_REASON = "Erased on request."


class CompanyNotFound(Exception):
    """Nothing is held about this realm id."""


@dataclass(frozen=True)
class Erasure:
    realm_id: str
    tenant_id: int
    counts: dict[str, int]  # rows by kind: erased, or that would be in a dry run
    erased: bool


def find_tenant(*, realm_id: str) -> Tenant:
    tenant = Tenant.objects.filter(realm_id=realm_id).first()
    if tenant is None:
        raise CompanyNotFound(f"No QuickBooks company with realm id {realm_id} is held.")
    return tenant


def _values(obj: models.Model, names: tuple[str, ...] | None = None) -> dict[str, Any]:
    names = names or tuple(field.attname for field in obj._meta.concrete_fields)
    return {name: getattr(obj, name) for name in names}


def _rows(queryset: models.QuerySet) -> list[dict[str, Any]]:
    return [_values(obj) for obj in queryset.order_by("pk").iterator(chunk_size=2000)]


def _connection(model: ConnectionModel, tenant: Tenant, names: tuple[str, ...]) -> dict | None:
    connection = model.objects.filter(tenant=tenant).first()
    return _values(connection, names) if connection is not None else None


def export_company(*, realm_id: str) -> dict[str, Any]:
    """Everything held about the company, as JSON-ready data (datetimes as such)."""
    tenant = find_tenant(realm_id=realm_id)
    memberships = Membership.objects.filter(tenant=tenant).select_related("user").order_by("pk")
    state = TenantSync.objects.filter(tenant=tenant).first()
    data = {
        "realm_id": tenant.realm_id,
        "exported_at": timezone.now(),
        "tenant": _values(tenant),
        # The people who act for the company: their own details are part of what we hold.
        "members": [
            {
                **_values(membership.user, PERSON_FIELDS),
                "member_since": membership.created_at,
                "last_signed_in_at": membership.last_signed_in_at,
            }
            for membership in memberships
        ],
        "connections": {
            "quickbooks": _connection(QuickBooksConnection, tenant, CONNECTION_FIELDS),
            "constantcontact": _connection(
                ConstantContactConnection, tenant, CONSTANTCONTACT_FIELDS
            ),
        },
        "lists": _rows(ListSelection.objects.filter(tenant=tenant)),
        "sync_state": _values(state) if state is not None else None,
        "runs": _rows(Run.objects.filter(tenant=tenant)),
        "customers": _rows(CustomerRecord.objects.filter(tenant=tenant)),
        "webhook_events": _rows(WebhookEvent.objects.filter(tenant=tenant)),
        "unsubscribed_addresses": _rows(UnsubscribedAddress.objects.filter(tenant=tenant)),
    }
    counts = {key: len(value) for key, value in data.items() if isinstance(value, list)}
    logger.info(
        "company exported: realm=%s tenant=%s %s",
        tenant.realm_id,
        tenant.pk,
        describe_counts(counts),
    )
    return data


def _people_only_here(tenant: Tenant) -> models.QuerySet[User]:
    """The company's people who act for no other company (operators' accounts excepted)."""
    elsewhere = Membership.objects.exclude(tenant=tenant).values("user_id")
    return User.objects.filter(
        membership__tenant=tenant, is_staff=False, is_superuser=False
    ).exclude(pk__in=elsewhere)


def _admin_log(tenant: Tenant) -> models.QuerySet[LogEntry]:
    """The admin's record of changes to the tenant and to anything named after it."""
    named = rf"(^|[^0-9]){tenant.realm_id}([^0-9]|$)"
    return LogEntry.objects.filter(
        Q(content_type=ContentType.objects.get_for_model(Tenant), object_id=str(tenant.pk))
        | Q(object_repr__regex=named)
    )


def _held(tenant: Tenant) -> dict[str, models.QuerySet]:
    return {
        "tenant": Tenant.objects.filter(pk=tenant.pk),
        "memberships": Membership.objects.filter(tenant=tenant),
        "people": _people_only_here(tenant),
        "quickbooks_connection": QuickBooksConnection.objects.filter(tenant=tenant),
        "constantcontact_connection": ConstantContactConnection.objects.filter(tenant=tenant),
        "lists": ListSelection.objects.filter(tenant=tenant),
        "sync_state": TenantSync.objects.filter(tenant=tenant),
        "runs": Run.objects.filter(tenant=tenant),
        "customers": CustomerRecord.objects.filter(tenant=tenant),
        "webhook_events": WebhookEvent.objects.filter(tenant=tenant),
        "unsubscribed_addresses": UnsubscribedAddress.objects.filter(tenant=tenant),
        "admin_log_entries": _admin_log(tenant),
    }


def _holds_tokens(tenant: Tenant) -> bool:
    tokens = ~Q(access_token_encrypted="") | ~Q(refresh_token_encrypted="")
    return any(
        model.objects.filter(tokens, tenant=tenant).exists()
        for model in (QuickBooksConnection, ConstantContactConnection)
    )


def erase_company(*, realm_id: str, dry_run: bool) -> Erasure:
    """Erase everything held about the company: the tenant and all that hangs off it, its
    people who act for no other company, and the admin's log of it.

    A company still connected is disconnected first, so both providers' grants are revoked
    (best effort) rather than left behind. `dry_run` only counts."""
    tenant = find_tenant(realm_id=realm_id)
    tenant_id = tenant.pk
    counts = {name: queryset.count() for name, queryset in _held(tenant).items()}
    if not dry_run:
        if tenant.is_connected or _holds_tokens(tenant):
            lifecycle.disconnect(tenant=tenant, reason=ERASED_REASON)
        with transaction.atomic():
            locked = Tenant.objects.select_for_update().get(pk=tenant_id)
            held = _held(locked)
            held["admin_log_entries"].delete()
            held["people"].delete()
            locked.delete()  # everything else cascades
        selectors.forget_constantcontact_lists(tenant=tenant)
    logger.info(
        "company %s: realm=%s tenant=%s %s",
        "erase dry run" if dry_run else "erased",
        realm_id,
        tenant_id,
        describe_counts(counts),
    )
    return Erasure(realm_id=realm_id, tenant_id=tenant_id, counts=counts, erased=not dry_run)

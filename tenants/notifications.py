"""Telling a company's people, by email, that syncing has stopped (docs/product.md: a broken
connection is never a silent stop), or will stop unless they reconnect QuickBooks."""

from django.conf import settings
from django.core.mail import send_mass_mail
from django.template.loader import render_to_string
from django.urls import reverse

from tenants.models import (
    ConnectionModel,
    ConstantContactConnection,
    QuickBooksConnection,
    Tenant,
    User,
    model_name,
)

# By model name (what a task carries): the provider's name and where it is reconnected.
PROVIDERS: dict[str, tuple[ConnectionModel, str, str]] = {
    model_name(QuickBooksConnection): (QuickBooksConnection, "QuickBooks", "reconnect"),
    model_name(ConstantContactConnection): (
        ConstantContactConnection,
        "Constant Contact",
        "constantcontact_connect",
    ),
}


def email_connection_broken(*, tenant_id: int, connection_model: str) -> int:
    """Email each person of the company that this connection broke, with the link that
    reconnects it; nothing if it was reconnected or the company disconnected meanwhile.
    One message per person: nobody sees another's address. Returns how many were sent."""
    model, provider, reconnect = PROVIDERS[connection_model]
    tenant = Tenant.objects.filter(pk=tenant_id, state=Tenant.State.CONNECTED).first()
    connection = model.objects.filter(tenant_id=tenant_id).first()
    if tenant is None or connection is None or not connection.is_broken:
        return 0
    context = {
        "company": tenant.company_name or "your QuickBooks company",
        "provider": provider,
        "reason": connection.reason,
        "reconnect_url": settings.PUBLIC_BASE_URL + reverse(reconnect),
        "status_url": settings.PUBLIC_BASE_URL + reverse("status"),
    }
    return _email_people(tenant=tenant, template="connection_broken", context=context)


def email_quickbooks_expiring(*, tenant_id: int) -> int:
    """Email each person of the company the day Intuit ends the app's QuickBooks grant,
    with the Reconnect URL; nothing if it was reconnected (a later day) or the company
    disconnected meanwhile. Returns how many were sent."""
    connection = (
        QuickBooksConnection.objects.filter(
            tenant_id=tenant_id,
            tenant__state=Tenant.State.CONNECTED,
            state=QuickBooksConnection.State.CONNECTED,
        )
        .select_related("tenant")
        .first()
    )
    expires_at = connection.hard_expires_at if connection else None
    if connection is None or expires_at is None or expires_at != connection.expiry_warned_for:
        return 0
    context = {
        "company": connection.tenant.company_name or "your QuickBooks company",
        "expires_on": expires_at,
        "reconnect_url": settings.PUBLIC_BASE_URL + reverse("reconnect"),
    }
    return _email_people(tenant=connection.tenant, template="quickbooks_expiring", context=context)


def _email_people(*, tenant: Tenant, template: str, context: dict) -> int:
    """One message per person of the company: nobody sees another's address."""
    addresses = (
        User.objects.filter(membership__tenant=tenant, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
    )
    subject = render_to_string(f"emails/{template}_subject.txt", context).strip()
    body = render_to_string(f"emails/{template}.txt", context)
    return send_mass_mail(
        [(subject, body, settings.DEFAULT_FROM_EMAIL, [address]) for address in addresses]
    )

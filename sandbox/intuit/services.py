"""Intuit's App Store bookkeeping for the sandbox: identities and companies, the registered
app, and the companies' connections to it (what My Apps lists and webhooks go to)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from sandbox.common import check_password, hash_password
from sandbox.intuit.models import App, Company, Connection, IntuitUser, Token


@dataclass(frozen=True)
class WebhookTarget:
    url: str
    verifier_token: str


# Identities


def set_password(*, user: IntuitUser, password: str) -> None:
    user.password = hash_password(password)


def authenticate(*, email: str, password: str) -> IntuitUser | None:
    user = IntuitUser.objects.filter(email__iexact=email.strip()).first()
    if user is None:
        hash_password(password)  # same cost whether the email exists or not
        return None
    return user if check_password(password, user.password) else None


def new_company(*, name: str) -> Company:
    while True:
        company = Company(name=name)
        if not Company.objects.filter(realm_id=company.realm_id).exists():
            company.save()
            return company


# The registered app


def registered_app() -> App:
    """The app of settings.SANDBOX_INTUIT_CLIENT_ID, registered on first use."""
    base = settings.SANDBOX_APP_BASE_URL
    app, _ = App.objects.get_or_create(
        client_id=settings.SANDBOX_INTUIT_CLIENT_ID,
        defaults={
            "client_secret": settings.SANDBOX_INTUIT_CLIENT_SECRET,
            "name": "Constant Contact for QuickBooks Online",
            "slug": "constant-contact-for-quickbooks-online",
            "description": (
                "Use Constant Contact for QuickBooks Online to automatically synchronize your "
                "customer or donor information between your QuickBooks Online account and "
                "your Constant Contact account. As customers are added, or their information "
                "updated in QuickBooks Online, the Constant Contact list will also update - "
                "automatically."
            ),
            "connect_url": f"{base}/connect/",
            "launch_url": f"{base}/launch/",
            "settings_url": f"{base}/settings/",
            "disconnect_url": f"{base}/disconnect/",
            "reconnect_url": f"{base}/reconnect/",
            "support_url": f"{base}/help/",
            "redirect_uris": [f"{base}/auth/intuit/callback/"],
            "webhook_url": f"{base}/webhooks/quickbooks/",
            "webhook_verifier_token": settings.SANDBOX_WEBHOOK_VERIFIER_TOKEN,
        },
    )
    if not app.reconnect_url:  # registered before the setting existed
        app.reconnect_url = f"{base}/reconnect/"
        app.save(update_fields=["reconnect_url"])
    return app


EDITABLE_APP_FIELDS = (
    "connect_url",
    "launch_url",
    "settings_url",
    "disconnect_url",
    "reconnect_url",
    "support_url",
    "redirect_uris",
    "webhook_url",
    "webhook_verifier_token",
)


def app_registration(*, app: App) -> dict[str, Any]:
    return {
        "client_id": app.client_id,
        "name": app.name,
        "slug": app.slug,
        **{field: getattr(app, field) for field in EDITABLE_APP_FIELDS},
    }


def update_app(*, app: App, changes: dict[str, Any]) -> App:
    unknown = set(changes) - set(EDITABLE_APP_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {', '.join(sorted(unknown))}")
    for field, value in changes.items():
        if field == "redirect_uris":
            if not isinstance(value, list) or not all(isinstance(uri, str) for uri in value):
                raise ValueError("redirect_uris takes a list of URLs")
        elif not isinstance(value, str):
            raise ValueError(f"{field} takes a string")
        setattr(app, field, value)
    app.save()
    return app


def app_for_client(*, client_id: str) -> App | None:
    registered_app()
    return App.objects.filter(client_id=client_id).first()


def search_apps(*, query: str) -> QuerySet[App]:
    registered_app()
    apps = App.objects.order_by("name")
    for word in query.split():
        apps = apps.filter(Q(name__icontains=word) | Q(description__icontains=word))
    return apps


# Connections


def _live_connections(*, now: datetime) -> QuerySet[Connection]:
    return Connection.objects.filter(
        grants__revoked_at=None,
        grants__tokens__kind=Token.REFRESH,
        grants__tokens__rotated_at=None,
        grants__tokens__expires_at__gt=now,
    ).distinct()


def connected_apps(*, company: Company | None) -> list[App]:
    """Apps that hold a live connection to the company (what My Apps lists); none while
    no company is chosen."""
    live = _live_connections(now=timezone.now()).filter(company=company)
    return list(App.objects.filter(connections__in=live).distinct().order_by("name"))


def connection_states(*, realm_id: str) -> list[dict[str, Any]]:
    live = set(_live_connections(now=timezone.now()).values_list("pk", flat=True))
    return [
        {"client_id": connection.app.client_id, "live": connection.pk in live}
        for connection in Connection.objects.select_related("app").filter(
            company__realm_id=realm_id
        )
    ]


def revoke_connection(*, connection: Connection) -> None:
    connection.grants.filter(revoked_at=None).update(revoked_at=timezone.now())


def disconnect(*, app: App, company: Company) -> None:
    """My Apps' Disconnect: the app's tokens for this company stop working."""
    for connection in Connection.objects.filter(app=app, company=company):
        revoke_connection(connection=connection)


def webhook_targets(*, realm_id: str) -> list[WebhookTarget]:
    """Apps that hold a live connection to the realm and have a webhook URL."""
    live = _live_connections(now=timezone.now()).filter(company__realm_id=realm_id)
    apps = App.objects.filter(connections__in=live).exclude(webhook_url="").distinct()
    return [
        WebhookTarget(url=app.webhook_url, verifier_token=app.webhook_verifier_token)
        for app in apps.order_by("pk")
    ]

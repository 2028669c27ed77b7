"""Intuit's side of the sandbox: identities, companies, the registered app and its grants."""

import secrets
import uuid

from django.db import models
from django.utils import timezone


def new_sub() -> str:
    return str(uuid.uuid4())


def new_realm_id() -> str:
    # Production realm ids are 16-19 digits; the first is never 0.
    return str(secrets.randbelow(9 * 10**15) + 10**15)


class IntuitUser(models.Model):
    """A person's Intuit identity: signs in to QuickBooks and authorizes apps."""

    email = models.EmailField(unique=True)
    password = models.CharField(max_length=255)
    given_name = models.CharField(max_length=100, blank=True)
    family_name = models.CharField(max_length=100, blank=True)
    sub = models.CharField(max_length=64, unique=True, default=new_sub)

    def __str__(self) -> str:
        return f"user {self.sub}"


class Company(models.Model):
    """A QuickBooks Online company; `realm_id` is what the app and the API call it."""

    realm_id = models.CharField(max_length=20, unique=True, default=new_realm_id)
    name = models.CharField(max_length=200)
    members = models.ManyToManyField(IntuitUser, related_name="companies")

    class Meta:
        verbose_name_plural = "companies"

    def __str__(self) -> str:
        return f"{self.name} ({self.realm_id})"


class App(models.Model):
    """An app registered with Intuit and listed on the App Store."""

    client_id = models.CharField(max_length=100, unique=True)
    client_secret = models.CharField(max_length=200)
    name = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    description = models.TextField(blank=True)
    connect_url = models.URLField(max_length=500)
    launch_url = models.URLField(max_length=500)
    settings_url = models.URLField(max_length=500)
    disconnect_url = models.URLField(max_length=500)
    # Mandatory since January 2026: where a company's people reconnect the app.
    reconnect_url = models.URLField(max_length=500, blank=True)
    support_url = models.URLField(max_length=500, blank=True)
    redirect_uris = models.JSONField(default=list)
    webhook_url = models.URLField(max_length=500, blank=True)
    webhook_verifier_token = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return self.name


class Connection(models.Model):
    """A company's connection to an app: live while one of its grants is."""

    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="connections")
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="connections")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["app", "company"], name="one_connection_per_app")
        ]

    def __str__(self) -> str:
        return f"{self.app} - {self.company}"


class AuthorizationCode(models.Model):
    """What the authorize page hands the app's redirect URI; exchanged once for tokens.

    Without the accounting scope (a sign-in only) no company is connected: no connection.
    """

    digest = models.CharField(max_length=64, unique=True)
    app = models.ForeignKey(App, on_delete=models.CASCADE)
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, null=True, blank=True)
    user = models.ForeignKey(IntuitUser, on_delete=models.CASCADE)
    scope = models.CharField(max_length=500)
    redirect_uri = models.URLField(max_length=500)
    auth_time = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"code for {self.connection or self.app}"


class Grant(models.Model):
    """One authorization (one code exchange) and the chain of tokens refreshed from it;
    a sign-in only (OpenID scopes) connects no company."""

    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="grants")
    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, related_name="grants", null=True, blank=True
    )
    user = models.ForeignKey(IntuitUser, on_delete=models.CASCADE)
    scope = models.CharField(max_length=500)
    auth_time = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    # Refresh tokens roll, but never past this (Intuit: five years).
    hard_expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"grant on {self.connection or self.app}"

    @property
    def scopes(self) -> set[str]:
        return set(self.scope.split())


class Token(models.Model):
    """An access or refresh token; only its SHA-256 digest is stored."""

    ACCESS = "access"
    REFRESH = "refresh"
    KINDS = [(ACCESS, "access"), (REFRESH, "refresh")]

    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="tokens")
    kind = models.CharField(max_length=10, choices=KINDS)
    digest = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    # A refresh token works once: this is set when it is exchanged for a new one.
    rotated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.kind} token of {self.grant}"


class SigningKey(models.Model):
    """The RSA key that signs ID tokens; generated once and published in the JWKS."""

    kid = models.CharField(max_length=64, unique=True)
    private_pem = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"signing key {self.kid}"

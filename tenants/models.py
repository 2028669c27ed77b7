from typing import TypeAlias

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone

from tenants import crypto


class User(AbstractUser):
    """A person who signs in with Intuit single sign-on; `intuit_sub` is their OpenID subject."""

    intuit_sub = models.CharField(max_length=255, unique=True, null=True, blank=True)


class Tenant(models.Model):
    """One QuickBooks Online company (realmId) that installed the app."""

    class State(models.TextChoices):
        CONNECTED = "connected", "Connected"
        DISCONNECTED = "disconnected", "Disconnected"

    realm_id = models.CharField("realm id", max_length=32, unique=True)
    company_name = models.CharField(max_length=255, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.CONNECTED)
    # The sync engine skips paused tenants (the user's Pause button).
    paused = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # Start of the current install: a list chosen before it belongs to an earlier install.
    installed_at = models.DateTimeField(default=timezone.now)
    disconnected_at = models.DateTimeField(null=True, blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="tenants"
    )

    class Meta:
        ordering = ["company_name", "realm_id"]

    def __str__(self) -> str:
        return f"{self.company_name or 'QuickBooks company'} ({self.realm_id})"

    @property
    def is_connected(self) -> bool:
        return self.state == self.State.CONNECTED


class Membership(models.Model):
    """A person who may act for a company (accountants reach several)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    created_at = models.DateTimeField(auto_now_add=True)
    last_signed_in_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "tenant"], name="unique_membership"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.tenant}"


class Connection(models.Model):
    """OAuth tokens for one provider, encrypted at rest; read them through the properties."""

    class State(models.TextChoices):
        CONNECTED = "connected", "Connected"
        BROKEN = "broken", "Broken"
        DISCONNECTED = "disconnected", "Disconnected"

    state = models.CharField(max_length=16, choices=State.choices, default=State.CONNECTED)
    # Why the connection broke or ended, in words fit for the user and the operator.
    reason = models.CharField(max_length=255, blank=True)
    access_token_encrypted = models.TextField(blank=True, editable=False)
    refresh_token_encrypted = models.TextField(blank=True, editable=False)
    access_expires_at = models.DateTimeField(null=True, blank=True)
    refresh_expires_at = models.DateTimeField(null=True, blank=True)
    connected_at = models.DateTimeField(default=timezone.now)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Each concrete connection declares its tenant; typed here for code that takes either kind.
    tenant: Tenant
    tenant_id: int

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} of {self.tenant} ({self.state})"

    @property
    def access_token(self) -> str:
        return crypto.decrypt(self.access_token_encrypted)

    @access_token.setter
    def access_token(self, value: str) -> None:
        self.access_token_encrypted = crypto.encrypt(value)

    @property
    def refresh_token(self) -> str:
        return crypto.decrypt(self.refresh_token_encrypted)

    @refresh_token.setter
    def refresh_token(self, value: str) -> None:
        self.refresh_token_encrypted = crypto.encrypt(value)

    @property
    def is_connected(self) -> bool:
        return self.state == self.State.CONNECTED

    @property
    def is_broken(self) -> bool:
        return self.state == self.State.BROKEN

    def forget_tokens(self) -> None:
        self.access_token_encrypted = ""
        self.refresh_token_encrypted = ""
        self.access_expires_at = None
        self.refresh_expires_at = None


class QuickBooksConnection(Connection):
    """The app's grant to the company's QuickBooks Online data."""

    tenant = models.OneToOneField(
        Tenant, on_delete=models.CASCADE, related_name="quickbooks_connection"
    )
    # When Intuit ends the grant for good (five years after its consent), as Intuit's token
    # answer said; reconnecting gives a new grant and a new date. Null: not said.
    hard_expires_at = models.DateTimeField(null=True, blank=True)
    # The hard_expires_at its people were warned of (one warning per grant).
    expiry_warned_for = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "QuickBooks connection"

    def forget_tokens(self) -> None:
        super().forget_tokens()
        self.hard_expires_at = None


class ConstantContactConnection(Connection):
    """The app's grant to one Constant Contact account."""

    tenant = models.OneToOneField(
        Tenant, on_delete=models.CASCADE, related_name="constantcontact_connection"
    )
    account_id = models.CharField(max_length=64, blank=True)
    account_name = models.CharField(max_length=255, blank=True)

    class Meta:
        verbose_name = "Constant Contact connection"


class ListSelection(models.Model):
    """A Constant Contact list chosen for a tenant; the newest is current, older ones stay."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="list_selections")
    list_id = models.CharField(max_length=64)
    list_name = models.CharField(max_length=255)
    chosen_at = models.DateTimeField(default=timezone.now)
    chosen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["-chosen_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-chosen_at"])]

    def __str__(self) -> str:
        return f"{self.list_name} for {self.tenant}"


class SalesData(models.Model):
    """Settings' "Also send sales data for segmenting", the person's choice: off by default.
    When on, the facts chosen (tenants.sales_facts) go with each contact as Constant Contact
    custom fields, and each synced contact may get a tag. (What the sync knows of the
    Constant Contact account about it is its own: ccsync.sync.models.SalesDataState.)"""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="sales_data")
    enabled = models.BooleanField(default=False)
    facts = models.JSONField(default=list, blank=True)  # keys of tenants.sales_facts.FACTS
    tag_enabled = models.BooleanField(default=False)
    tag_name = models.CharField(max_length=255, blank=True)
    # When more was chosen (a fact, the tag): every synced contact is owed it.
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "sales data choice"

    def __str__(self) -> str:
        return f"sales data of {self.tenant}"


# Either concrete connection's model: queries need a concrete model (the abstract one has none).
ConnectionModel: TypeAlias = type[QuickBooksConnection] | type[ConstantContactConnection]


def model_name(model: type[models.Model]) -> str:
    """The model's `_meta.model_name` (what tasks and logs carry), set once the model exists:
    Django types it optional only for the moment before."""
    name = model._meta.model_name
    assert name is not None
    return name

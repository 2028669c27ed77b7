"""QuickBooks Online's customers, their change history and the webhook outbox.

Companies are keyed by `realm_id` (no foreign key to sandbox.intuit), so this app's tables
stand on their own.
"""

import uuid

from django.db import models


class CustomerSequence(models.Model):
    """The last customer Id handed out in a company: Ids are per company and only grow."""

    realm_id = models.CharField(max_length=20, unique=True)
    last_id = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"customer ids of {self.realm_id}"


class Customer(models.Model):
    """One QuickBooks Customer.

    `data` holds the editable properties in QuickBooks' own JSON shape (DisplayName,
    PrimaryEmailAddr, BillAddr, Active, Job, ParentRef, ...); the columns below copy the
    queryable ones out of it on every save, so queries run in the database. Deleted and
    merged-away customers stay as tombstones: CDC still has to report them.
    """

    LIVE = "live"
    DELETED = "deleted"
    MERGED = "merged"
    STATES = [(LIVE, "live"), (DELETED, "deleted"), (MERGED, "merged away")]

    realm_id = models.CharField(max_length=20)
    number = models.PositiveBigIntegerField()  # the Id, which the API spells as a string
    sync_token = models.PositiveIntegerField(default=0)
    data = models.JSONField(default=dict)
    state = models.CharField(max_length=10, choices=STATES, default=LIVE)
    merged_into = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()
    # Every change (including delete and merge) moves this: CDC's "changed since".
    updated_at = models.DateTimeField()

    active = models.BooleanField(default=True)
    display_name = models.CharField(max_length=500, blank=True)
    given_name = models.CharField(max_length=100, blank=True)
    family_name = models.CharField(max_length=100, blank=True)
    company_name = models.CharField(max_length=100, blank=True)
    email = models.CharField(max_length=100, blank=True)
    parent_number = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["realm_id", "number"], name="one_customer_per_id")
        ]
        indexes = [
            models.Index(fields=["realm_id", "state", "updated_at"]),
            models.Index(fields=["realm_id", "state", "created_at"]),
            models.Index(fields=["realm_id", "display_name"]),
        ]

    def __str__(self) -> str:
        return f"customer {self.number} of {self.realm_id}"

    def save(self, *args, **kwargs):
        self.copy_columns()
        super().save(*args, **kwargs)

    @property
    def customer_id(self) -> str:
        return str(self.number)

    @property
    def is_live(self) -> bool:
        return self.state == self.LIVE

    def copy_columns(self) -> None:
        """Refresh the queryable columns from `data`."""
        data = self.data
        self.active = bool(data.get("Active", True))
        self.display_name = data.get("DisplayName") or ""
        self.given_name = data.get("GivenName") or ""
        self.family_name = data.get("FamilyName") or ""
        self.company_name = data.get("CompanyName") or ""
        self.email = (data.get("PrimaryEmailAddr") or {}).get("Address") or ""
        parent = (data.get("ParentRef") or {}).get("value")
        self.parent_number = int(parent) if parent else None


class WebhookDelivery(models.Model):
    """One POST of gathered events to one app's webhook URL, retried until acknowledged."""

    target_url = models.URLField(max_length=500)
    verifier_token = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_status = models.IntegerField(null=True, blank=True)  # HTTP status, None if no answer
    last_error = models.CharField(max_length=200, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["delivered_at", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"webhook delivery {self.pk}"


class WebhookEvent(models.Model):
    """A customer change waiting for (or carried by) a delivery to one app.

    Recorded in the same transaction as the change, once per app subscribed to the
    company at that moment: the outbox.
    """

    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"
    MERGED = "merged"
    OPERATIONS = [
        (CREATED, "created"),
        (UPDATED, "updated"),
        (DELETED, "deleted"),
        (MERGED, "merged"),
    ]

    event_id = models.UUIDField(default=uuid.uuid4, unique=True)
    realm_id = models.CharField(max_length=20)
    customer_id = models.CharField(max_length=20)
    operation = models.CharField(max_length=10, choices=OPERATIONS)
    deleted_id = models.CharField(max_length=20, blank=True)  # merges: the merged-away Id
    occurred_at = models.DateTimeField()
    target_url = models.URLField(max_length=500)
    verifier_token = models.CharField(max_length=200)
    delivery = models.ForeignKey(
        WebhookDelivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )

    class Meta:
        indexes = [models.Index(fields=["target_url", "delivery"])]

    def __str__(self) -> str:
        return f"customer {self.operation} event {self.event_id}"

"""QuickBooks Online's customers, their sales transactions and customer types, their change
history and the webhook outbox.

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
    # Balance and BalanceWithJobs in cents, kept by the sales services (sandbox.quickbooks.sales).
    balance_cents = models.BigIntegerField(default=0)
    balance_with_jobs_cents = models.BigIntegerField(default=0)

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


class CustomerType(models.Model):
    """A CustomerType ("Wholesale", "Retail", ...): Customer.CustomerTypeRef names one."""

    realm_id = models.CharField(max_length=20)
    number = models.PositiveBigIntegerField()
    name = models.CharField(max_length=100)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["realm_id", "number"], name="one_customer_type_per_id")
        ]

    def __str__(self) -> str:
        return f"customer type {self.name} of {self.realm_id}"


class CompanyPreferences(models.Model):
    """What a company's Preferences and edition change in its reports: multicurrency (a
    TransactionList's amount column is then `subt_nat_home_amount`, figures in the home
    currency) and the language report texts are written in (ColData values and ColTitles
    "are localized")."""

    ENGLISH = "en"
    FRENCH = "fr"
    LANGUAGES = [(ENGLISH, "English"), (FRENCH, "French")]

    realm_id = models.CharField(max_length=20, unique=True)
    multicurrency = models.BooleanField(default=False)
    home_currency = models.CharField(max_length=3, default="USD")
    language = models.CharField(max_length=2, choices=LANGUAGES, default=ENGLISH)

    class Meta:
        verbose_name_plural = "company preferences"

    def __str__(self) -> str:
        return f"preferences of {self.realm_id}"


class TransactionSequence(models.Model):
    """The last transaction Id handed out in a company: every kind shares it."""

    realm_id = models.CharField(max_length=20, unique=True)
    last_id = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"transaction ids of {self.realm_id}"


class SalesTransaction(models.Model):
    """An Invoice, SalesReceipt, CreditMemo, RefundReceipt or Payment of one customer.

    Amounts are in cents of the transaction's currency; `exchange_rate` turns them into the
    home currency (1 for a home-currency customer). `subtotal_cents` is the lines before
    tax, `total_cents` (TotalAmt) lines plus tax. `balance_cents` is what is still open: of
    an invoice, what payments have not covered; of a credit memo, the credit not yet used;
    of a payment, the amount not applied to an invoice. A voided transaction keeps its row
    with every amount 0; a deleted one stays as a tombstone for CDC.
    """

    INVOICE = "Invoice"
    SALES_RECEIPT = "SalesReceipt"
    CREDIT_MEMO = "CreditMemo"
    REFUND_RECEIPT = "RefundReceipt"
    PAYMENT = "Payment"
    ENTITIES = [
        (INVOICE, "Invoice"),
        (SALES_RECEIPT, "Sales Receipt"),
        (CREDIT_MEMO, "Credit Memo"),
        (REFUND_RECEIPT, "Refund"),
        (PAYMENT, "Payment"),
    ]
    LIVE = "live"
    VOIDED = "voided"
    DELETED = "deleted"
    STATES = [(LIVE, "live"), (VOIDED, "voided"), (DELETED, "deleted")]

    realm_id = models.CharField(max_length=20)
    entity = models.CharField(max_length=20, choices=ENTITIES)
    number = models.PositiveBigIntegerField()
    sync_token = models.PositiveIntegerField(default=0)
    # None: a SalesReceipt or RefundReceipt without a customer (CustomerRef is optional).
    customer_number = models.PositiveBigIntegerField(null=True, blank=True)
    txn_date = models.DateField()
    doc_number = models.CharField(max_length=21, blank=True)
    subtotal_cents = models.BigIntegerField(default=0)
    tax_cents = models.BigIntegerField(default=0)
    total_cents = models.BigIntegerField(default=0)
    balance_cents = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3, default="USD")
    exchange_rate = models.DecimalField(max_digits=12, decimal_places=6, default=1)
    # A payment's invoice (the sandbox applies a payment to one invoice).
    applied_to = models.PositiveBigIntegerField(null=True, blank=True)
    description = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=10, choices=STATES, default=LIVE)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["realm_id", "number"], name="one_transaction_per_id")
        ]
        indexes = [
            models.Index(fields=["realm_id", "entity", "state"]),
            models.Index(fields=["realm_id", "customer_number"]),
            models.Index(fields=["realm_id", "updated_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.entity} {self.number} of {self.realm_id}"

    @property
    def transaction_id(self) -> str:
        return str(self.number)


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
    """A change of an entity (a customer, an invoice, ...) waiting for (or carried by) a
    delivery to one app. `customer_id` holds the changed entity's Id, whatever its kind.

    Recorded in the same transaction as the change, once per app subscribed to the
    company at that moment: the outbox.
    """

    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"
    MERGED = "merged"
    VOIDED = "voided"
    OPERATIONS = [
        (CREATED, "created"),
        (UPDATED, "updated"),
        (DELETED, "deleted"),
        (MERGED, "merged"),
        (VOIDED, "voided"),
    ]

    event_id = models.UUIDField(default=uuid.uuid4, unique=True)
    realm_id = models.CharField(max_length=20)
    entity = models.CharField(max_length=20, default="Customer")  # QuickBooks' entity name
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
        return f"{self.entity} {self.operation} event {self.event_id}"

"""What the sync engine remembers: runs, every customer's outcome, webhook events, opt-outs."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from ccsync.sync.rules import SKIP_LABELS, SkipReason

REASON_CHOICES = [(reason.value, label) for reason, label in SKIP_LABELS.items()]


class Run(models.Model):
    """One sync of one tenant: the first sync, a run of changes or a full check."""

    class Kind(models.TextChoices):
        FIRST = "first", "First sync"
        CHANGES = "changes", "Changes"
        FULL_CHECK = "full_check", "Full check"

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        PAUSED = "paused", "Paused"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    OPEN_STATES = (State.QUEUED, State.RUNNING, State.PAUSED)

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="sync_runs")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The worker running it and when it last checked in: a conditional UPDATE claims a run.
    claimed_by = models.CharField(max_length=128, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Where to resume: the phase, the next QuickBooks start position, the import in flight.
    checkpoint = models.JSONField(default=dict, blank=True)
    total = models.PositiveIntegerField(default=0)  # customers read from QuickBooks
    done = models.PositiveIntegerField(default=0)  # of those, decided and (if sent) confirmed
    synced = models.PositiveIntegerField(default=0)  # confirmed by Constant Contact
    sent = models.PositiveIntegerField(default=0)  # in an import not confirmed yet
    unchanged = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    # Calls made, for the status page and the benchmark.
    quickbooks_calls = models.PositiveIntegerField(default=0)
    constantcontact_calls = models.PositiveIntegerField(default=0)
    paused_until = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One sync at a time per tenant: a second open run cannot exist.
            models.UniqueConstraint(
                fields=["tenant"],
                condition=Q(state__in=["queued", "running", "paused"]),
                name="sync_one_open_run_per_tenant",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} of tenant {self.tenant_id} ({self.state})"

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES


class CustomerRecord(models.Model):
    """One QuickBooks customer: what we know of it, and what happened to it."""

    class Outcome(models.TextChoices):
        NEW = "new", "Not checked yet"
        PENDING = "pending", "Waiting to be sent"
        SENT = "sent", "Sent, waiting for Constant Contact to confirm"
        SYNCED = "synced", "Synced"
        SKIPPED = "skipped", "Not synced"
        FAILED = "failed", "Refused by Constant Contact"

    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.CASCADE, related_name="customer_records"
    )
    customer_id = models.CharField(max_length=32)
    display_name = models.CharField(max_length=500, blank=True)
    email = models.CharField(max_length=100, blank=True)  # the address the rules chose
    # QuickBooks' email field as it is there (cut to the column): the addresses left out,
    # and an invalid one, are shown as the user will find them to fix them.
    email_in_quickbooks = models.CharField(max_length=500, blank=True)
    email_from_several = models.BooleanField(default=False)
    email_problem = models.CharField(max_length=32, blank=True, choices=REASON_CHOICES)
    active = models.BooleanField(default=True)
    top_level = models.BooleanField(default=True)
    parent_id = models.CharField(max_length=32, blank=True)  # a job's customer (ParentRef)
    customer_type_id = models.CharField(max_length=32, blank=True)  # CustomerTypeRef
    deleted = models.BooleanField(default=False)  # deleted or merged away in QuickBooks
    created_in_quickbooks = models.DateTimeField()
    row = models.JSONField(default=dict, blank=True)  # what would be sent now
    row_hash = models.CharField(max_length=64, blank=True)

    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.NEW)
    reason = models.CharField(max_length=32, blank=True, choices=REASON_CHOICES)
    detail = models.CharField(max_length=500, blank=True)
    # What Constant Contact has: the contact holds a place in the cap once sent.
    in_list = models.BooleanField(default=False)
    sent_email = models.CharField(max_length=100, blank=True)
    sent_hash = models.CharField(max_length=64, blank=True)
    # The row last sent: a field emptied since must be emptied in Constant Contact too.
    sent_row = models.JSONField(default=dict, blank=True)
    list_ids = models.JSONField(default=list, blank=True)  # every list it was sent to
    contact_id = models.CharField(max_length=64, blank=True)
    # The row_hash it was sent with, and the import that carries it (outcome SENT): its
    # outcome is recorded once Constant Contact confirms it.
    queued_hash = models.CharField(max_length=64, blank=True)
    pending_import = models.ForeignKey(
        "ContactImport", null=True, blank=True, on_delete=models.SET_NULL, related_name="records"
    )
    synced_at = models.DateTimeField(null=True, blank=True)
    # Sales data (tenants.SalesData): the figures as read, its jobs' included, by fact key
    # (what `row` carries of them as cf: columns), and the figures that could not be sent.
    sales = models.JSONField(default=dict, blank=True)
    sales_note = models.CharField(max_length=500, blank=True)
    tagged = models.BooleanField(default=False)  # holds the tenant's tag in Constant Contact
    tag_asks = models.PositiveSmallIntegerField(default=0)  # passes that found it untagged
    seen_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "customer_id"], name="sync_one_record_per_customer"
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "outcome"]),
            models.Index(fields=["tenant", "email"]),
        ]

    def __str__(self) -> str:
        return f"customer {self.customer_id} of tenant {self.tenant_id} ({self.outcome})"

    @property
    def reason_label(self) -> str:
        return SKIP_LABELS.get(SkipReason(self.reason), "") if self.reason else ""


class ContactImport(models.Model):
    """A bulk import sent to Constant Contact (contacts_json_import), until Constant Contact
    confirms what it did with each of its contacts."""

    class State(models.TextChoices):
        SENT = "sent", "Sent"
        CONFIRMED = "confirmed", "Confirmed"

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="imports")
    run = models.ForeignKey(Run, null=True, blank=True, on_delete=models.SET_NULL)
    activity_id = models.CharField(max_length=64)
    list_id = models.CharField(max_length=64)
    rows = models.PositiveIntegerField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.SENT)
    sent_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "state", "sent_at"])]

    def __str__(self) -> str:
        return f"import {self.activity_id} of tenant {self.tenant_id} ({self.state})"


class WebhookEvent(models.Model):
    """A QuickBooks change notice, stored before it is answered; processed later in batches.
    Of a customer (`customer_id`), or of a sales transaction (`entity`, `transaction_id`)
    whose customer's figures may have changed."""

    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.CASCADE, related_name="webhook_events"
    )
    event_id = models.CharField(max_length=255)
    realm_id = models.CharField(max_length=32)
    customer_id = models.CharField(max_length=32, blank=True)
    entity = models.CharField(max_length=32, default="Customer")
    transaction_id = models.CharField(max_length=32, blank=True)
    operation = models.CharField(max_length=32)
    deleted_id = models.CharField(max_length=32, blank=True)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["realm_id", "event_id"], name="sync_event_once")
        ]
        indexes = [models.Index(fields=["tenant", "processed_at"])]

    def __str__(self) -> str:
        return f"{self.operation} of {self.entity} {self.customer_id or self.transaction_id}"


class TenantSync(models.Model):
    """Per tenant sync bookkeeping that outlives runs."""

    tenant = models.OneToOneField(
        "tenants.Tenant", on_delete=models.CASCADE, related_name="sync_state"
    )
    last_change_at = models.DateTimeField(null=True, blank=True)  # last change seen in QuickBooks
    # The catch-up reads CDC's changes since this time; older than 30 days, a full check.
    caught_up_at = models.DateTimeField(null=True, blank=True)
    # Unsubscribed addresses were read up to this time (the next optout_after).
    unsubscribes_read_at = models.DateTimeField(null=True, blank=True)
    # How fast Constant Contact processed this account's recent imports: when to ask.
    import_seconds_per_row = models.FloatField(null=True, blank=True)
    changes_scheduled = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"sync state of tenant {self.tenant_id}"


class SalesDataState(models.Model):
    """What the engine knows of a tenant's sales data (the person's choice is
    tenants.SalesData): the custom fields and the tag set up in its Constant Contact
    account, the list's tagging under way, when the figures were read, and a problem to
    tell the person. Written by ccsync/sync/sales_state.py alone."""

    tenant = models.OneToOneField(
        "tenants.Tenant", on_delete=models.CASCADE, related_name="sales_state"
    )
    # Set up in the Constant Contact account `account_id`: fact key -> the custom field
    # {"id", "name", "type", "negative", "decimals"}; the tag's id.
    account_id = models.CharField(max_length=64, blank=True)
    fields = models.JSONField(default=dict, blank=True)
    tag_id = models.CharField(max_length=64, blank=True)
    # A tagging of the whole list (tagging.py), until Constant Contact says it is done: it
    # covers the contacts synced up to `tagging_upto`.
    tagging_activity_id = models.CharField(max_length=64, blank=True)
    tagging_upto = models.DateTimeField(null=True, blank=True)
    problem = models.CharField(max_length=500, blank=True)  # why something is not sent
    # What an optional step met (optional.py), by its source: what the person is told.
    problems = models.JSONField(default=dict, blank=True)
    # The reports failed this many times in a row: figures owed, read again from this time.
    reports_failures = models.PositiveIntegerField(default=0)
    reports_retry_at = models.DateTimeField(null=True, blank=True)
    figures_read_at = models.DateTimeField(null=True, blank=True)  # any figures, last read
    everyone_read_at = models.DateTimeField(null=True, blank=True)  # everyone's, last read

    class Meta:
        verbose_name = "sales data state"

    def __str__(self) -> str:
        return f"sales data state of tenant {self.tenant_id}"


class UnsubscribedAddress(models.Model):
    """An address unsubscribed in the tenant's Constant Contact account: never sent again."""

    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.CASCADE, related_name="unsubscribed_addresses"
    )
    email = models.CharField(max_length=100)
    seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "email"], name="sync_unsubscribed_once")
        ]

    def __str__(self) -> str:
        return f"unsubscribed address of tenant {self.tenant_id}"

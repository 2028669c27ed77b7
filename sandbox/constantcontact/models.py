"""Constant Contact's side of the sandbox: accounts, their lists and contacts, OAuth grants
and bulk activities."""

import secrets
import uuid

from django.db import models
from django.db.models.functions import Lower

from sandbox.constantcontact import shapes


def new_encoded_account_id() -> str:
    # Constant Contact's encoded account ids look like "a07e1lsoi6ma".
    return "a07e1" + secrets.token_hex(4)


class Account(models.Model):
    """A Constant Contact account: the login of one person and its organization's data."""

    username = models.CharField(max_length=150, unique=True)
    password = models.CharField(max_length=255)
    organization_name = models.CharField(max_length=255, blank=True)
    contact_email = models.CharField(max_length=254, blank=True)
    first_name = models.CharField(max_length=50, blank=True)
    last_name = models.CharField(max_length=50, blank=True)
    encoded_account_id = models.CharField(
        max_length=32, unique=True, default=new_encoded_account_id
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"account {self.encoded_account_id}"


class ContactList(models.Model):
    list_id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="lists")
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    favorite = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                "account",
                condition=models.Q(deleted_at__isnull=True),
                name="cc_list_name_unique",
            )
        ]

    def __str__(self) -> str:
        return f"list {self.list_id}"


class CustomField(models.Model):
    """A custom field of an account; contacts hold its values as {custom_field_id, value}."""

    custom_field_id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="custom_fields")
    label = models.CharField(max_length=50)
    name = models.CharField(max_length=50)  # the label, blanks replaced by underscores
    type = models.CharField(max_length=20)
    metadata = models.JSONField(default=dict)
    choices = models.JSONField(default=list)
    version = models.IntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("name"), "account", name="cc_custom_field_name_unique")
        ]

    def __str__(self) -> str:
        return f"custom field {self.custom_field_id}"


class Tag(models.Model):
    tag_id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=255)
    tag_source = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(Lower("name"), "account", name="cc_tag_name_unique")]

    def __str__(self) -> str:
        return f"tag {self.tag_id}"


class Contact(models.Model):
    """A contact; sub-resources (phones, addresses, custom fields, notes) are JSON lists in
    the API's own shape."""

    # Internal order for cursor paging; contact_id is the public id.
    id = models.BigAutoField(primary_key=True)
    contact_id = models.UUIDField(unique=True, default=uuid.uuid4)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contacts")
    email = models.CharField(max_length=80)
    email_key = models.CharField(max_length=80)  # lower-cased: addresses are unique per account
    permission_to_send = models.CharField(max_length=32, default="implicit")
    opt_in_source = models.CharField(max_length=16, blank=True)
    opt_in_date = models.DateTimeField(null=True, blank=True)
    opt_out_source = models.CharField(max_length=16, blank=True)
    opt_out_date = models.DateTimeField(null=True, blank=True)
    opt_out_reason = models.CharField(max_length=255, blank=True)
    email_created_at = models.DateTimeField()
    email_updated_at = models.DateTimeField()
    first_name = models.CharField(max_length=50, blank=True)
    last_name = models.CharField(max_length=50, blank=True)
    job_title = models.CharField(max_length=50, blank=True)
    company_name = models.CharField(max_length=50, blank=True)
    birthday_month = models.IntegerField(null=True, blank=True)
    birthday_day = models.IntegerField(null=True, blank=True)
    anniversary = models.CharField(max_length=10, blank=True)
    create_source = models.CharField(max_length=16)
    update_source = models.CharField(max_length=16)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(db_index=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    phone_numbers = models.JSONField(default=list)
    street_addresses = models.JSONField(default=list)
    custom_fields = models.JSONField(default=list)
    notes = models.JSONField(default=list)
    lists = models.ManyToManyField(ContactList, related_name="contacts", blank=True)
    tags = models.ManyToManyField(Tag, related_name="contacts", blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "email_key"], name="cc_contact_email_unique")
        ]

    def __str__(self) -> str:
        return f"contact {self.contact_id}"


class Grant(models.Model):
    """One authorization of the app by an account; revoking it ends all its tokens."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="grants")
    client_id = models.CharField(max_length=100)
    scope = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"grant {self.pk}"


class AuthorizationCode(models.Model):
    code_hash = models.CharField(max_length=64, unique=True)
    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="codes")
    redirect_uri = models.CharField(max_length=1000)
    code_challenge = models.CharField(max_length=128)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"code {self.pk}"


class Token(models.Model):
    ACCESS = "access"
    REFRESH = "refresh"

    token_hash = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=8, choices=[(ACCESS, ACCESS), (REFRESH, REFRESH)])
    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="tokens")
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    # A refresh token works once, and only while it is the newest of its grant.
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.kind} token {self.pk}"


class Activity(models.Model):
    """A bulk activity, processed lazily: reads advance it by elapsed time."""

    IMPORT = shapes.IMPORT
    ADD_LIST_MEMBERSHIPS = shapes.ADD_LIST_MEMBERSHIPS
    LIST_DELETE = shapes.LIST_DELETE
    ADD_TAGGINGS = shapes.ADD_TAGGINGS

    id = models.BigAutoField(primary_key=True)
    activity_id = models.UUIDField(unique=True, default=uuid.uuid4)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(max_length=32)
    state = models.CharField(max_length=16, default="initialized")
    # {"rows": [...]} or {"contacts": [...]}, plus "list_ids" (or "tag_ids")
    payload = models.JSONField()
    items_total_count = models.IntegerField()
    items_completed_count = models.IntegerField(default=0)
    person_count = models.IntegerField(default=0)
    error_count = models.IntegerField(default=0)
    correctable_count = models.IntegerField(default=0)
    cannot_add_to_list_count = models.IntegerField(default=0)
    list_count = models.IntegerField(default=0)
    activity_errors = models.JSONField(default=list)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["account", "state"])]

    def __str__(self) -> str:
        return f"activity {self.activity_id}"

"""Companies with everything the app can hold about them, built straight in the database."""

import itertools
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from ccsync.sync.models import CustomerRecord, Run, TenantSync, UnsubscribedAddress, WebhookEvent
from integrations.constantcontact import oauth as cc_oauth
from integrations.quickbooks import oauth as qb_oauth
from tenants.models import (
    ConstantContactConnection,
    ListSelection,
    Membership,
    QuickBooksConnection,
    Tenant,
    User,
)

_numbers = itertools.count(1)


@dataclass
class Held:
    """One company's rows and the secrets and personal data they hold."""

    tenant: Tenant
    owner: User
    tokens: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)

    @property
    def realm_id(self) -> str:
        return self.tenant.realm_id


def _connect(model, tenant: Tenant, tag: str) -> list[str]:
    connection = model(tenant=tenant)
    connection.access_token = f"{tag}-{model.__name__}-access-token-secret"
    connection.refresh_token = f"{tag}-{model.__name__}-refresh-token-secret"
    connection.access_expires_at = timezone.now() + timedelta(hours=1)
    connection.refresh_expires_at = timezone.now() + timedelta(days=100)
    if model is ConstantContactConnection:
        connection.account_name = f"Account {tag}"
    connection.save()
    return [
        connection.access_token,
        connection.refresh_token,
        connection.access_token_encrypted,
        connection.refresh_token_encrypted,
    ]


@pytest.fixture
def company(db):
    """company(name, *, customers=3, shared_user=None): a connected tenant holding a bit of
    everything (records, events processed and not, unsubscribed addresses, runs, list
    history, an admin log entry)."""

    def make(name: str = "Pottery", *, customers: int = 3, shared_user: User | None = None):
        n = next(_numbers)
        tag = f"{name.lower()}{n}"
        tenant = Tenant.objects.create(realm_id=f"91303{n:05d}", company_name=f"{name} Ltd")
        owner = User.objects.create(
            username=f"intuit-{tag}", intuit_sub=f"sub-{tag}", email=f"owner-{tag}@example.com"
        )
        Membership.objects.create(user=owner, tenant=tenant)
        if shared_user is not None:
            Membership.objects.create(user=shared_user, tenant=tenant)
        held = Held(tenant=tenant, owner=owner, emails=[owner.email])
        for model in (QuickBooksConnection, ConstantContactConnection):
            held.tokens += _connect(model, tenant, tag)
        ListSelection.objects.create(
            tenant=tenant, list_id=f"list-{tag}", list_name="Customers", chosen_by=owner
        )
        now = timezone.now()
        TenantSync.objects.create(tenant=tenant, last_change_at=now, unsubscribes_read_at=now)
        Run.objects.create(
            tenant=tenant, kind=Run.Kind.FIRST, state=Run.State.COMPLETED, synced=customers
        )
        for i in range(customers):
            email = f"customer{i}-{tag}@example.com"
            held.emails.append(email)
            CustomerRecord.objects.create(
                tenant=tenant,
                customer_id=str(i + 1),
                display_name=f"Customer {i} of {tag}",
                email=email,
                created_in_quickbooks=now,
                row={"email": email, "first_name": f"Customer {i}"},
                outcome=CustomerRecord.Outcome.SYNCED,
                in_list=True,
                sent_email=email,
            )
        unsubscribed = f"gone-{tag}@example.com"
        held.emails.append(unsubscribed)
        UnsubscribedAddress.objects.create(tenant=tenant, email=unsubscribed)
        for i, processed in enumerate((now, None)):
            WebhookEvent.objects.create(
                tenant=tenant,
                event_id=f"event-{tag}-{i}",
                realm_id=tenant.realm_id,
                customer_id="1",
                operation="update",
                occurred_at=now,
                processed_at=processed,
            )
        LogEntry.objects.create(
            user=User.objects.get_or_create(username="operator", is_staff=True)[0],
            content_type=ContentType.objects.get_for_model(Tenant),
            object_id=str(tenant.pk),
            object_repr=str(tenant),
            action_flag=CHANGE,
            change_message="Paused",
        )
        return held

    return make


@pytest.fixture
def revoked(monkeypatch) -> list[str]:
    """Tokens the app asked the providers to revoke (no provider is called)."""
    calls: list[str] = []
    monkeypatch.setattr(qb_oauth, "revoke", lambda *, token: calls.append(token))
    monkeypatch.setattr(cc_oauth, "revoke", lambda *, token: calls.append(token))
    return calls

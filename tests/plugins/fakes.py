"""The providers in process: the fixture `fakes` makes every QuickBooks and Constant Contact
client the app builds (tenants/clients.py, the one place that builds them) a fake: the real
client whose one request is answered from memory instead of over HTTP. It installs
companies on them through the app's own services and Settings page. The engine then runs
against them in milliseconds, in `make test-fast`.

The fakes answer as the sandbox does (tests/contract/ holds both to the same assertions);
their knobs have the sandbox's names. The engine's other collaborators stay real: the
database, Redis (limiter, pacer), the app's views.
"""

import functools
import itertools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import redis
from django.test import Client
from django.utils import timezone

from ccsync.celery import app as celery_app
from ccsync.sync import lifecycle, pacing
from integrations.clock import Clock
from integrations.constantcontact.oauth import CCTokens
from integrations.limiter import get_limiter
from integrations.quickbooks.oauth import QuickBooksTokens
from tenants import clients as tenant_clients
from tenants import services as tenant_services
from tenants.models import Tenant
from tests.plugins.companies import Company
from tests.plugins.fake_constantcontact import (
    INCLUDES,
    Account,
    FakeConstantContact,
    FakeConstantContactClient,
)
from tests.plugins.fake_quickbooks import FakeQuickBooks, FakeQuickBooksClient, QuickBooksCompany

# The sandbox's knobs the fakes answer to (sandbox/control/knobs.py), by provider.
QUICKBOOKS_KNOBS = {
    "quickbooks_error_rate",
    "quickbooks_throttle_rate",
    "quickbooks_forbidden_realms",
}
CONSTANTCONTACT_KNOBS = {
    "constantcontact_error_rate",
    "constantcontact_throttle_rate",
    "constantcontact_per_second",
    "constantcontact_per_day",
    "enforce_rate_limits",
    "cc_import_rate_per_second",
    "cc_max_queued_activities",
    "cc_import_refused_domains",
}
# Nothing of a test with the fakes leaves the process: every outside endpoint is a closed port.
NOWHERE = "http://127.0.0.1:9"
FAR = timedelta(days=3650)  # the installed tokens never need refreshing
_realms = itertools.count(9_130_000_000_000_001)


@dataclass
class FakeCompany(Company):
    """A company of the fake providers: its QuickBooks company and Constant Contact account
    changed and read in memory."""

    providers: "Providers"
    quickbooks: QuickBooksCompany
    account: Account

    def add(self, *customers: dict[str, Any]) -> list[dict[str, Any]]:
        return self.quickbooks.create_customers(customers)

    def customers(self) -> list[dict[str, Any]]:
        return self.quickbooks.live_customers()

    def change(self, customer_id: str, action: str = "", **fields: Any) -> None:
        if not action:
            self.quickbooks.update_customer(customer_id, fields)
        elif action in ("deactivate", "reactivate"):
            self.quickbooks.set_active(customer_id, active=action == "reactivate")
        elif action == "delete":
            self.quickbooks.delete_customer(customer_id)
        elif action.startswith("merge-into/"):
            self.quickbooks.merge_customer(customer_id, action.removeprefix("merge-into/"))
        else:
            raise ValueError(f"no such change: {action}")

    def sell(
        self, customer_id: str, amount: str, *, entity: str = "Invoice", day: str = ""
    ) -> dict[str, Any]:
        return self.quickbooks.create_transaction(
            entity=entity,
            customer_id=customer_id,
            amount=amount,
            txn_date=date.fromisoformat(day) if day else None,
        )

    def transaction(self, transaction_id: str, action: str, **body: Any) -> dict[str, Any]:
        if action == "pay":
            return self.quickbooks.receive_payment(transaction_id, body.get("amount"))
        state = {"void": "voided", "delete": "deleted"}[action]
        return self.quickbooks.end_transaction(transaction_id, state)

    def fields_and_tags(self) -> dict[str, list[dict[str, Any]]]:
        return {
            "custom_fields": [f.json() for f in self.account.fields.values()],
            "tags": [t.json() for t in self.account.tags.values()],
        }

    def contacts(self) -> dict[str, dict[str, Any]]:
        self.account.advance()
        return {
            contact.email: {
                **contact.json(include=INCLUDES),
                "email": contact.email,
                "permission": contact.permission_to_send,
                "deleted": contact.deleted_at is not None,
                "list_names": sorted(self.account.lists[i].name for i in contact.lists),
                "changed_at": contact.updated_at.isoformat(),
            }
            for contact in self.account.contacts.values()
        }

    def unsubscribe(self, *emails: str) -> None:
        for email in emails:
            self.account.unsubscribe(email)

    def constantcontact_api_calls(self) -> int:
        return self.providers.constantcontact.usage.total


@dataclass
class Providers:
    """The fake QuickBooks and Constant Contact of one test, on one clock: the real time,
    moved on by `advance`. The sync's pauses and pacer run on it too (pacing.CLOCK), so a
    run waiting for Constant Contact waits no real time; the app's other reads of the time
    (timezone.now) are not moved."""

    offset: timedelta = timedelta(0)
    quickbooks: FakeQuickBooks = field(init=False)
    constantcontact: FakeConstantContact = field(init=False)

    def __post_init__(self) -> None:
        self.quickbooks = FakeQuickBooks(clock=self.now)
        self.constantcontact = FakeConstantContact(clock=self.now)

    def now(self) -> datetime:
        return timezone.now() + self.offset

    def seconds(self) -> float:
        """The clock in seconds since the epoch."""
        return self.now().timestamp()

    def advance(self, seconds: float) -> None:
        """Time passes (a pause of the sync's ends at once, the providers' clock moved on)."""
        self.offset += timedelta(seconds=seconds)

    @property
    def clock(self) -> Clock:
        return Clock(time=self.seconds, monotonic=self.seconds, sleep=self.advance)

    def set_knobs(self, **values: Any) -> None:
        """The sandbox's knobs, as far as the fakes model them (any other is refused)."""
        unknown = set(values) - QUICKBOOKS_KNOBS - CONSTANTCONTACT_KNOBS
        if unknown:
            raise ValueError(f"the fakes do not model the knobs {', '.join(sorted(unknown))}")
        for name, value in values.items():
            world = self.quickbooks if name in QUICKBOOKS_KNOBS else self.constantcontact
            world.knobs[name] = value

    def reset_knobs(self) -> None:
        self.quickbooks.knobs.clear()
        self.constantcontact.knobs.clear()

    def install(
        self, *customers: dict[str, Any], unsubscribed: tuple[str, ...] = (), **choices: Any
    ) -> FakeCompany:
        """A company with these customers, the app installed on it with the list
        "Customers" chosen on the Settings page (with any other Settings `choices`); the
        first sync is queued, not run. As `install` does against the sandbox, but the
        Intuit and Constant Contact consents are the services their callbacks call."""
        realm_id = str(next(_realms))
        tag = uuid.uuid4().hex[:8]
        quickbooks, qb_token = self.quickbooks.new_company(realm_id=realm_id, name=f"Sync Co {tag}")
        account, cc_token = self.constantcontact.new_account(
            username=f"cc-{tag}", list_names=("Customers", "Donors")
        )
        for email in unsubscribed:
            account.unsubscribe(email)
        quickbooks.create_customers(customers)
        until = timezone.now() + FAR
        qb_tokens = QuickBooksTokens(
            access_token=qb_token,
            refresh_token=f"fake-qb-refresh-{realm_id}",
            access_expires_at=until,
            refresh_expires_at=until,
            realm_id=realm_id,
        )
        tenant, user = lifecycle.install(
            company=tenant_services.confirm_company(realm_id=realm_id, tokens=qb_tokens),
            tokens=qb_tokens,
            identity=tenant_services.IntuitIdentity(
                sub=f"fake-{tag}",
                email=f"owner-{tag}@example.com",
                given_name="Pat",
                family_name="Owner",
            ),
        )
        cc_tokens, summary = tenant_services.read_constantcontact_account(
            tenant=tenant,
            tokens=CCTokens(
                access_token=cc_token, refresh_token=f"fake-cc-refresh-{tag}", expires_at=until
            ),
        )
        lifecycle.connect_constantcontact(tenant=tenant, tokens=cc_tokens, account=summary)
        client = Client()
        client.force_login(user)
        lists = {item.name: item.list_id for item in account.lists.values()}
        page = client.post("/settings/", {"list_id": lists["Customers"], **choices})
        assert page.status_code == 200, page
        return FakeCompany(
            tenant=Tenant.objects.get(pk=tenant.pk),
            client=client,
            lists=lists,
            providers=self,
            quickbooks=quickbooks,
            account=account,
        )


@pytest.fixture
def fakes(monkeypatch, settings, db) -> Iterator[Providers]:
    """Every client the app builds talks to in-process fakes of QuickBooks and Constant
    Contact (`fakes.install(...)` makes a company on them, as `install` on the sandbox)."""
    providers = Providers()
    monkeypatch.setattr(
        tenant_clients,
        "QuickBooksClient",
        functools.partial(FakeQuickBooksClient, providers.quickbooks),
    )
    monkeypatch.setattr(
        tenant_clients,
        "ConstantContactClient",
        functools.partial(FakeConstantContactClient, providers.constantcontact),
    )
    settings.QUICKBOOKS_API_BASE = NOWHERE
    settings.CONSTANTCONTACT_API_BASE = f"{NOWHERE}/v3"
    settings.INTUIT_ENVIRONMENT = f"{NOWHERE}/discovery"
    for name in ("AUTHORIZE", "TOKEN", "REVOKE"):
        setattr(settings, f"CONSTANTCONTACT_{name}_URL", f"{NOWHERE}/{name.lower()}")
    # The limiter still counts every call; its real-time waits are for its own tests.
    settings.SYNC_CC_PER_SECOND = settings.SYNC_QB_PER_SECOND = 1_000
    monkeypatch.setattr(pacing, "CLOCK", providers.clock)
    yield providers
    # A 429 a test provoked holds every caller a moment (the limiter's hold): not the next test.
    limiter = get_limiter()
    redis.Redis.from_url(settings.REDIS_URL).delete(limiter.hold_key)


def run_task(name: str, *args: Any) -> None:
    """A Celery task run in this process by its name, as a worker runs it (a retry it asks
    for is raised as celery.exceptions.Retry)."""
    celery_app.loader.import_default_modules()
    celery_app.tasks[name](*args)

"""An installed company, whichever provider world it lives in, and how tests drive it: its
QuickBooks customers changed, its Constant Contact account read, the engine run like a
worker. `install` builds one against the sandbox over real HTTP (the fixture `fakes` of
tests/plugins/fakes.py builds one in process)."""

import base64
import hashlib
import hmac
import json
import time
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from django.test import Client

from ccsync.sync import dispatch, pacing, selectors, services
from ccsync.sync.models import Run
from ccsync.sync.worker import execute
from integrations.clock import Clock
from support.accounts import PASSWORD
from support.sandbox_server import Sandbox
from tenants.models import Tenant
from tests.plugins.journeys import Journey


def sign(body: bytes, token: str = "sandbox-webhook-verifier") -> str:
    return base64.b64encode(hmac.new(token.encode(), body, hashlib.sha256).digest()).decode()


def cloud_events(realm_id: str, *changes: tuple[str, ...], deleted_id: str = "") -> bytes:
    """A CloudEvents delivery: (action, customer id) pairs, e.g. ("updated", "12"), or
    (action, id, entity) for another entity, e.g. ("created", "40", "invoice")."""
    events = [
        {
            "specversion": "1.0",
            "id": uuid.uuid4().hex,
            "source": "intuit.qbo",
            "type": f"qbo.{entity[0] if entity else 'customer'}.{action}.v1",
            "datacontenttype": "application/json",
            "time": datetime.now(UTC).isoformat(),
            "intuitentityid": customer_id,
            "intuitaccountid": realm_id,
            "data": {"deletedid": deleted_id} if deleted_id else {},
        }
        for action, customer_id, *entity in changes
    ]
    return json.dumps(events).encode()


def cc_api_calls(sandbox: Sandbox) -> int:
    """Constant Contact API calls the sandbox has answered so far."""
    return requests.get(f"{sandbox.url}/_sandbox/cc/usage", timeout=10).json()["calls_total"]


def person(name: str, email: str | None = None, **fields: Any) -> dict[str, Any]:
    given, _, family = name.partition(" ")
    customer: dict[str, Any] = {"DisplayName": name, "GivenName": given, "FamilyName": family}
    if email is not None:
        customer["PrimaryEmailAddr"] = {"Address": email}
    return {**customer, **fields}


@dataclass
class Company(ABC):
    """One installed tenant: its QuickBooks company and its Constant Contact account (the
    provider side is the subclass's), and the engine driven as a worker would."""

    tenant: Tenant
    client: Client  # our app, as the webhooks reach it
    lists: dict[str, str]  # the Constant Contact account's lists: name -> id

    @property
    def realm_id(self) -> str:
        return self.tenant.realm_id

    # --- QuickBooks, as its user changes it

    @abstractmethod
    def add(self, *customers: dict[str, Any]) -> list[dict[str, Any]]:
        """New customers (Customer-shaped); as QuickBooks shows them, with their Ids."""

    @abstractmethod
    def customers(self) -> list[dict[str, Any]]:
        """Every live customer, inactive ones included."""

    @abstractmethod
    def change(self, customer_id: str, action: str = "", **fields: Any) -> None:
        """A sparse edit (`fields`), or an action: deactivate, reactivate, delete,
        merge-into/<id>."""

    @abstractmethod
    def sell(
        self, customer_id: str, amount: str, *, entity: str = "Invoice", day: str = ""
    ) -> dict[str, Any]:
        """A sales transaction (Invoice, SalesReceipt, CreditMemo, RefundReceipt) made in
        the company's QuickBooks."""

    @abstractmethod
    def transaction(self, transaction_id: str, action: str, **body: Any) -> dict[str, Any]:
        """pay, void or delete a transaction in QuickBooks."""

    def customer_id(self, display_name: str) -> str:
        return next(c["Id"] for c in self.customers() if c["DisplayName"] == display_name)

    # --- Constant Contact, as its owner sees it

    @abstractmethod
    def fields_and_tags(self) -> dict[str, list[dict[str, Any]]]:
        """The Constant Contact account's custom fields and tags."""

    @abstractmethod
    def contacts(self) -> dict[str, dict[str, Any]]:
        """The account's contacts by email (every status, with list names)."""

    @abstractmethod
    def unsubscribe(self, *emails: str) -> None:
        """These addresses opt out (new unsubscribed contacts for unknown ones)."""

    @abstractmethod
    def constantcontact_api_calls(self) -> int:
        """Constant Contact API calls answered so far (every account's)."""

    def custom_fields(self, email: str) -> dict[str, str]:
        """The contact's custom fields in Constant Contact, by the field's label."""
        labels = {f["custom_field_id"]: f["label"] for f in self.fields_and_tags()["custom_fields"]}
        held = self.contacts()[email].get("custom_fields") or []
        # A deleted field's value may stay on the contact, unseen: left out, as the pages do.
        return {
            labels[f["custom_field_id"]]: f["value"] for f in held if f["custom_field_id"] in labels
        }

    def tags(self, email: str) -> list[str]:
        """The names of the contact's tags in Constant Contact."""
        names = {t["tag_id"]: t["name"] for t in self.fields_and_tags()["tags"]}
        return sorted(names[tag_id] for tag_id in self.contacts()[email].get("taggings") or [])

    # --- the engine

    def run(self, run: Run | None = None, *, worker: str = "test-worker") -> Run:
        """Work on the tenant's open run (or `run`) like a Celery worker would."""
        run = run or selectors.open_run(tenant=self.tenant)
        assert run is not None, "no open run"
        execute(run_id=run.pk, worker=worker)
        run.refresh_from_db()
        return run

    def webhook(self, *changes: tuple[str, ...], deleted_id: str = "") -> int:
        body = cloud_events(self.realm_id, *changes, deleted_id=deleted_id)
        answer = self.client.post(
            "/webhooks/quickbooks/",
            data=body,
            content_type="application/json",
            HTTP_INTUIT_SIGNATURE=sign(body),
        )
        return answer.status_code

    def sync_changes(self, *, confirm: bool = True) -> Run:
        """The end of the change window and its run; then, unless told not to, what beat
        does later: Constant Contact asked to confirm the run's imports."""
        run = dispatch.start_changes(tenant_id=self.tenant.pk)
        assert run is not None, "nothing to sync"
        run = self.run(run)
        if confirm:
            self.confirm()
            run.refresh_from_db()
        return run

    def confirm(self) -> None:
        """Beat's confirmation of the imports still waiting for Constant Contact's word."""
        services.confirm_tenant_imports(tenant_id=self.tenant.pk)


@dataclass
class SandboxCompany(Company):
    """A company of the sandbox, installed through the real journey over HTTP."""

    sandbox: Sandbox
    journey: Journey
    username: str  # of the Constant Contact account

    def _qb(self, path: str = "") -> str:
        return f"{self.sandbox.url}/_sandbox/quickbooks/{self.realm_id}/customers{path}"

    def add(self, *customers: dict[str, Any]) -> list[dict[str, Any]]:
        answer = requests.post(self._qb(), json=list(customers), timeout=30)
        answer.raise_for_status()
        return answer.json()

    def customers(self) -> list[dict[str, Any]]:
        answer = requests.get(self._qb(), timeout=30)
        answer.raise_for_status()
        return answer.json()["Customer"]

    def change(self, customer_id: str, action: str = "", **fields: Any) -> None:
        path = f"/{customer_id}/{action}" if action else f"/{customer_id}"
        requests.post(self._qb(path), json=fields, timeout=30).raise_for_status()

    def sell(
        self, customer_id: str, amount: str, *, entity: str = "Invoice", day: str = ""
    ) -> dict[str, Any]:
        body = {"entity": entity, "amount": amount, "tax": "0.00"}
        if day:
            body["TxnDate"] = day
        answer = requests.post(self._qb(f"/{customer_id}/sales"), json=body, timeout=30)
        answer.raise_for_status()
        return answer.json()[entity]

    def transaction(self, transaction_id: str, action: str, **body: Any) -> dict[str, Any]:
        answer = requests.post(
            f"{self.sandbox.url}/_sandbox/quickbooks/{self.realm_id}/transactions/"
            f"{transaction_id}/{action}",
            json=body,
            timeout=30,
        )
        answer.raise_for_status()
        return answer.json()

    def fields_and_tags(self) -> dict[str, list[dict[str, Any]]]:
        answer = requests.get(
            f"{self.sandbox.url}/_sandbox/cc/accounts/{self.username}/custom_fields", timeout=30
        )
        answer.raise_for_status()
        return answer.json()

    def contacts(self) -> dict[str, dict[str, Any]]:
        answer = requests.get(
            f"{self.sandbox.url}/_sandbox/cc/accounts/{self.username}/contacts", timeout=30
        )
        answer.raise_for_status()
        return {contact["email"]: contact for contact in answer.json()["contacts"]}

    def unsubscribe(self, *emails: str) -> None:
        requests.post(
            f"{self.sandbox.url}/_sandbox/cc/accounts",
            json={"username": self.username, "password": PASSWORD, "unsubscribed_emails": emails},
            timeout=30,
        ).raise_for_status()

    def constantcontact_api_calls(self) -> int:
        return cc_api_calls(self.sandbox)


@pytest.fixture
def sandbox_clock(sandbox, monkeypatch):
    """The sync's pauses (pacing.CLOCK) move the sandbox's activities on instead of waiting
    (knob cc_activities_offset_seconds): a run waiting for Constant Contact to process its
    imports waits no real time, and finds them as far along as they would be by then."""
    moved = [0.0]

    def sleep(seconds: float) -> None:
        moved[0] += max(seconds, 0.0)
        sandbox.set_knobs(cc_activities_offset_seconds=moved[0])

    clock = Clock(
        time=lambda: time.time() + moved[0],
        monotonic=lambda: time.monotonic() + moved[0],
        sleep=sleep,
    )
    monkeypatch.setattr(pacing, "CLOCK", clock)
    yield clock
    if moved[0]:
        sandbox.set_knobs(cc_activities_offset_seconds=0.0)


@pytest.fixture
def unlimited(sandbox, sandbox_settings):
    """Neither the app's limiter nor the sandbox holds the calls to the providers' rates
    (4 Constant Contact calls a second): a test pays no real time for them. The limiter
    still counts every call; its waits, and the sandbox's 429s past the rates, are tested
    by their own tests (tests/integrations/test_limiter.py, tests/sandbox/.../test_limits.py)."""
    sandbox_settings.SYNC_CC_PER_SECOND = sandbox_settings.SYNC_QB_PER_SECOND = 1_000
    sandbox.baseline = {"enforce_rate_limits": False}  # kept by every reset of the knobs
    sandbox.set_knobs(**sandbox.baseline)
    yield
    sandbox.baseline = {}
    sandbox.reset_knobs()


@pytest.fixture
def install(sandbox, sandbox_settings, sandbox_clock, unlimited, db):
    """install(*customers): a company of the sandbox with these customers, the app installed
    on it through the real journey with the list "Customers" chosen; the first sync is
    queued, not run. The sync's pauses move the sandbox's clock (sandbox_clock); the
    providers' rates cost no real time (unlimited)."""

    def make(
        *customers: dict[str, Any], unsubscribed: tuple[str, ...] = (), **choices: Any
    ) -> SandboxCompany:
        journey = Journey(sandbox)
        identity = journey.new_identity("Sync Co")
        account = journey.new_account("Customers", "Donors")
        company = SandboxCompany(
            tenant=None,  # type: ignore[arg-type]
            client=journey.client,
            lists=account.lists,
            sandbox=sandbox,
            journey=journey,
            username=account.username,
        )
        if unsubscribed:
            company.unsubscribe(*unsubscribed)
        answer = requests.post(
            f"{sandbox.url}/_sandbox/quickbooks/{identity.realm_id}/customers",
            json=list(customers),
            timeout=30,
        )
        answer.raise_for_status()
        page = journey.full_install(identity, account, "Customers", **choices)
        assert page.status_code in (200, 302), page
        company.tenant = Tenant.objects.get(realm_id=identity.realm_id)
        return company

    return make

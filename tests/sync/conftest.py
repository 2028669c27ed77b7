"""A tenant installed through the real journey against the sandbox, and helpers to drive its
QuickBooks company, read its Constant Contact account and run the engine like a worker."""

import base64
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from ccsync.sync import dispatch, selectors, services
from ccsync.sync.models import Run
from ccsync.sync.worker import execute
from support.accounts import PASSWORD
from tenants.models import Tenant
from tests.conftest import flush_test_redis, is_xdist_worker
from tests.tenants.conftest import Journey


@pytest.fixture(scope="session", autouse=True)
def _fresh_limiter(request: pytest.FixtureRequest):
    # The limiter's counters (its daily share included) live in this Redis db, ours alone
    # (xdist's workers share it: tests/conftest.py empties it before they start).
    if not is_xdist_worker(request.config):
        flush_test_redis()


@pytest.fixture(autouse=True)
def _plain_http_oauth(monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


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


@dataclass
class Company:
    """One installed tenant: its QuickBooks company and its Constant Contact account."""

    sandbox: Any
    journey: Journey
    tenant: Tenant
    username: str
    lists: dict[str, str]

    @property
    def realm_id(self) -> str:
        return self.tenant.realm_id

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

    def customer_id(self, display_name: str) -> str:
        return next(c["Id"] for c in self.customers() if c["DisplayName"] == display_name)

    def change(self, customer_id: str, action: str = "", **fields: Any) -> None:
        path = f"/{customer_id}/{action}" if action else f"/{customer_id}"
        requests.post(self._qb(path), json=fields, timeout=30).raise_for_status()

    def sell(
        self, customer_id: str, amount: str, *, entity: str = "Invoice", day: str = ""
    ) -> dict[str, Any]:
        """A sales transaction (Invoice, SalesReceipt, CreditMemo, RefundReceipt) made in
        the company's QuickBooks."""
        body = {"entity": entity, "amount": amount, "tax": "0.00"}
        if day:
            body["TxnDate"] = day
        answer = requests.post(self._qb(f"/{customer_id}/sales"), json=body, timeout=30)
        answer.raise_for_status()
        return answer.json()[entity]

    def transaction(self, transaction_id: str, action: str, **body: Any) -> dict[str, Any]:
        """pay, void or delete a transaction in QuickBooks."""
        answer = requests.post(
            f"{self.sandbox.url}/_sandbox/quickbooks/{self.realm_id}/transactions/"
            f"{transaction_id}/{action}",
            json=body,
            timeout=30,
        )
        answer.raise_for_status()
        return answer.json()

    def fields_and_tags(self) -> dict[str, list[dict[str, Any]]]:
        """The Constant Contact account's custom fields and tags."""
        answer = requests.get(
            f"{self.sandbox.url}/_sandbox/cc/accounts/{self.username}/custom_fields", timeout=30
        )
        answer.raise_for_status()
        return answer.json()

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

    def contacts(self) -> dict[str, dict[str, Any]]:
        """The account's contacts by email (every status, with list names)."""
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

    def run(self, run: Run | None = None, *, worker: str = "test-worker") -> Run:
        """Work on the tenant's open run (or `run`) like a Celery worker would."""
        run = run or selectors.open_run(tenant=self.tenant)
        assert run is not None, "no open run"
        execute(run_id=run.pk, worker=worker)
        run.refresh_from_db()
        return run

    def webhook(self, *changes: tuple[str, ...], deleted_id: str = "") -> int:
        body = cloud_events(self.realm_id, *changes, deleted_id=deleted_id)
        answer = self.journey.client.post(
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


@pytest.fixture
def install(sandbox, sandbox_settings, db):
    """install(*customers): a company with these customers, the app installed on it with
    the list "Customers" chosen; the first sync is queued, not run."""

    def make(
        *customers: dict[str, Any], unsubscribed: tuple[str, ...] = (), **choices: Any
    ) -> Company:
        journey = Journey(sandbox)
        identity = journey.new_identity("Sync Co")
        account = journey.new_account("Customers", "Donors")
        company = Company(
            sandbox=sandbox,
            journey=journey,
            tenant=None,  # type: ignore[arg-type]
            username=account.username,
            lists=account.lists,
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


def cc_api_calls(sandbox) -> int:
    """Constant Contact API calls the sandbox has answered so far."""
    return requests.get(f"{sandbox.url}/_sandbox/cc/usage", timeout=10).json()["calls_total"]


def person(name: str, email: str | None = None, **fields: Any) -> dict[str, Any]:
    given, _, family = name.partition(" ")
    customer: dict[str, Any] = {"DisplayName": name, "GivenName": given, "FamilyName": family}
    if email is not None:
        customer["PrimaryEmailAddr"] = {"Address": email}
    return {**customer, **fields}

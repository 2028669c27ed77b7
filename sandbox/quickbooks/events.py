"""Webhook bodies (CloudEvents and legacy eventNotifications) and Intuit's signature.

Pure functions: no models, so they are testable on their own.
"""

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sandbox.quickbooks.query import COMPANY_TIMEZONE

CLOUDEVENTS = "cloudevents"
LEGACY = "legacy"
_LEGACY_OPERATIONS = {
    "created": "Create",
    "updated": "Update",
    "deleted": "Delete",
    "merged": "Merge",
    "voided": "Void",
}
LEGACY_TIMES = ("offset", "utc_millis", "epoch_ms")
# Seconds after each failed delivery attempt; then every 6 hours.
RETRY_SCHEDULE = (10, 20, 30, 5 * 60, 20 * 60, 2 * 3600, 4 * 3600, 6 * 3600)


class Change(Protocol):
    """A stored WebhookEvent or an injected Extra: read only, so either one fits."""

    @property
    def event_id(self) -> uuid.UUID | str: ...
    @property
    def realm_id(self) -> str: ...
    @property
    def entity(self) -> str: ...  # QuickBooks' name: Customer, Invoice, SalesReceipt, ...
    @property
    def customer_id(self) -> str: ...  # the changed entity's Id, whatever its kind
    @property
    def operation(self) -> str: ...  # created | updated | deleted | merged | voided
    @property
    def deleted_id(self) -> str: ...
    @property
    def occurred_at(self) -> datetime: ...


@dataclass(frozen=True)
class Extra:
    """An event the webhook_injected_events knob adds to a delivery."""

    event_id: uuid.UUID | str
    realm_id: str
    customer_id: str
    operation: str
    deleted_id: str
    occurred_at: datetime
    entity: str = "Customer"


# What each injected event changes in a copy of the delivery's first event.
INJECTED: dict[str, dict] = {
    "void": {"operation": "voided"},  # Intuit lists Void for transactions, not customers
    "not_an_id": {"customer_id": "abc"},
    "too_long": {"customer_id": "9" * 40, "event_id": "e" * 300},
    "nul": {"customer_id": "12\x0034"},
    "lone_surrogate": {"customer_id": "\ud800"},
    "unknown_entity": {"entity": "Widget", "operation": "created"},
}


def injected(*, kinds: Sequence[str], like: Change) -> list[Extra]:
    """The events to add to a delivery whose first event is `like`."""
    base = Extra(
        event_id=uuid.uuid4(),
        realm_id=like.realm_id,
        entity=like.entity,
        customer_id=like.customer_id,
        operation="updated",
        deleted_id="",
        occurred_at=like.occurred_at,
    )
    return [replace(base, **{"event_id": uuid.uuid4(), **INJECTED[kind]}) for kind in kinds]


def sign(*, body: bytes, verifier_token: str) -> str:
    """The `intuit-signature` header: base64 of HMAC-SHA256(verifier token, raw body)."""
    digest = hmac.new(verifier_token.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def retry_delay(*, attempts: int, scale: float) -> timedelta:
    """How long after its `attempts`-th failed attempt a delivery is tried again."""
    return timedelta(seconds=RETRY_SCHEDULE[min(attempts, len(RETRY_SCHEDULE)) - 1] * scale)


def event_source(*, target_url: str) -> str:
    """A stable `source` per subscribed app, shaped like Intuit's ("intuit.<opaque id>")."""
    digest = hashlib.sha256(target_url.encode()).digest()
    return "intuit." + base64.b64encode(digest).decode()


def body(
    *,
    changes: Sequence[Change],
    webhook_format: str,
    source: str,
    legacy_time: str = "offset",
) -> bytes:
    """One delivery's body carrying `changes` (possibly of several companies)."""
    if webhook_format == LEGACY:
        return _dump(_legacy(changes, legacy_time))
    return _dump([_cloud_event(change, source) for change in changes])


def _dump(payload: object) -> bytes:
    # ASCII with escapes: a lone surrogate (an injected event) stays valid JSON in UTF-8.
    return json.dumps(payload, separators=(",", ":")).encode()


def _cloud_event(change: Change, source: str) -> dict:
    data = {"deletedid": change.deleted_id} if change.operation == "merged" else {}
    moment = change.occurred_at.astimezone(UTC)
    return {
        "specversion": "1.0",
        "id": str(change.event_id),
        "source": source,
        # Intuit's types name the entity in lower case: qbo.customer.created.v1,
        # qbo.invoice.voided.v1, qbo.salesreceipt.deleted.v1.
        "type": f"qbo.{change.entity.lower()}.{change.operation}.v1",
        "datacontenttype": "application/json",
        # Nanoseconds, as in Intuit's sample ("2025-09-10T21:31:25.179851517Z").
        "time": moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z",
        "intuitentityid": change.customer_id,
        "intuitaccountid": change.realm_id,
        "data": data,
    }


def legacy_time(moment: datetime, style: str) -> str | int:
    """lastUpdated in one of the shapes Intuit's samples show (LEGACY_TIMES)."""
    if style == "epoch_ms":
        return round(moment.timestamp() * 1000)
    if style == "utc_millis":
        return moment.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"
    return moment.astimezone(COMPANY_TIMEZONE).strftime("%Y-%m-%dT%H:%M:%S%z")


def _legacy(changes: Sequence[Change], time_style: str) -> dict:
    by_realm: dict[str, list[dict]] = {}
    for change in changes:
        entity = {
            "name": change.entity,
            "id": change.customer_id,
            "operation": _LEGACY_OPERATIONS[change.operation],
            "lastUpdated": legacy_time(change.occurred_at, time_style),
        }
        if change.operation == "merged":
            entity["deletedId"] = change.deleted_id
        by_realm.setdefault(change.realm_id, []).append(entity)
    return {
        "eventNotifications": [
            {"realmId": realm_id, "dataChangeEvent": {"entities": entities}}
            for realm_id, entities in by_realm.items()
        ]
    }

"""Webhook bodies (CloudEvents and legacy eventNotifications) and Intuit's signature.

Pure functions: no models, so they are testable on their own.
"""

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Sequence
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
}
# Seconds after each failed delivery attempt; then every 6 hours.
RETRY_SCHEDULE = (10, 20, 30, 5 * 60, 20 * 60, 2 * 3600, 4 * 3600, 6 * 3600)


class Change(Protocol):
    event_id: uuid.UUID
    realm_id: str
    customer_id: str
    operation: str  # created | updated | deleted | merged
    deleted_id: str
    occurred_at: datetime


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


def body(*, changes: Sequence[Change], webhook_format: str, source: str) -> bytes:
    """One delivery's body carrying `changes` (possibly of several companies)."""
    if webhook_format == LEGACY:
        return _dump(_legacy(changes))
    return _dump([_cloud_event(change, source) for change in changes])


def _dump(payload: object) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def _cloud_event(change: Change, source: str) -> dict:
    data = {"deletedid": change.deleted_id} if change.operation == "merged" else {}
    return {
        "specversion": "1.0",
        "id": str(change.event_id),
        "source": source,
        "type": f"qbo.customer.{change.operation}.v1",
        "datacontenttype": "application/json",
        "time": change.occurred_at.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z",
        "intuitentityid": change.customer_id,
        "intuitaccountid": change.realm_id,
        "data": data,
    }


def _legacy(changes: Sequence[Change]) -> dict:
    by_realm: dict[str, list[dict]] = {}
    for change in changes:
        entity = {
            "name": "Customer",
            "id": change.customer_id,
            "operation": _LEGACY_OPERATIONS[change.operation],
            "lastUpdated": change.occurred_at.astimezone(COMPANY_TIMEZONE).strftime(
                "%Y-%m-%dT%H:%M:%S%z"
            ),
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

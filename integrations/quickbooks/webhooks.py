"""QuickBooks webhooks: signature check and Customer events from either delivery format.

Current deliveries are a JSON array of CloudEvents ("qbo.customer.updated.v1", ...);
the legacy {"eventNotifications": [...]} format may still arrive. Events carry ids only.
"""

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


class MalformedWebhook(Exception):
    """The body is not a webhook delivery of either known shape."""


@dataclass(frozen=True)
class CustomerEvent:
    event_id: str  # the CloudEvent id, or a stable digest for a legacy event
    realm_id: str
    customer_id: str
    operation: str  # create, update, delete, merge, void, emailed, ...
    occurred_at: datetime
    deleted_id: str | None = None  # for a merge: the customer merged away


def verify_signature(*, body: bytes, signature: str | None, verifier_token: str) -> bool:
    """Whether `signature` (the intuit-signature header) is base64 HMAC-SHA256 of the raw
    body keyed with the app's verifier token. Constant time."""
    if not signature or not verifier_token:
        return False
    digest = hmac.new(verifier_token.encode(), body, hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(digest), signature.strip().encode(errors="replace"))


def parse_events(*, body: bytes) -> list[CustomerEvent]:
    """The Customer events of a delivery, other entities dropped; MalformedWebhook otherwise."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):  # bad JSON, bad UTF-8, absurd nesting
        raise MalformedWebhook("body is not JSON") from None
    if isinstance(payload, list):
        events = [_cloud_event(item) for item in payload]
    elif isinstance(payload, dict) and "eventNotifications" in payload:
        events = [
            event
            for notification in _list(payload["eventNotifications"], "eventNotifications")
            for event in _legacy_notification(notification)
        ]
    else:
        raise MalformedWebhook("neither a CloudEvents array nor eventNotifications")
    return [event for event in events if event is not None]


_CLOUD_TYPE = re.compile(r"qbo\.(?P<entity>[a-z]+)\.(?P<action>[a-z]+)\.v\d+")
# CloudEvents name actions in the past tense; the legacy format (lower-cased) does not.
_CLOUD_OPERATIONS = {
    "created": "create",
    "updated": "update",
    "deleted": "delete",
    "merged": "merge",
    "voided": "void",
}


def _cloud_event(item: Any) -> CustomerEvent | None:
    event = _dict(item, "event")
    event_type = _str(event.get("type"), "type")
    event_id = _str(event.get("id"), "id")
    match = _CLOUD_TYPE.fullmatch(event_type.lower())
    if match is None or match["entity"] != "customer":
        return None
    data = event.get("data")
    data = _dict(data, "data") if data is not None else {}
    action = match["action"]
    return CustomerEvent(
        event_id=event_id,
        realm_id=_str(event.get("intuitaccountid"), "intuitaccountid"),
        customer_id=_str(event.get("intuitentityid"), "intuitentityid"),
        operation=_CLOUD_OPERATIONS.get(action, action),
        occurred_at=_time(event.get("time")),
        deleted_id=_optional_str(data.get("deletedid", data.get("deletedId")), "deletedid"),
    )


def _legacy_notification(item: Any) -> list[CustomerEvent]:
    notification = _dict(item, "notification")
    realm_id = _str(notification.get("realmId"), "realmId")
    change = _dict(notification.get("dataChangeEvent"), "dataChangeEvent")
    events = []
    for raw in _list(change.get("entities"), "entities"):
        entity = _dict(raw, "entity")
        if _str(entity.get("name"), "name") != "Customer":
            continue
        customer_id = _str(entity.get("id"), "id")
        operation = _str(entity.get("operation"), "operation").lower()
        last_updated = _str(entity.get("lastUpdated"), "lastUpdated")
        # Legacy events have no id: the same change delivered twice gets the same one.
        digest = hashlib.sha256(
            "\x1f".join([realm_id, customer_id, operation, last_updated]).encode(
                errors="surrogatepass"
            )
        ).hexdigest()
        events.append(
            CustomerEvent(
                event_id=f"legacy-{digest[:40]}",
                realm_id=realm_id,
                customer_id=customer_id,
                operation=operation,
                occurred_at=_time(last_updated),
                deleted_id=_optional_str(entity.get("deletedId"), "deletedId"),
            )
        )
    return events


def _dict(value: Any, name: str) -> dict:
    if not isinstance(value, dict):
        raise MalformedWebhook(f"{name} is not an object")
    return value


def _list(value: Any, name: str) -> list:
    if not isinstance(value, list):
        raise MalformedWebhook(f"{name} is not an array")
    return value


def _str(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise MalformedWebhook(f"{name} is missing or not a string")
    return value.strip()


def _optional_str(value: Any, name: str) -> str | None:
    return None if value is None or value == "" else _str(value, name)


def _time(value: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(_str(value, "time"))
    except ValueError:
        raise MalformedWebhook("time is not an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

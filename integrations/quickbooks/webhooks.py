"""QuickBooks webhooks: signature check and the events of customers and of the sales
transactions behind their figures (SALES_ENTITIES), from either delivery format.

Current deliveries are a JSON array of CloudEvents ("qbo.customer.updated.v1", ...);
the legacy {"eventNotifications": [...]} format may still arrive. Events carry ids only.
Intuit sets no limit on the number of events a delivery carries.

Only the envelope can make a delivery malformed: one event the app cannot use (an id that
is not a QuickBooks id, NUL bytes, lone surrogates, an unreadable time or one out of range,
another entity) is dropped with its cause, and the rest of the delivery is kept. A change
dropped this way is still read by the catch-up (CDC, every 15 minutes).
"""

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ccsync.base import times


class MalformedWebhook(Exception):
    """The body is not a webhook delivery of either known shape."""


class _Unusable(Exception):
    """One event of a delivery cannot be used (the message says why, without its values)."""


# The transactions that change a customer's sales figures, by the names Intuit gives them.
SALES_ENTITIES = ("Invoice", "SalesReceipt", "CreditMemo", "RefundReceipt", "Payment")
_ENTITIES = {name.lower(): name for name in ("Customer", *SALES_ENTITIES)}


@dataclass(frozen=True)
class ChangeEvent:
    """A change of a customer (`customer_id`), or of a sales transaction (`entity` and
    `transaction_id`; `customer_id` empty: the event does not say whose it is)."""

    event_id: str  # the CloudEvent id, or a stable digest for a legacy event
    realm_id: str
    customer_id: str
    operation: str  # create, update, delete, merge, void, emailed, ...
    occurred_at: datetime
    deleted_id: str | None = None  # for a merge: the customer merged away
    entity: str = "Customer"
    transaction_id: str = ""


@dataclass(frozen=True)
class Dropped:
    """An event left out of a delivery: its company ("" when that is not a QuickBooks id)
    and why."""

    realm_id: str
    cause: str


@dataclass(frozen=True)
class Delivery:
    events: list[ChangeEvent] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)


def verify_signature(*, body: bytes, signature: str | None, verifier_token: str) -> bool:
    """Whether `signature` (the intuit-signature header) is base64 HMAC-SHA256 of the raw
    body keyed with the app's verifier token. Constant time."""
    if not signature or not verifier_token:
        return False
    digest = hmac.new(verifier_token.encode(), body, hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(digest), signature.strip().encode(errors="replace"))


def is_quickbooks_id(value: str) -> bool:
    """QuickBooks ids (of companies and of customers) are strings of digits."""
    return bool(_DIGITS.fullmatch(value))


def parse_delivery(*, body: bytes) -> Delivery:
    """The customer and sales transaction events of a delivery and the events dropped;
    MalformedWebhook when the body is not a delivery at all."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):  # bad JSON, bad UTF-8, absurd nesting
        raise MalformedWebhook("body is not JSON") from None
    delivery = Delivery()
    if isinstance(payload, list):
        for item in payload:
            _keep(
                delivery, _realm_of(item, "intuitaccountid"), lambda item=item: _cloud_event(item)
            )
    elif isinstance(payload, dict) and isinstance(payload.get("eventNotifications"), list):
        for notification in payload["eventNotifications"]:
            _legacy_notification(delivery, notification)
    else:
        raise MalformedWebhook("neither a CloudEvents array nor eventNotifications")
    return delivery


def _keep(delivery: Delivery, realm_id: str, parse) -> None:
    try:
        event = parse()
    except _Unusable as error:
        delivery.dropped.append(Dropped(realm_id=realm_id, cause=str(error)))
        return
    if event is not None:
        delivery.events.append(event)


def _realm_of(item: Any, name: str) -> str:
    """The event's company for the log line, when it is a QuickBooks id."""
    realm = item.get(name) if isinstance(item, dict) else None
    return realm if isinstance(realm, str) and is_quickbooks_id(realm) else ""


_DIGITS = re.compile(r"[0-9]+")
_OPERATION = re.compile(r"[a-z]+")
_CLOUD_TYPE = re.compile(r"qbo\.(?P<entity>[a-z]+)\.(?P<action>[a-z]+)\.v\d+")
# CloudEvents name actions in the past tense; the legacy format (lower-cased) does not.
_CLOUD_OPERATIONS = {
    "created": "create",
    "updated": "update",
    "deleted": "delete",
    "merged": "merge",
    "voided": "void",
}


def _cloud_event(item: Any) -> ChangeEvent:
    event = _dict(item, "event")
    match = _CLOUD_TYPE.fullmatch(_text(event.get("type"), "type").lower())
    if match is None or match["entity"] not in _ENTITIES:
        raise _Unusable("not an event of a customer or a sales transaction")
    data = event.get("data")
    data = _dict(data, "data") if data is not None else {}
    action = match["action"]
    return _event(
        entity=_ENTITIES[match["entity"]],
        event_id=_text(event.get("id"), "id"),
        realm_id=_id(event.get("intuitaccountid"), "intuitaccountid"),
        entity_id=_id(event.get("intuitentityid"), "intuitentityid"),
        operation=_CLOUD_OPERATIONS.get(action, action),
        occurred_at=_time(event.get("time")),
        deleted_id=_optional_id(data.get("deletedid", data.get("deletedId")), "deletedid"),
    )


def _event(*, entity: str, entity_id: str, **fields: Any) -> ChangeEvent:
    if entity == "Customer":
        return ChangeEvent(customer_id=entity_id, **fields)
    return ChangeEvent(customer_id="", entity=entity, transaction_id=entity_id, **fields)


def _legacy_notification(delivery: Delivery, item: Any) -> None:
    realm = _realm_of(item, "realmId")
    try:
        notification = _dict(item, "notification")
        realm_id = _id(notification.get("realmId"), "realmId")
        change = _dict(notification.get("dataChangeEvent"), "dataChangeEvent")
        entities = _list(change.get("entities"), "entities")
    except _Unusable as error:
        delivery.dropped.append(Dropped(realm_id=realm, cause=str(error)))
        return
    for raw in entities:
        _keep(delivery, realm, lambda raw=raw: _legacy_event(realm_id, raw))


def _legacy_event(realm_id: str, raw: Any) -> ChangeEvent:
    entity = _dict(raw, "entity")
    name = _ENTITIES.get(_text(entity.get("name"), "name").lower())
    if name is None:
        raise _Unusable("not an event of a customer or a sales transaction")
    entity_id = _id(entity.get("id"), "id")
    operation = _text(entity.get("operation"), "operation").lower()
    if not _OPERATION.fullmatch(operation):
        raise _Unusable("operation is not a word")
    last_updated = entity.get("lastUpdated")
    occurred_at = _time(last_updated)
    # Legacy events have no id: the same change delivered twice gets the same one.
    key = [realm_id, entity_id, operation, str(last_updated).strip()]
    if name != "Customer":  # a customer's digest stays what it was before transactions
        key.insert(1, name)
    digest = hashlib.sha256("\x1f".join(key).encode()).hexdigest()
    return _event(
        entity=name,
        event_id=f"legacy-{digest[:40]}",
        realm_id=realm_id,
        entity_id=entity_id,
        operation=operation,
        occurred_at=occurred_at,
        deleted_id=_optional_id(entity.get("deletedId"), "deletedId"),
    )


def _dict(value: Any, name: str) -> dict:
    if not isinstance(value, dict):
        raise _Unusable(f"{name} is not an object")
    return value


def _list(value: Any, name: str) -> list:
    if not isinstance(value, list):
        raise _Unusable(f"{name} is not an array")
    return value


def _text(value: Any, name: str) -> str:
    """A non-empty string that can be stored: no NUL byte, no lone surrogate."""
    if not isinstance(value, str) or not value.strip():
        raise _Unusable(f"{name} is missing or not a string")
    if "\x00" in value:
        raise _Unusable(f"{name} holds a NUL byte")
    try:
        value.encode()
    except UnicodeEncodeError:
        raise _Unusable(f"{name} holds a lone surrogate") from None
    return value.strip()


def _id(value: Any, name: str) -> str:
    text = _text(value, name)
    if not is_quickbooks_id(text):
        raise _Unusable(f"{name} is not a QuickBooks id")
    return text


def _optional_id(value: Any, name: str) -> str | None:
    return None if value is None or value == "" else _id(value, name)


def _time(value: Any) -> datetime:
    """ISO 8601 (fractions of a second or none, Z or an offset; UTC without one) or epoch
    milliseconds, as a number or a string of digits; in UTC, and within the range of times
    the app keeps (ccsync.base.times: year 1, year 9999, an offset that crosses either end
    are not times QuickBooks can mean, and nobody could read them back once stored)."""
    if isinstance(value, int) and not isinstance(value, bool):
        moment = _epoch_milliseconds(value)
    else:
        text = _text(value, "time")
        if is_quickbooks_id(text):  # digits alone: epoch milliseconds
            moment = _epoch_milliseconds(int(text))
        else:
            try:
                moment = datetime.fromisoformat(text)
            except ValueError:
                raise _Unusable("time is not an ISO 8601 time or epoch milliseconds") from None
    kept = times.plausible(moment)
    if kept is None:
        raise _Unusable("time is out of range")
    return kept


def _epoch_milliseconds(value: int) -> datetime:
    try:
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise _Unusable("time is out of range") from None

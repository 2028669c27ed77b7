"""Constant Contact's rules over plain values and duck-typed objects: said once here for the
sandbox's models and for the in-process fake (tests/plugins/fake_constantcontact.py), which
runs where the sandbox's apps are not installed. So this module imports no model."""

import math
import re
import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol, TypeGuard, TypeVar

from django.utils.dateparse import parse_datetime

from sandbox.constantcontact.shapes import iso, without_nulls

PERMISSIONS = (
    "explicit",
    "implicit",
    "not_set",
    "pending_confirmation",
    "temp_hold",
    "unsubscribed",
)
SOURCES = ("Contact", "Account")
# GET /contacts: the `status` values, and the sub-resources `include` may name.
CONTACT_STATUSES = ("all", "active", "deleted", *PERMISSIONS)
INCLUDES = (
    "custom_fields",
    "list_memberships",
    "phone_numbers",
    "street_addresses",
    "taggings",
    "notes",
)
PHONE_KINDS = ("home", "work", "mobile", "other")
ADDRESS_KINDS = ("home", "work", "other")
NAME_FIELDS = ("first_name", "last_name", "job_title", "company_name")
ADDRESS_LIMITS = {"street": 255, "city": 50, "state": 50, "postal_code": 50, "country": 50}
MAX_EMAIL = 80
EMAIL_RE = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")


MAX_VALUE = 255
# A bulk activity's states before it completes.
UNFINISHED = ("initialized", "processing")
TYPES = (
    "string",
    "text_area",
    "number",
    "currency",
    "date",
    "datetime",
    "boolean",
    "single_select",
    "multi_select",
)
NUMERIC = ("number", "currency")
SELECTS = ("single_select", "multi_select")
# The date formats the spec gives for an import's dates (`anniversary`, `sms_consent_date`).
DATE_FORMATS = (
    (re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$"), ("m", "d", "y")),
    (re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"), ("y", "m", "d")),
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), ("y", "m", "d")),
    (re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{4})$"), ("m", "d", "y")),
)
NUMBER_RE = re.compile(r"^-?\d+(\.\d+)?$")


def valid_email(address: Any) -> TypeGuard[str]:
    return isinstance(address, str) and len(address) <= MAX_EMAIL and bool(EMAIL_RE.match(address))


def stamp_items(items: list[dict], id_name: str, *, source: str, now: datetime) -> list[dict]:
    """Sub-resources (phones, addresses) as stored: each with a new id and its times."""
    stamped = []
    for item in items:
        extra = {id_name: str(uuid.uuid4()), "created_at": iso(now), "updated_at": iso(now)}
        if id_name == "phone_number_id":
            extra.update(create_source=source, update_source=source)
        stamped.append({**without_nulls(item), **extra})
    return stamped


class FieldRules(Protocol):
    """What check_value reads of a custom field: a CustomField, or the fake's."""

    @property
    def type(self) -> str: ...
    @property
    def metadata(self) -> Any: ...
    @property
    def choices(self) -> Any: ...


class HasPermission(Protocol):
    """What set_permission reads and writes: a Contact, or the fake's."""

    permission_to_send: str
    email_updated_at: datetime
    opt_in_source: str
    opt_in_date: datetime | None
    opt_out_source: str
    opt_out_date: datetime | None
    opt_out_reason: str


Contactish = TypeVar("Contactish", bound=HasPermission)


def new_contact(
    make: Callable[..., Contactish], *, email: str, source: str, permission: str, now: datetime
) -> Contactish:
    """A new contact made by `make` (a Contact's or the fake's class, given what else it
    needs), with its email address, times and opt-in set as Constant Contact does."""
    contact = make(
        email=email,
        permission_to_send="",  # set below, with its opt-in
        create_source=source,
        update_source=source,
        created_at=now,
        updated_at=now,
        email_created_at=now,
        email_updated_at=now,
    )
    set_permission(contact, permission, source=source, now=now)
    return contact


def write_fields(contact: Any, fields: dict[str, Any], *, replace: bool, now: datetime) -> None:
    """A POST's or PUT's checked fields (validation.contact_fields) written to the contact, a
    Contact or the fake's, but for its lists: with `replace` (a PUT) the top-level fields not
    sent become empty; sub-resources not sent are kept either way."""
    for name in (*NAME_FIELDS, "anniversary", "birthday_month", "birthday_day"):
        if replace or fields.get(name) is not None:
            empty = None if name.startswith("birthday") else ""
            setattr(contact, name, fields.get(name) or empty)
    contact.update_source = fields["source"]
    contact.updated_at = now
    if "phone_numbers" in fields:
        contact.phone_numbers = stamp_items(
            fields["phone_numbers"], "phone_number_id", source=fields["source"], now=now
        )
    if "street_addresses" in fields:
        contact.street_addresses = stamp_items(
            fields["street_addresses"], "street_address_id", source=fields["source"], now=now
        )
    for name in ("custom_fields", "notes"):
        if name in fields:
            setattr(contact, name, fields[name])


def set_permission(contact: HasPermission, permission: str, *, source: str, now: datetime) -> None:
    """The contact's permission to send, with the opt-in or opt-out it means."""
    if permission == contact.permission_to_send:
        return
    contact.permission_to_send = permission
    contact.email_updated_at = now
    if permission == "unsubscribed":
        contact.opt_out_source, contact.opt_out_date = source, now
    else:
        contact.opt_out_source, contact.opt_out_date, contact.opt_out_reason = "", None, ""
        if permission in ("explicit", "implicit"):
            contact.opt_in_source, contact.opt_in_date = source, now


def check_value(field: FieldRules, value: str) -> str:
    """The value as stored, or ValueError saying why the field refuses it.

    number, currency: digits with an optional leading "-" and "." decimals (no thousands
    separators or currency symbols: nothing documents them); negative only with
    `allow_negative` (the spec's default is false; the sandbox applies it to currency too),
    decimals only up to `decimal_places` and none when `integer` is true or no places are set.
    date: the formats the spec lists for an import's dates, stored as YYYY-MM-DD. datetime:
    ISO-8601. boolean: true or false. Selects: choice labels (multi_select comma-separated).
    """
    if len(value) > MAX_VALUE:
        raise ValueError(f"exceeds the maximum length of {MAX_VALUE}")
    if field.type in NUMERIC:
        return _number(field, value)
    if field.type == "date":
        return _date(value).isoformat()
    if field.type == "datetime":
        if parse_datetime(value) is None:
            raise ValueError("is not a valid date and time")
    elif field.type == "boolean":
        if value.lower() not in ("true", "false"):
            raise ValueError("must be true or false")
        return value.lower()
    elif field.type in SELECTS:
        _check_choices(field, value)
    return value


def _number(field: FieldRules, value: str) -> str:
    text = value.strip()
    if not NUMBER_RE.match(text):
        raise ValueError("is not a valid number")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError("is not a valid number") from None
    metadata = field.metadata or {}
    if number < 0 and not metadata.get("allow_negative", False):
        raise ValueError("cannot be negative")
    places = 0 if metadata.get("integer") else int(metadata.get("decimal_places") or 0)
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise ValueError(f"can have at most {places} decimal places")
    return text


def _date(value: str) -> date:
    for pattern, order in DATE_FORMATS:
        match = pattern.match(value.strip())
        if match:
            parts = dict(zip(order, (int(item) for item in match.groups()), strict=True))
            try:
                return datetime(parts["y"], parts["m"], parts["d"]).date()
            except ValueError:
                break
    raise ValueError("is not a valid date")


def _check_choices(field: FieldRules, value: str) -> None:
    labels = {choice["choice_label"] for choice in field.choices}
    picked: Sequence[str] = (
        [item.strip() for item in value.split(",")] if field.type == "multi_select" else [value]
    )
    if not all(item in labels for item in picked):
        raise ValueError("is not one of the field's choices")


class ContactShape(Protocol):
    """What a contact's JSON shows of it (beyond the NAME_FIELDS): a Contact, or the fake's."""

    @property
    def contact_id(self) -> Any: ...
    @property
    def email(self) -> str: ...
    @property
    def permission_to_send(self) -> str: ...
    @property
    def email_created_at(self) -> datetime: ...
    @property
    def email_updated_at(self) -> datetime: ...
    @property
    def opt_in_source(self) -> str: ...
    @property
    def opt_in_date(self) -> datetime | None: ...
    @property
    def opt_out_source(self) -> str: ...
    @property
    def opt_out_date(self) -> datetime | None: ...
    @property
    def opt_out_reason(self) -> str: ...
    @property
    def birthday_month(self) -> int | None: ...
    @property
    def birthday_day(self) -> int | None: ...
    @property
    def anniversary(self) -> str: ...
    @property
    def create_source(self) -> str: ...
    @property
    def update_source(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...
    @property
    def deleted_at(self) -> datetime | None: ...


def contact_body(contact: ContactShape) -> dict[str, Any]:
    """A contact as the API gives it, but for the sub-resources `include` asks for."""
    email = without_nulls(
        {
            "address": contact.email,
            "permission_to_send": contact.permission_to_send,
            "created_at": iso(contact.email_created_at),
            "updated_at": iso(contact.email_updated_at),
            "opt_in_source": contact.opt_in_source,
            "opt_in_date": iso(contact.opt_in_date),
            "opt_out_source": contact.opt_out_source,
            "opt_out_date": iso(contact.opt_out_date),
            "opt_out_reason": contact.opt_out_reason,
            "confirm_status": "off",
        }
    )
    body = without_nulls(
        {
            "contact_id": str(contact.contact_id),
            "email_address": email,
            **{name: getattr(contact, name) for name in NAME_FIELDS},
            "birthday_month": contact.birthday_month,
            "birthday_day": contact.birthday_day,
            "anniversary": contact.anniversary,
            "create_source": contact.create_source,
            "update_source": contact.update_source,
            "created_at": iso(contact.created_at),
            "updated_at": iso(contact.updated_at),
            "deleted_at": contact.deleted_at.date().isoformat() if contact.deleted_at else None,
        }
    )
    return body


class Progressing(Protocol):
    """What advancing a bulk activity reads and writes: an Activity, or the fake's."""

    items_total_count: int
    items_completed_count: int
    state: str
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    completed_at: datetime | None


def items_due(activity: Progressing, *, rate: float, now: datetime) -> int | None:
    """How many of the activity's items are done by `now`, `rate` items a second since it
    was created (all at once for an infinite rate), or None when none more are."""
    total = activity.items_total_count
    elapsed = (now - activity.created_at).total_seconds()
    target = total if rate == math.inf else min(total, math.floor(elapsed * rate))
    if target <= activity.items_completed_count and total > 0:
        return None
    return target


def advance_to(activity: Progressing, target: int, *, now: datetime) -> None:
    """The activity's state once its first `target` items are done."""
    activity.items_completed_count = target
    activity.started_at = activity.started_at or now
    activity.state = "completed" if target >= activity.items_total_count else "processing"
    if activity.state == "completed":
        activity.completed_at = now
    activity.updated_at = now

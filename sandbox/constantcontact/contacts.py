"""Contacts and lists of an account: the V3 JSON shapes, validation, queries and writes."""

import base64
import json
import re
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from sandbox.constantcontact.faults import bad_request, conflict, not_found
from sandbox.constantcontact.models import Account, Contact, ContactList

PERMISSIONS = (
    "explicit",
    "implicit",
    "not_set",
    "pending_confirmation",
    "temp_hold",
    "unsubscribed",
)
CONTACT_STATUSES = ("all", "active", "deleted", *PERMISSIONS)
INCLUDES = (
    "custom_fields",
    "list_memberships",
    "phone_numbers",
    "street_addresses",
    "taggings",
    "notes",
)
SOURCES = ("Contact", "Account")
PHONE_KINDS = ("home", "work", "mobile", "other")
ADDRESS_KINDS = ("home", "work", "other")
NAME_FIELDS = ("first_name", "last_name", "job_title", "company_name")
ADDRESS_LIMITS = {"street": 255, "city": 50, "state": 50, "postal_code": 50, "country": 50}
CURSOR_POSITIONS = ("offset", "after", "before")  # where a page resumes
MAX_EMAIL = 80
MAX_LISTS_FILTER = 25
MAX_MEMBERSHIPS = 50
EMAIL_RE = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")


# --- JSON shapes -------------------------------------------------------------------------


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _without_nulls(values: dict[str, Any]) -> dict[str, Any]:
    # The spec's fields are not nullable: Constant Contact leaves empty ones out.
    return {key: value for key, value in values.items() if value not in (None, "")}


def list_json(contact_list: ContactList, *, membership_count: int | None = None) -> dict:
    body = _without_nulls(
        {
            "list_id": str(contact_list.list_id),
            "name": contact_list.name,
            "description": contact_list.description,
            "favorite": contact_list.favorite,
            "created_at": iso(contact_list.created_at),
            "updated_at": iso(contact_list.updated_at),
            "deleted_at": iso(contact_list.deleted_at),
        }
    )
    body["favorite"] = contact_list.favorite
    if membership_count is not None:
        body["membership_count"] = membership_count
    return body


def contact_json(contact: Contact, *, include: Iterable[str] = ()) -> dict:
    email = _without_nulls(
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
    body = _without_nulls(
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
    for name in include:
        if name == "list_memberships":
            body[name] = sorted(str(item.list_id) for item in contact.lists.all())
        elif name == "taggings":
            body[name] = []
        else:
            body[name] = getattr(contact, name)
    return body


# --- Lists -------------------------------------------------------------------------------


def create_list(*, account: Account, name: str, description: str = "", favorite: bool = False):
    name = name.strip()
    if not name or len(name) > 255:
        raise bad_request("The list name must be 1 to 255 characters long.")
    if live_lists(account).filter(name__iexact=name).exists():
        raise conflict(f"The list name '{name}' is already in use.")
    try:
        with transaction.atomic():
            return ContactList.objects.create(
                account=account, name=name, description=description, favorite=favorite
            )
    except IntegrityError:
        raise conflict(f"The list name '{name}' is already in use.") from None


def live_lists(account: Account) -> QuerySet[ContactList]:
    return ContactList.objects.filter(account=account, deleted_at__isnull=True)


def lists_of(*, account: Account, status: str, name: str | None) -> QuerySet[ContactList]:
    found = ContactList.objects.filter(account=account)
    if status == "active":
        found = found.filter(deleted_at__isnull=True)
    elif status == "deleted":
        found = found.filter(deleted_at__isnull=False)
    elif status != "all":
        raise bad_request("'status' must be all, active or deleted.")
    if name:
        found = found.filter(name__iexact=name)
    return found.order_by("created_at", "list_id")


def update_list(
    *, contact_list: ContactList, name: str, description: str | None, favorite: bool | None
) -> ContactList:
    name = name.strip()
    if not name or len(name) > 255:
        raise bad_request("The list name must be 1 to 255 characters long.")
    taken = live_lists(contact_list.account).filter(name__iexact=name)
    if taken.exclude(pk=contact_list.pk).exists():
        raise conflict(f"The list name '{name}' is already in use.")
    contact_list.name = name
    if description is not None:
        contact_list.description = str(description)
    if favorite is not None:
        contact_list.favorite = bool(favorite)
    contact_list.save()
    return contact_list


def get_list(*, account: Account, list_id: str) -> ContactList:
    found = ContactList.objects.filter(account=account, list_id=parse_id(list_id)).first()
    if found is None:
        raise not_found()
    return found


def lists_by_ids(*, account: Account, list_ids: Sequence[str]) -> list[ContactList]:
    """The account's live lists with these ids; a 400 naming any that does not exist."""
    wanted = list(dict.fromkeys(list_ids))
    ids = [parse_id(item) for item in wanted]
    found = {str(item.list_id): item for item in live_lists(account).filter(list_id__in=ids)}
    missing = [item for item in wanted if item not in found]
    if missing:
        raise bad_request(*(f"List {item} does not exist." for item in missing))
    return [found[item] for item in wanted]


def membership_counts(lists: Iterable[ContactList], *, active_only: bool) -> dict[Any, int]:
    members = Q(contacts__deleted_at__isnull=True)
    if active_only:
        members &= ~Q(contacts__permission_to_send="unsubscribed")
    rows = ContactList.objects.filter(pk__in=[item.pk for item in lists]).annotate(
        members=Count("contacts", filter=members)
    )
    return {row.pk: row.members for row in rows}


def parse_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise bad_request(f"'{value}' is not a valid id.") from None


# --- Queries -----------------------------------------------------------------------------


def csv_param(value: str | None, *, allowed: Sequence[str], name: str) -> list[str]:
    items = [item.strip() for item in (value or "").split(",") if item.strip()]
    unknown = [item for item in items if item not in allowed]
    if unknown:
        raise bad_request(f"'{unknown[0]}' is not a valid value for '{name}'.")
    return items


def parse_moment(value: str | None, *, name: str) -> datetime | None:
    if not value:
        return None
    moment = parse_datetime(value.replace(" ", "+"))
    if moment is None:
        raise bad_request(f"'{name}' must be an ISO-8601 date-time.")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def contacts_query(
    *,
    account: Account,
    status: Sequence[str] = (),
    email: str | None = None,
    list_ids: Sequence[str] = (),
    updated_after: datetime | None = None,
    optout_after: datetime | None = None,
) -> QuerySet[Contact]:
    found = Contact.objects.filter(account=account)
    if "all" not in status:
        found = found.filter(_status_filter(status))
    if email:
        found = found.filter(email_key=email.strip().lower())
    if list_ids:
        if len(list_ids) > MAX_LISTS_FILTER:
            raise bad_request(f"At most {MAX_LISTS_FILTER} lists can be used as a filter.")
        found = found.filter(lists__list_id__in=[parse_id(item) for item in list_ids]).distinct()
    if updated_after:
        found = found.filter(updated_at__gt=updated_after)
    if optout_after:
        found = found.filter(opt_out_date__gt=optout_after)
    return found.order_by("id")


def _status_filter(status: Sequence[str]) -> Q:
    live = Q(deleted_at__isnull=True)
    if not status:
        return live  # deleted contacts are left out unless asked for
    wanted = Q(pk__in=[])
    for item in status:
        if item == "deleted":
            wanted |= Q(deleted_at__isnull=False)
        elif item == "active":
            wanted |= live & ~Q(permission_to_send="unsubscribed")
        else:
            wanted |= live & Q(permission_to_send=item)
    return wanted


def encode_cursor(values: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except ValueError:
        raise bad_request("The cursor is not valid.") from None
    positions = (
        [values.get(name, 0) for name in CURSOR_POSITIONS] if isinstance(values, dict) else []
    )
    if not positions or not all(isinstance(item, int) for item in positions):
        raise bad_request("The cursor is not valid.")
    return values


def find_contact(*, account: Account, contact_id: str) -> Contact:
    found = Contact.objects.filter(account=account, contact_id=parse_id(contact_id)).first()
    if found is None:
        raise not_found()
    return found


# --- Validation --------------------------------------------------------------------------


def valid_email(address: Any) -> bool:
    return isinstance(address, str) and len(address) <= MAX_EMAIL and bool(EMAIL_RE.match(address))


class _Checker:
    """Collects every validation problem of one request body, as Constant Contact does."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def text(self, body: dict, name: str, limit: int, *, where: str = "") -> str | None:
        value = body.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            self.problems.append(f"'{where}{name}' must be a string.")
        elif len(value) > limit:
            self.problems.append(f"'{where}{name}' exceeds the maximum length of {limit}.")
        return value

    def choice(self, value: Any, allowed: Sequence[str], name: str) -> None:
        if value not in allowed:
            self.problems.append(f"'{name}' must be one of {', '.join(allowed)}.")

    def many(self, body: dict, name: str, limit: int) -> list:
        value = body.get(name) or []
        if not isinstance(value, list):
            self.problems.append(f"'{name}' must be an array.")
            return []
        if len(value) > limit:
            self.problems.append(f"'{name}' can have at most {limit} items.")
        return [item for item in value if isinstance(item, dict) or name == "list_memberships"]

    def raise_if_any(self) -> None:
        if self.problems:
            raise bad_request(*self.problems)


def _now() -> datetime:
    return timezone.now()


def stamp_items(items: list[dict], id_name: str, *, source: str, now: datetime) -> list[dict]:
    stamped = []
    for item in items:
        extra = {id_name: str(uuid.uuid4()), "created_at": iso(now), "updated_at": iso(now)}
        if id_name == "phone_number_id":
            extra.update(create_source=source, update_source=source)
        stamped.append({**_without_nulls(item), **extra})
    return stamped


def _validated(account: Account, body: Any, *, source_field: str) -> dict[str, Any]:
    """The writable fields of a POST/PUT contact body, or a 400 listing every problem."""
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    check = _Checker()
    email = body.get("email_address")
    fields: dict[str, Any] = {}
    if email is not None:
        if not isinstance(email, dict) or not valid_email(email.get("address")):
            check.problems.append("'email_address.address' must be a valid email address.")
        else:
            fields["email"] = email["address"].strip()
            if "permission_to_send" in email:
                check.choice(email["permission_to_send"], PERMISSIONS, "permission_to_send")
                fields["permission_to_send"] = email["permission_to_send"]
    for name in NAME_FIELDS:
        fields[name] = check.text(body, name, 50)
    fields["anniversary"] = check.text(body, "anniversary", 10)
    for name, top in (("birthday_month", 12), ("birthday_day", 31)):
        value = body.get(name)
        if value is not None and (not isinstance(value, int) or not 1 <= value <= top):
            check.problems.append(f"'{name}' must be an integer from 1 to {top}.")
        fields[name] = value
    source = body.get(source_field)
    check.choice(source, SOURCES, source_field)
    fields["source"] = source
    if "phone_numbers" in body:
        phones = check.many(body, "phone_numbers", 3)
        for phone in phones:
            check.text(phone, "phone_number", 25, where="phone_numbers.")
            check.choice(phone.get("kind"), PHONE_KINDS, "phone_numbers.kind")
        fields["phone_numbers"] = [
            {"phone_number": item.get("phone_number"), "kind": item.get("kind")} for item in phones
        ]
    if "street_addresses" in body:
        addresses = check.many(body, "street_addresses", 3)
        for address in addresses:
            check.choice(address.get("kind"), ADDRESS_KINDS, "street_addresses.kind")
            for name, limit in ADDRESS_LIMITS.items():
                check.text(address, name, limit, where="street_addresses.")
        fields["street_addresses"] = [
            {"kind": item.get("kind"), **{name: item.get(name) for name in ADDRESS_LIMITS}}
            for item in addresses
        ]
    if "custom_fields" in body:
        custom = check.many(body, "custom_fields", 25)
        for item in custom:
            check.text(item, "value", 255, where="custom_fields.")
        fields["custom_fields"] = [
            {"custom_field_id": item.get("custom_field_id"), "value": item.get("value")}
            for item in custom
        ]
    if "notes" in body:
        fields["notes"] = check.many(body, "notes", 150)
    if "list_memberships" in body:
        memberships = check.many(body, "list_memberships", MAX_MEMBERSHIPS)
        check.raise_if_any()
        fields["lists"] = lists_by_ids(account=account, list_ids=[str(i) for i in memberships])
    check.raise_if_any()
    return fields


# --- Writes ------------------------------------------------------------------------------


def _email_taken(account: Account, email: str, *, other_than: Contact | None = None) -> bool:
    taken = Contact.objects.filter(account=account, email_key=email.lower())
    if other_than is not None:
        taken = taken.exclude(pk=other_than.pk)
    return taken.exists()


def new_contact(*, account: Account, email: str, source: str, permission: str) -> Contact:
    """An unsaved contact with its email address and opt-in set as Constant Contact does."""
    now = _now()
    contact = Contact(
        account=account,
        email=email,
        email_key=email.lower(),
        create_source=source,
        update_source=source,
        created_at=now,
        updated_at=now,
        email_created_at=now,
        email_updated_at=now,
    )
    set_permission(contact, permission, source=source, now=now)
    return contact


def set_permission(contact: Contact, permission: str, *, source: str, now: datetime) -> None:
    if permission == contact.permission_to_send and contact.pk:
        return
    contact.permission_to_send = permission
    contact.email_updated_at = now
    if permission == "unsubscribed":
        contact.opt_out_source, contact.opt_out_date = source, now
    else:
        contact.opt_out_source, contact.opt_out_date, contact.opt_out_reason = "", None, ""
        if permission in ("explicit", "implicit"):
            contact.opt_in_source, contact.opt_in_date = source, now


def create_contact(*, account: Account, body: Any) -> Contact:
    fields = _validated(account, body, source_field="create_source")
    if "email" not in fields:
        raise bad_request("'email_address' is required.")
    if _email_taken(account, fields["email"]):
        raise conflict("Validation failed: Email already exists.")
    contact = new_contact(
        account=account,
        email=fields["email"],
        source=fields["source"],
        permission=fields.get("permission_to_send", "implicit"),
    )
    return _save(contact, fields, replace=False)


def replace_contact(*, account: Account, contact_id: str, body: Any) -> Contact:
    """PUT: top-level fields not sent become empty; sub-resources not sent are kept."""
    contact = find_contact(account=account, contact_id=contact_id)
    fields = _validated(account, body, source_field="update_source")
    source, now = fields["source"], _now()
    if "email" in fields and fields["email"].lower() != contact.email_key:
        if _email_taken(account, fields["email"], other_than=contact):
            raise conflict("Validation failed: Email already exists.")
        contact.email, contact.email_key = fields["email"], fields["email"].lower()
        contact.email_updated_at = now
    permission = fields.get("permission_to_send")
    # Only the contact can opt back in: an Account update leaves an unsubscribe in place.
    if permission and not (contact.permission_to_send == "unsubscribed" and source != "Contact"):
        set_permission(contact, permission, source=source, now=now)
    if contact.deleted_at is not None:
        contact.deleted_at = None
    return _save(contact, fields, replace=True)


def _save(contact: Contact, fields: dict[str, Any], *, replace: bool) -> Contact:
    now = _now()
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
    try:
        with transaction.atomic():
            contact.save()
            if "lists" in fields:
                contact.lists.set(fields["lists"])
    except IntegrityError:
        raise conflict("Validation failed: Email already exists.") from None
    return contact


def delete_contact(*, account: Account, contact_id: str) -> None:
    contact = find_contact(account=account, contact_id=contact_id)
    if contact.deleted_at is None:
        contact.deleted_at = contact.updated_at = _now()
        contact.save(update_fields=["deleted_at", "updated_at"])


def sign_up(*, account: Account, body: Any) -> tuple[Contact, bool]:
    """POST /contacts/sign_up_form: create or update by email, append lists, and opt the
    contact in (explicit), re-subscribing an unsubscribed contact. Returns (contact, created)."""
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    check = _Checker()
    address = body.get("email_address")
    if not valid_email(address):
        check.problems.append("'email_address' must be a valid email address.")
    memberships = check.many(body, "list_memberships", MAX_MEMBERSHIPS)
    if not memberships:
        check.problems.append("'list_memberships' must list at least one list.")
    for name in NAME_FIELDS:
        check.text(body, name, 50)
    check.text(body, "phone_number", 25)
    check.raise_if_any()
    lists = lists_by_ids(account=account, list_ids=[str(item) for item in memberships])
    now = _now()
    with transaction.atomic():
        contact = Contact.objects.filter(account=account, email_key=address.lower()).first()
        created = contact is None
        if created:
            contact = new_contact(
                account=account, email=address, source="Contact", permission="explicit"
            )
        else:
            set_permission(contact, "explicit", source="Contact", now=now)
            contact.deleted_at = None
        for name in NAME_FIELDS:
            if body.get(name) is not None:
                setattr(contact, name, body[name])
        if body.get("phone_number"):
            phones = [p for p in contact.phone_numbers if p.get("kind") != "other"]
            contact.phone_numbers = phones + stamp_items(
                [{"phone_number": body["phone_number"], "kind": "other"}],
                "phone_number_id",
                source="Contact",
                now=now,
            )
        contact.update_source = "Contact"
        contact.updated_at = now
        contact.save()
        contact.lists.add(*lists)
    return contact, created


def unsubscribe(*, contact: Contact, source: str = "Contact") -> None:
    """The contact opts out (the sandbox page's Unsubscribe button, or the control API)."""
    now = _now()
    set_permission(contact, "unsubscribed", source=source, now=now)
    contact.updated_at = now
    contact.save()

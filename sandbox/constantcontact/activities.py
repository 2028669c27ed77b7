"""Bulk activities (JSON contact import, add list memberships), processed lazily.

Every read of an account's activities, contacts or pages (and a background tick) advances
its unfinished activities to where they would be by now: elapsed seconds since creation x
the knob `cc_import_rate_per_second` items. So contacts appear progressively, and the same
timings always give the same states.
"""

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from sandbox.constantcontact import contacts as cc
from sandbox.constantcontact.faults import ApiError, bad_request
from sandbox.constantcontact.models import Account, Activity, Contact, ContactList
from sandbox.control import knobs

MAX_IMPORT_BYTES = 4 * 1024 * 1024
MAX_IMPORT_CONTACTS = 40_000
MAX_SOURCE_CONTACTS = 500
MAX_TARGET_LISTS = 50
UNFINISHED = ("initialized", "processing")
BATCH = 500

PHONE_COLUMNS = {"home_phone": "home", "work_phone": "work", "mobile_phone": "mobile"}
# Columns without a kind land in "other" (as does other_phone, which wins over phone).
PHONE_COLUMN_ORDER = (("phone", "other"), *PHONE_COLUMNS.items(), ("other_phone", "other"))
ADDRESS_PREFIXES = (("", "other"), ("home_", "home"), ("work_", "work"), ("other_", "other"))
ADDRESS_COLUMNS = {"city": "city", "state": "state", "zip": "postal_code", "country": "country"}
ROW_TEXT_LIMITS = {
    "email": cc.MAX_EMAIL,
    **{name: 50 for name in cc.NAME_FIELDS},
    **{column: 25 for column, _ in PHONE_COLUMN_ORDER},
}

_advance_lock = threading.Lock()


# --- Creating ----------------------------------------------------------------------------


def create_import(*, account: Account, body: Any) -> Activity:
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    rows, list_ids = body.get("import_data"), body.get("list_ids")
    if not isinstance(rows, list) or not rows:
        raise bad_request("'import_data' must be a non-empty array of contacts.")
    if len(rows) > MAX_IMPORT_CONTACTS:
        raise bad_request(f"'import_data' can hold at most {MAX_IMPORT_CONTACTS} contacts.")
    lists = _target_lists(account, list_ids)
    return _queue(account, Activity.IMPORT, {"rows": rows}, lists, total=len(rows))


def create_add_list_memberships(*, account: Account, body: Any) -> Activity:
    if not isinstance(body, dict) or not isinstance(body.get("source"), dict):
        raise bad_request("'source' and 'list_ids' are required.")
    source = body["source"]
    lists = _target_lists(account, body.get("list_ids"))
    if source.get("contact_ids"):
        ids = source["contact_ids"]
        if not isinstance(ids, list) or len(ids) > MAX_SOURCE_CONTACTS:
            raise bad_request(f"'source.contact_ids' can hold at most {MAX_SOURCE_CONTACTS} ids.")
        found = Contact.objects.filter(
            account=account, contact_id__in=[cc.parse_id(str(item)) for item in ids]
        )
    elif source.get("list_ids"):
        sources = cc.lists_by_ids(account=account, list_ids=[str(i) for i in source["list_ids"]])
        found = Contact.objects.filter(account=account, lists__in=sources).distinct()
    else:
        raise bad_request("'source' needs 'contact_ids' or 'list_ids'.")
    contact_pks = list(
        found.filter(deleted_at__isnull=True).order_by("id").values_list("id", flat=True)
    )
    return _queue(
        account,
        Activity.ADD_LIST_MEMBERSHIPS,
        {"contacts": contact_pks},
        lists,
        total=len(contact_pks),
    )


def _target_lists(account: Account, list_ids: Any) -> list[ContactList]:
    if not isinstance(list_ids, list) or not 1 <= len(list_ids) <= MAX_TARGET_LISTS:
        raise bad_request(f"'list_ids' must hold 1 to {MAX_TARGET_LISTS} list ids.")
    return cc.lists_by_ids(account=account, list_ids=[str(item) for item in list_ids])


def _queue(
    account: Account, kind: str, payload: dict, lists: list[ContactList], *, total: int
) -> Activity:
    advance(account=account)
    limit = knobs.get("cc_max_queued_activities")
    if Activity.objects.filter(account=account, state__in=UNFINISHED).count() >= limit:
        raise ApiError(
            429,
            "too_many_requests",
            f"Too many requests. You exceeded {limit:,} queued activities for this user account.",
        )
    now = timezone.now()
    return Activity.objects.create(
        account=account,
        kind=kind,
        payload={**payload, "list_ids": [str(item.list_id) for item in lists]},
        items_total_count=total,
        list_count=len(lists),
        created_at=now,
        updated_at=now,
    )


def delete_list(*, contact_list: ContactList) -> Activity:
    """Deleting a list is an activity at Constant Contact; here it is done at once."""
    now = timezone.now()
    with transaction.atomic():
        contact_list.contacts.clear()
        contact_list.deleted_at = now
        contact_list.save(update_fields=["deleted_at", "updated_at"])
        return Activity.objects.create(
            account=contact_list.account,
            kind=Activity.LIST_DELETE,
            state="completed",
            payload={"list_ids": [str(contact_list.list_id)]},
            items_total_count=1,
            items_completed_count=1,
            list_count=1,
            created_at=now,
            updated_at=now,
            started_at=now,
            completed_at=now,
        )


# --- Reading -----------------------------------------------------------------------------


def activity_json(activity: Activity) -> dict:
    total, done = activity.items_total_count, activity.items_completed_count
    status = {"items_total_count": total, "items_completed_count": done}
    if activity.kind == Activity.IMPORT:
        status.update(
            person_count=activity.person_count,
            error_count=activity.error_count,
            correctable_count=activity.correctable_count,
            cannot_add_to_list_count=activity.cannot_add_to_list_count,
        )
    status["list_count"] = activity.list_count
    body = {
        "activity_id": str(activity.activity_id),
        "state": activity.state,
        "created_at": cc.iso(activity.created_at),
        "updated_at": cc.iso(activity.updated_at),
        "percent_done": 100 if total == 0 else math.floor(100 * done / total),
        "activity_errors": list(activity.activity_errors),
        "status": status,
        "_links": {"self": {"href": f"/v3/activities/{activity.activity_id}"}},
    }
    if activity.started_at:
        body["started_at"] = cc.iso(activity.started_at)
    if activity.completed_at:
        body["completed_at"] = cc.iso(activity.completed_at)
    return body


def get_activity(*, account: Account, activity_id: str) -> Activity:
    advance(account=account)
    found = Activity.objects.filter(account=account, activity_id=cc.parse_id(activity_id)).first()
    if found is None:
        raise ApiError(404, "not_found", "The requested resource was not found.")
    return found


def list_activities(*, account: Account, state: str | None) -> QuerySet[Activity]:
    advance(account=account)
    found = Activity.objects.filter(account=account)
    if state:
        found = found.filter(state=state)
    return found.order_by("-id")


# --- Processing --------------------------------------------------------------------------


def advance(*, account: Account | None = None) -> None:
    """Bring unfinished activities (of one account, or all) up to date, oldest first."""
    with _advance_lock:
        pending = Activity.objects.filter(state__in=UNFINISHED).order_by("id")
        if account is not None:
            pending = pending.filter(account=account)
        rate = knobs.get("cc_import_rate_per_second")
        for activity in pending:
            with transaction.atomic():
                _advance_one(activity, rate=rate, now=timezone.now())


def _advance_one(activity: Activity, *, rate: float, now: datetime) -> None:
    elapsed = (now - activity.created_at).total_seconds()
    total = activity.items_total_count
    target = min(total, math.floor(elapsed * rate))
    if target <= activity.items_completed_count and total > 0:
        return
    start = activity.items_completed_count
    if activity.kind == Activity.IMPORT:
        _import_rows(activity, start, target)
    else:
        _add_memberships(activity, start, target)
    activity.items_completed_count = target
    activity.started_at = activity.started_at or now
    activity.state = "completed" if target >= total else "processing"
    if activity.state == "completed":
        activity.completed_at = now
    activity.updated_at = now
    activity.save()


def _add_memberships(activity: Activity, start: int, end: int) -> None:
    lists = list(ContactList.objects.filter(list_id__in=activity.payload["list_ids"]))
    found = Contact.objects.filter(pk__in=activity.payload["contacts"][start:end])
    members = [c for c in found if c.permission_to_send != "unsubscribed"]
    _link(members, lists)


def _link(members: Sequence[Contact], lists: Sequence[ContactList]) -> None:
    through = Contact.lists.through
    links = [through(contact_id=c.pk, contactlist_id=item.pk) for c in members for item in lists]
    through.objects.bulk_create(links, ignore_conflicts=True, batch_size=BATCH)


@dataclass
class _Row:
    line: int
    email: str
    # "Importing an existing contact only updates the contact properties you include": a
    # property included empty empties it.
    values: dict[str, Any] = field(default_factory=dict)  # contact fields sent
    phones: dict[str, str] = field(default_factory=dict)  # kind -> number ("": none)
    addresses: dict[str, dict[str, str]] = field(default_factory=dict)  # kind -> fields


def _parse_row(line: int, raw: Any) -> _Row | str:
    """A row of the import, or the error that keeps it out."""
    if not isinstance(raw, dict):
        return f"Line {line}: the contact must be a JSON object."
    email = raw.get("email")
    if not cc.valid_email(email):
        return f"Line {line}: the email address is missing or invalid."
    for column, limit in ROW_TEXT_LIMITS.items():
        value = raw.get(column)
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            return f"Line {line}: '{column}' must be text of at most {limit} characters."
    custom = [key for key in raw if key.startswith("cf:")]
    if custom:
        return f"Line {line}: custom field '{custom[0][3:]}' does not exist."
    row = _Row(line=line, email=email.strip())
    row.values = {name: raw[name] for name in cc.NAME_FIELDS if raw.get(name) is not None}
    for column, kind in PHONE_COLUMN_ORDER:
        # Two columns name the "other" kind: an empty one does not undo the other.
        if raw.get(column) is not None and (raw[column] or kind not in row.phones):
            row.phones[kind] = raw[column]
    for prefix, kind in ADDRESS_PREFIXES:
        address = _address(raw, prefix)
        if isinstance(address, str):
            return f"Line {line}: {address}"
        if address or (kind not in row.addresses and _includes_address(raw, prefix)):
            row.addresses[kind] = address
    return row


def _includes_address(raw: dict, prefix: str) -> bool:
    columns = ("street", "street2", *ADDRESS_COLUMNS)
    return any(raw.get(f"{prefix}{column}") is not None for column in columns) or (
        prefix == "home_" and raw.get("home country") is not None
    )


def _address(raw: dict, prefix: str) -> dict[str, str] | str:
    street = " ".join(
        str(raw[f"{prefix}{name}"]) for name in ("street", "street2") if raw.get(f"{prefix}{name}")
    )
    address = {"street": street} if street else {}
    for column, name in ADDRESS_COLUMNS.items():
        # The spec spells one column "home country".
        value = raw.get(f"{prefix}{column}") or (
            raw.get("home country") if prefix == "home_" and column == "country" else None
        )
        if value:
            address[name] = str(value)
    for name, value in address.items():
        if len(value) > cc.ADDRESS_LIMITS[name]:
            return f"'{prefix}{name}' exceeds the maximum length of {cc.ADDRESS_LIMITS[name]}."
    return address


def _import_rows(activity: Activity, start: int, end: int) -> None:
    account = activity.account
    parsed = [
        _parse_row(line + 1, raw)
        for line, raw in enumerate(activity.payload["rows"][start:end], start)
    ]
    rows = [row for row in parsed if isinstance(row, _Row)]
    errors = [row for row in parsed if isinstance(row, str)]
    keys = list({row.email.lower() for row in rows})
    known: dict[str, Contact] = {}
    for offset in range(0, len(keys), BATCH):
        for contact in Contact.objects.filter(
            account=account, email_key__in=keys[offset : offset + BATCH]
        ):
            known[contact.email_key] = contact
    existing_keys = set(known)
    now = timezone.now()
    blocked: set[str] = set()
    for row in rows:
        key = row.email.lower()
        contact = known.get(key)
        if contact is None:
            contact = known[key] = cc.new_contact(
                account=account, email=row.email, source="Account", permission="implicit"
            )
        _apply(contact, row, now=now)
        if contact.permission_to_send == "unsubscribed":
            blocked.add(key)
    new = [known[key] for key in known if key not in existing_keys]
    _insert(new)
    _update([known[key] for key in existing_keys])
    lists = list(ContactList.objects.filter(list_id__in=activity.payload["list_ids"]))
    _link([c for key, c in known.items() if key not in blocked], lists)
    activity.person_count += len(rows)
    activity.error_count += len(errors)
    activity.cannot_add_to_list_count += sum(1 for row in rows if row.email.lower() in blocked)
    activity.activity_errors = [*activity.activity_errors, *errors]


def _run_many(sql: str, contacts: Sequence[Contact], names: Sequence[str]) -> None:
    """One executemany: the ORM's per-value work made 10,000-contact imports take tens of
    seconds."""
    fields = [Contact._meta.get_field(name) for name in names]
    params = [
        [item.get_db_prep_save(getattr(contact, item.attname), connection) for item in fields]
        for contact in contacts
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _insert(contacts: list[Contact]) -> None:
    if not contacts:
        return
    names = [f.name for f in Contact._meta.concrete_fields if f.name != "id"]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(Contact._meta.get_field(name).column) for name in names)
    marks = ", ".join(["%s"] * len(names))
    sql = f"INSERT INTO {quote(Contact._meta.db_table)} ({columns}) VALUES ({marks})"
    _run_many(sql, contacts, names)
    ids = dict(
        Contact.objects.filter(contact_id__in=[c.contact_id for c in contacts]).values_list(
            "contact_id", "id"
        )
    )
    for contact in contacts:
        contact.pk = ids[contact.contact_id]


def _update(contacts: list[Contact]) -> None:
    if not contacts:
        return
    quote = connection.ops.quote_name
    assignments = ", ".join(
        f"{quote(Contact._meta.get_field(name).column)} = %s" for name in _UPDATED_FIELDS
    )
    sql = f"UPDATE {quote(Contact._meta.db_table)} SET {assignments} WHERE id = %s"
    _run_many(sql, contacts, [*_UPDATED_FIELDS, "id"])


_UPDATED_FIELDS = [
    *cc.NAME_FIELDS,
    "phone_numbers",
    "street_addresses",
    "update_source",
    "updated_at",
    "deleted_at",
]


def _apply(contact: Contact, row: _Row, *, now: datetime) -> None:
    """Only the fields the row sends; the permission is never changed by an import."""
    for name, value in row.values.items():
        setattr(contact, name, value)
    if row.phones:
        kept = [p for p in contact.phone_numbers if p.get("kind") not in row.phones]
        sent = [
            {"phone_number": number, "kind": kind} for kind, number in row.phones.items() if number
        ]
        contact.phone_numbers = (
            cc.stamp_items(sent, "phone_number_id", source="Account", now=now) + kept
        )[:3]
    if row.addresses:
        kept = [a for a in contact.street_addresses if a.get("kind") not in row.addresses]
        sent = [{"kind": kind, **fields} for kind, fields in row.addresses.items() if fields]
        contact.street_addresses = (
            cc.stamp_items(sent, "street_address_id", source="Account", now=now) + kept
        )[:3]
    contact.deleted_at = None
    contact.update_source = "Account"
    contact.updated_at = now

"""A JSON contact import's rows: parsed into contact properties (or the error that keeps a
row out), then written in bulk.

As Constant Contact's import help says (knowledge base articles 33113 and 49485: an import
updates the fields it carries with new information, "contact data will always merge"), a
row sets the properties it includes with a value and leaves every other one alone, an empty
value included: nothing promises that an empty value clears a stored one. An import never
changes a contact's permission.

A row's `cf:<custom field name>` keys (at most 25, the spec) set its custom fields. The
spec says the field "must already exist" and not what happens when it does not, nor that a
refused value appears in `activity_errors`: the sandbox stores the rest of the row, leaves
that field's stored value as it was, and reports an activity error for a value whose field
does not exist or refuses it (`rules.check_value`), or, with the knob
`cc_import_custom_field_errors` "silent", says nothing.

A row's `email` is at most 50 characters (the spec's import schema; a contact's address
takes 80 by POST or PUT /contacts): a longer one keeps its row out, with an activity error.

Errors are free text (the spec types `activity_errors` as an array of strings): the knob
`cc_import_error_format` words them as "plain" messages naming no row, "line" ("Line N:",
N counting the contacts from 1) or "line_with_header" ("Line N:", the header of the CSV
that V2 made of a JSON import counted as line 1), the shapes Constant Contact has used.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Field
from django.utils import timezone

from sandbox.constantcontact import contacts, custom_fields, lists, rules, validation
from sandbox.constantcontact.models import Activity, Contact, ContactList, CustomField
from sandbox.constantcontact.validation import ADDRESS_LIMITS, NAME_FIELDS, stamp_items
from sandbox.control import knobs

BATCH = 500
PHONE_COLUMNS = {"home_phone": "home", "work_phone": "work", "mobile_phone": "mobile"}
# Columns without a kind land in "other" (as does other_phone, which wins over phone).
PHONE_COLUMN_ORDER = (("phone", "other"), *PHONE_COLUMNS.items(), ("other_phone", "other"))
ADDRESS_PREFIXES = (("", "other"), ("home_", "home"), ("work_", "work"), ("other_", "other"))
ADDRESS_COLUMNS = {"city": "city", "state": "state", "zip": "postal_code", "country": "country"}
MAX_ROW_CUSTOM_FIELDS = 25
# The spec: an import's `email` is at most 50 characters (a contact's address 80, by POST or
# PUT /contacts).
MAX_IMPORT_EMAIL = 50
ROW_TEXT_LIMITS = {
    "email": MAX_IMPORT_EMAIL,
    **{name: 50 for name in NAME_FIELDS},
    **{column: 25 for column, _ in PHONE_COLUMN_ORDER},
}


@dataclass
class _Row:
    line: int
    email: str
    # Only what the row includes with a value: everything else is left as it is.
    values: dict[str, Any] = field(default_factory=dict)  # contact fields sent
    phones: dict[str, str] = field(default_factory=dict)  # kind -> number
    addresses: dict[str, dict[str, str]] = field(default_factory=dict)  # kind -> fields
    custom: dict[str, str] = field(default_factory=dict)  # custom_field_id -> value
    problems: list["_Refused"] = field(default_factory=list)  # values left out, the row kept


@dataclass(frozen=True)
class _Refused:
    line: int  # the contact's place in import_data, from 1
    reason: str

    def message(self, style: str) -> str:
        if style == "line":
            return f"Line {self.line}: {self.reason}"
        if style == "line_with_header":
            return f"Line {self.line + 1}: {self.reason}"
        return self.reason[:1].upper() + self.reason[1:]


def _parse_row(
    line: int,
    raw: Any,
    *,
    refused_domains: frozenset[str],
    fields: dict[str, CustomField],
    report_custom: bool,
) -> _Row | _Refused:
    """A row of the import, or the error that keeps it out."""
    if not isinstance(raw, dict):
        return _Refused(line, "the contact must be a JSON object.")
    email = raw.get("email")
    if not validation.valid_email(email):
        return _Refused(line, "the email address is missing or invalid.")
    if email.rpartition("@")[2].lower() in refused_domains:
        return _Refused(line, "the email address cannot be imported.")
    for column, limit in ROW_TEXT_LIMITS.items():
        value = raw.get(column)
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            return _Refused(line, f"'{column}' must be text of at most {limit} characters.")
    custom = {key[3:]: value for key, value in raw.items() if key.startswith("cf:")}
    if len(custom) > MAX_ROW_CUSTOM_FIELDS:
        return _Refused(line, f"a contact can have at most {MAX_ROW_CUSTOM_FIELDS} custom fields.")
    row = _Row(line=line, email=email.strip())
    _custom_values(row, custom, fields, report=report_custom)
    row.values = {name: raw[name] for name in NAME_FIELDS if raw.get(name)}
    for column, kind in PHONE_COLUMN_ORDER:
        if raw.get(column):
            row.phones[kind] = raw[column]
    for prefix, kind in ADDRESS_PREFIXES:
        address = _address(raw, prefix)
        if isinstance(address, str):
            return _Refused(line, address)
        if address:
            row.addresses[kind] = {**row.addresses.get(kind, {}), **address}
    return row


def _custom_values(
    row: _Row, sent: dict[str, Any], fields: dict[str, CustomField], *, report: bool
) -> None:
    """The row's custom field values its fields take; those refused are activity errors
    when `report`, else dropped without a word (`cc_import_custom_field_errors`)."""
    refused = []
    for name, value in sent.items():
        found = fields.get(name)
        if found is None:
            refused.append(_Refused(row.line, f"custom field '{name}' does not exist."))
        elif not isinstance(value, str):
            refused.append(_Refused(row.line, f"custom field '{name}' must be a string."))
        elif value:
            try:
                row.custom[str(found.custom_field_id)] = rules.check_value(found, value)
            except ValueError as problem:
                refused.append(_Refused(row.line, f"custom field '{name}' {problem}."))
    if report:
        row.problems += refused


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
        if len(value) > ADDRESS_LIMITS[name]:
            return f"'{prefix}{name}' exceeds the maximum length of {ADDRESS_LIMITS[name]}."
    return address


def import_rows(activity: Activity, start: int, end: int) -> None:
    """Rows `start` to `end` of the import: contacts added or updated, and put on its lists."""
    account = activity.account
    refused_domains = frozenset(d.lower() for d in knobs.get("cc_import_refused_domains"))
    fields = custom_fields.by_name(account)
    report_custom = knobs.get("cc_import_custom_field_errors") == "reported"
    parsed = [
        _parse_row(
            line + 1,
            raw,
            refused_domains=refused_domains,
            fields=fields,
            report_custom=report_custom,
        )
        for line, raw in enumerate(activity.payload["rows"][start:end], start)
    ]
    rows = [row for row in parsed if isinstance(row, _Row)]
    style = knobs.get("cc_import_error_format")
    refused = [row for row in parsed if isinstance(row, _Refused)]
    refused += [problem for row in rows for problem in row.problems]
    errors = [problem.message(style) for problem in sorted(refused, key=lambda p: p.line)]
    keys = list({row.email.lower() for row in rows})
    known: dict[str, Contact] = {}
    for offset in range(0, len(keys), BATCH):
        for stored in Contact.objects.filter(
            account=account, email_key__in=keys[offset : offset + BATCH]
        ):
            known[stored.email_key] = stored
    existing_keys = set(known)
    now = timezone.now()
    blocked: set[str] = set()
    for row in rows:
        key = row.email.lower()
        contact = known.get(key)
        if contact is None:
            contact = known[key] = contacts.new_contact(
                account=account, email=row.email, source="Account", permission="implicit"
            )
        _apply(contact, row, now=now)
        if contact.permission_to_send == "unsubscribed":
            blocked.add(key)
    new = [known[key] for key in known if key not in existing_keys]
    _insert(new)
    _update([known[key] for key in existing_keys])
    targets = list(ContactList.objects.filter(list_id__in=activity.payload["list_ids"]))
    lists.add_members([c for key, c in known.items() if key not in blocked], targets)
    activity.person_count += len(rows)
    activity.error_count += len(errors)
    activity.cannot_add_to_list_count += sum(1 for row in rows if row.email.lower() in blocked)
    activity.activity_errors = [*activity.activity_errors, *errors]


def _concrete(name: str) -> Field:
    found = Contact._meta.get_field(name)
    assert isinstance(found, Field)  # a column of the table, not a reverse relation
    return found


def _column(name: str) -> str:
    column = _concrete(name).column
    assert column is not None  # concrete fields have one
    return column


def _run_many(sql: str, batch: Sequence[Contact], names: Sequence[str]) -> None:
    """One executemany: the ORM's per-value work made 10,000-contact imports take tens of
    seconds."""
    fields = [_concrete(name) for name in names]
    params = [
        [item.get_db_prep_save(getattr(contact, item.attname), connection) for item in fields]
        for contact in batch
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _insert(batch: list[Contact]) -> None:
    if not batch:
        return
    names = [f.name for f in Contact._meta.concrete_fields if f.name != "id"]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(_column(name)) for name in names)
    marks = ", ".join(["%s"] * len(names))
    sql = f"INSERT INTO {quote(Contact._meta.db_table)} ({columns}) VALUES ({marks})"
    _run_many(sql, batch, names)
    ids = dict(
        Contact.objects.filter(contact_id__in=[c.contact_id for c in batch]).values_list(
            "contact_id", "id"
        )
    )
    for contact in batch:
        contact.pk = ids[contact.contact_id]


def _update(batch: list[Contact]) -> None:
    if not batch:
        return
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(_column(name))} = %s" for name in _UPDATED_FIELDS)
    sql = f"UPDATE {quote(Contact._meta.db_table)} SET {assignments} WHERE id = %s"
    _run_many(sql, batch, [*_UPDATED_FIELDS, "id"])


def _fields_of(address: dict | None) -> dict[str, str]:
    """A stored address's own fields (not its id and times), for a row to merge into."""
    wanted = ("street", *ADDRESS_COLUMNS.values())
    return {key: value for key, value in (address or {}).items() if key in wanted}


_UPDATED_FIELDS = [
    *NAME_FIELDS,
    "phone_numbers",
    "street_addresses",
    "custom_fields",
    "update_source",
    "updated_at",
    "deleted_at",
]


def _apply(contact: Contact, row: _Row, *, now: datetime) -> None:
    """Only the fields the row sends a value for; the permission is never changed."""
    for name, value in row.values.items():
        setattr(contact, name, value)
    if row.phones:
        kept = [p for p in contact.phone_numbers if p.get("kind") not in row.phones]
        sent = [{"phone_number": number, "kind": kind} for kind, number in row.phones.items()]
        contact.phone_numbers = (
            stamp_items(sent, "phone_number_id", source="Account", now=now) + kept
        )[:3]
    if row.addresses:
        stored = {a.get("kind"): a for a in contact.street_addresses}
        kept = [a for a in contact.street_addresses if a.get("kind") not in row.addresses]
        sent = [
            {**_fields_of(stored.get(kind)), "kind": kind, **fields}
            for kind, fields in row.addresses.items()
        ]
        contact.street_addresses = (
            stamp_items(sent, "street_address_id", source="Account", now=now) + kept
        )[:3]
    if row.custom:
        kept = [c for c in contact.custom_fields if c.get("custom_field_id") not in row.custom]
        sent = [{"custom_field_id": key, "value": value} for key, value in row.custom.items()]
        contact.custom_fields = kept + sent
    contact.deleted_at = None
    contact.update_source = "Account"
    contact.updated_at = now
